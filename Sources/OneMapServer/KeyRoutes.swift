import Foundation
import Hummingbird
import LayerStore

/// Key management for admins, the same as `onemap keys` on the server's machine:
///
///     GET    /v1/keys            the keys, without secrets
///     POST   /v1/keys            {"role": "approver", "name": "审批系统", "scope": ["331123"]} → the key and its secret, once
///     DELETE /v1/keys/{id|name}  revokes
struct KeyRoutes {
    let keys: any KeyAdministration

    func register(on group: RouterGroup<OneMapRequestContext>) {
        let keys = self.keys
        group.get { _, context -> Response in
            try context.require(.admin, to: "listing keys")
            return try Response.json(object: try await keys.allKeys().map(Self.json))
        }
        group.post { request, context -> Response in
            try context.require(.admin, to: "creating keys")
            let body = try await request.body.collect(upTo: 64 << 10)
            guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
                throw Problem.badBody("malformed body", "send {\"role\": \"viewer|planner|approver|admin\", \"name\": \"…\"}")
            }
            if let unknown = object.keys.sorted().first(where: { !["role", "name", "scope"].contains($0) }) {
                throw Problem.badBody("unknown key", "key '\(unknown)' is not one of: name, role, scope")
            }
            guard let raw = object["role"] as? String, let role = Role(rawValue: raw) else {
                throw Problem.badBody("bad value", "role must be one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if object["name"] != nil && !(object["name"] is String) { throw Problem.badBody("bad value", "name must be a string") }
            let name = object["name"] as? String
            let scope = try Self.scope(object["scope"])
            let (key, secret) = try await keys.makeKey(role: role, name: name, scope: scope)
            var out = Self.json(key)
            out["secret"] = secret
            return try Response.json(object: out, status: .created)
        }
        group.delete(":key") { _, context -> Response in
            try context.require(.admin, to: "revoking keys")
            let raw = try context.parameters.require("key")
            let which = raw.removingPercentEncoding ?? raw
            let key = try await keys.revokeKey(which)
            return try Response.json(object: Self.json(key))
        }
    }

    static func json(_ k: APIKey) -> [String: Any] {
        var o: [String: Any] = ["id": k.id, "name": k.name, "role": k.role.rawValue, "prefix": k.prefix, "createdAt": k.createdAt]
        if let r = k.revokedAt { o["revokedAt"] = r }
        if let s = k.scope { o["scope"] = s.codes }
        return o
    }

    /// `"scope": "331123"` or `["331123", "331121"]`; absent, not limited.
    static func scope(_ value: Any?) throws -> DataScope? {
        guard let value else { return nil }
        let codes = (value as? String).map { [$0] } ?? (value as? [Any])?.compactMap { $0 as? String }
        guard let codes, !codes.isEmpty, codes.count == ((value as? [Any])?.count ?? 1) else {
            throw Problem.badBody("bad value", "scope must be an administrative code or a list of them, e.g. [\"331123\"]")
        }
        do {
            return try DataScope(codes: codes)
        } catch let e as DataScope.InvalidCode {
            throw Problem.badBody("bad value", "scope: \(e.description)")
        }
    }
}

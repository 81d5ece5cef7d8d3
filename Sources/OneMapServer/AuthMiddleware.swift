import Foundation
import Hummingbird
import LayerStore

/// Reads `Authorization: Bearer om_…` and sets the request's caller. No header means an
/// anonymous caller; a header that names no valid key is a 401 at once rather than a quiet
/// downgrade to anonymous, so a client with a mistyped or revoked key finds out.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = OneMapRequestContext
    let keys: KeyRing

    static let challenge: HTTPFields = [.wwwAuthenticate: "Bearer realm=\"OneMap\""]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Problem(.unauthorized, "bad credentials", "send the key as 'Authorization: Bearer om_…'", headers: Self.challenge)
        }
        let secret = parts[1].trimmingCharacters(in: .whitespaces)
        let keys = self.keys
        let lookup = try await Blocking.run { try keys.lookup(secret: secret) }
        var context = context
        switch lookup {
        case .valid(let key):
            context.caller = Caller(keyName: key.name, role: key.role)
            context.logger[metadataKey: "key"] = .string(key.name)
        case .revoked(let key):
            throw Problem(
                .unauthorized, "key revoked", "key '\(key.name)' (\(key.prefix)…) was revoked at \(key.revokedAt ?? "?")",
                headers: [.wwwAuthenticate: "Bearer realm=\"OneMap\", error=\"invalid_token\""])
        case .unknown:
            throw Problem(
                .unauthorized, "unknown key", "the bearer key is not one this server issued",
                headers: [.wwwAuthenticate: "Bearer realm=\"OneMap\", error=\"invalid_token\""])
        }
        return try await next(request, context)
    }
}

extension OneMapRequestContext {
    static func article(_ role: Role) -> String { (role == .viewer ? "a " : "an ") + role.rawValue }

    /// Refuses the request unless the caller holds `role`: 401 without a key (say which key
    /// to get), 403 with a key of a lower role. `open` (`serve --open`) lets anyone through.
    func require(_ role: Role, to action: String, unless open: Bool = false) throws {
        if open || caller.has(role) { return }
        if let held = caller.role {
            throw Problem(
                .forbidden, "role too low",
                "\(action) needs \(Self.article(role)) key; key '\(caller.keyName ?? "?")' is \(Self.article(held)) key")
        }
        throw Problem(
            .unauthorized, "\(role.rawValue) key required",
            "\(action) needs \(Self.article(role)) key (Authorization: Bearer …); `onemap keys create --role \(role.rawValue)` makes one",
            headers: AuthMiddleware.challenge)
    }
}

import Foundation
import LayerStore
import Yams

/// `onemap serve --auth auth.yaml`: which identity provider's tokens the server accepts
/// (the province's 统一身份认证, an OIDC issuer), and how their claims map to OneMap's roles
/// and data scope. `deploy/auth.example.yaml` is a commented example.
public struct AuthConfiguration: Sendable, Equatable {
    /// The `iss` every token must carry, exactly.
    public var issuer: String
    /// The `aud` values accepted: a token must name at least one.
    public var audiences: [String]
    /// Where the issuer's public keys are: a JWKS file path, or an http(s) URL fetched at
    /// start and again when a token names a key it does not hold.
    public var jwks: String
    /// Signature algorithms accepted. Only asymmetric ones can be configured: a server that
    /// accepted HS256 would accept tokens signed with the issuer's *public* key.
    public var algorithms: [String]
    /// Leeway for `exp` and `nbf`, for clocks that disagree a little.
    public var clockSkewSeconds: Double
    /// The claim naming the person, recorded with their checks (default `name`, then `sub`).
    public var nameClaim: String
    /// The claim holding role names (a string or a list; a dotted path reaches into objects,
    /// as Keycloak's `realm_access.roles`).
    public var rolesClaim: String
    /// The claim holding administrative codes the caller's data scope covers (6-digit county
    /// or 9-digit township XZQDM). A token without it is not scoped.
    public var scopeClaim: String
    /// Claim value → OneMap role; the highest role matched applies.
    public var roles: [String: Role]
    /// The one-map page's sign-in button (`viewer_login`); nil, the page takes a pasted token.
    public var viewerLogin: ViewerLogin?

    public static let allowedAlgorithms = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]

    public init(
        issuer: String, audiences: [String], jwks: String, algorithms: [String] = ["RS256", "ES256"], clockSkewSeconds: Double = 60,
        nameClaim: String = "name", rolesClaim: String = "roles", scopeClaim: String = "xzqdm", roles: [String: Role]
    ) {
        self.issuer = issuer
        self.audiences = audiences
        self.jwks = jwks
        self.algorithms = algorithms
        self.clockSkewSeconds = clockSkewSeconds
        self.nameClaim = nameClaim
        self.rolesClaim = rolesClaim
        self.scopeClaim = scopeClaim
        self.roles = roles
    }

    /// Whether `jwks` is fetched over HTTP rather than read from a file.
    public var jwksIsURL: Bool { jwks.hasPrefix("https://") || jwks.hasPrefix("http://") }

    public static func load(file: String) throws -> AuthConfiguration {
        try parse(yaml: try CatalogError.text(of: file), file: file)
    }

    static let keys = ["issuer", "audience", "jwks", "algorithms", "clock_skew_seconds", "claims", "roles", "viewer_login"]
    static let claimKeys = ["name", "roles", "scope"]

    public static func parse(yaml: String, file: String) throws -> AuthConfiguration {
        func fail(_ node: Node?, _ key: String?, _ message: String) -> CatalogError {
            CatalogError(file: file, line: node?.mark?.line, key: key, message: message)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw fail(nil, nil, "not valid YAML: \(error)")
        }
        guard let map = root?.mapping else { throw fail(root, nil, "expected a mapping of keys to values") }
        let e = try entries(map, allowed: keys, path: "", fail: fail)

        func text(_ e: [String: (Node, Node)], _ key: String, path: String = "") throws -> String? {
            guard let (k, v) = e[key] else { return nil }
            guard let s = v.scalar?.string, !s.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw fail(k, path + key, "must be a non-empty text value")
            }
            return s
        }
        func texts(_ key: String) throws -> [String]? {
            guard let (k, v) = e[key] else { return nil }
            if let s = v.scalar?.string, !s.isEmpty { return [s] }
            guard let list = v.sequence, !list.isEmpty else { throw fail(k, key, "must be a text value or a list of them") }
            return try list.map { item in
                guard let s = item.scalar?.string, !s.isEmpty else { throw fail(item, key, "must list text values") }
                return s
            }
        }
        guard let issuer = try text(e, "issuer") else { throw fail(nil, "issuer", "is required (the identity provider's `iss`)") }
        guard let audiences = try texts("audience") else {
            throw fail(nil, "audience", "is required (the `aud` OneMap's tokens are issued for)")
        }
        guard var jwks = try text(e, "jwks") else {
            throw fail(nil, "jwks", "is required (a JWKS file, or the issuer's jwks_uri)")
        }
        if !(jwks.hasPrefix("https://") || jwks.hasPrefix("http://") || jwks.hasPrefix("/")) {
            // A file path resolves against the configuration's folder, as the catalog's sources do.
            let absolute = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
            jwks = ((absolute as NSString).deletingLastPathComponent as NSString).appendingPathComponent(jwks)
        }
        var config = AuthConfiguration(issuer: issuer, audiences: audiences, jwks: jwks, roles: [:])
        if let algorithms = try texts("algorithms") {
            for a in algorithms where !allowedAlgorithms.contains(a) {
                throw fail(
                    e["algorithms"]?.0, "algorithms",
                    "'\(a)' is not accepted; expected some of: \(allowedAlgorithms.joined(separator: ", ")) (symmetric and `none` never are)"
                )
            }
            config.algorithms = algorithms
        }
        if let (k, v) = e["clock_skew_seconds"] {
            guard let s = v.scalar?.string, let seconds = Double(s), seconds >= 0, seconds <= 600 else {
                throw fail(k, "clock_skew_seconds", "must be a number of seconds from 0 to 600")
            }
            config.clockSkewSeconds = seconds
        }
        if let (k, v) = e["claims"] {
            guard let m = v.mapping else { throw fail(k, "claims", "must map name/roles/scope to claim names") }
            let c = try entries(m, allowed: claimKeys, path: "claims", fail: fail)
            if let s = try text(c, "name", path: "claims.") { config.nameClaim = s }
            if let s = try text(c, "roles", path: "claims.") { config.rolesClaim = s }
            if let s = try text(c, "scope", path: "claims.") { config.scopeClaim = s }
        }
        if let (k, v) = e["viewer_login"] {
            guard let m = v.mapping else { throw fail(k, "viewer_login", "must map client_id (and the endpoints) to values") }
            let l = try entries(m, allowed: ViewerLogin.keys, path: "viewer_login", fail: fail)
            config.viewerLogin = try ViewerLogin.parse(l, text: { try text(l, $0, path: "viewer_login.") }, fail: fail)
        }
        guard let roles = e["roles"]?.1.mapping, !roles.isEmpty else {
            throw fail(
                e["roles"]?.0, "roles",
                "is required: map the provider's role names to \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for (k, v) in roles {
            guard let name = k.string, let value = v.scalar?.string else { throw fail(k, "roles", "must map text to text") }
            guard let role = Role(rawValue: value) else {
                throw fail(v, "roles.\(name)", "'\(value)' is not one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            config.roles[name] = role
        }
        return config
    }

    private static func entries(
        _ map: Node.Mapping, allowed: [String], path: String, fail: (Node?, String?, String) -> CatalogError
    ) throws -> [String: (Node, Node)] {
        var out: [String: (Node, Node)] = [:]
        for (k, v) in map {
            guard let key = k.string else { throw fail(k, nil, "keys must be text") }
            let full = path.isEmpty ? key : "\(path).\(key)"
            guard allowed.contains(key) else { throw fail(k, full, "unknown key; expected one of: \(allowed.joined(separator: ", "))") }
            guard out[key] == nil else { throw fail(k, full, "given twice") }
            out[key] = (k, v)
        }
        return out
    }
}

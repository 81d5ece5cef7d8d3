import Foundation
import Hummingbird
import Identity
import LayerStore

/// Reads `Authorization: Bearer …` and sets the request's caller: an API key (`om_…`), or,
/// with `serve --auth`, a token from the city's identity provider. No header means an
/// anonymous caller; a header that names no valid key or token is a 401 at once rather than
/// a quiet downgrade to anonymous, so a client with a mistyped, revoked or expired one finds out.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = OneMapRequestContext
    let keys: KeyRing
    let tokens: TokenVerifier?

    static let challenge: HTTPFields = [.wwwAuthenticate: "Bearer realm=\"OneMap\""]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        guard let secret = Self.bearer(header) else {
            throw Problem(.unauthorized, "bad credentials", "send the key as 'Authorization: Bearer om_…'", headers: Self.challenge)
        }
        if let tokens, !secret.hasPrefix(KeyRing.secretPrefix) {
            // A token seen before is answered here, without a call that may leave the thread.
            if let seen = tokens.remembered(secret) { return try await next(request, Self.signedIn(seen, context: context)) }
            return try await next(request, try await Self.signedIn(secret, tokens: tokens, context: context))
        }
        let keys = self.keys
        // A key seen lately is answered here, as a token is; else the keys are read off the thread.
        let lookup: KeyRing.Lookup
        if let known = keys.remembered(secret: secret) {
            lookup = known
        } else {
            lookup = try await Blocking.run { try keys.lookup(secret: secret) }
        }
        var context = context
        switch lookup {
        case .valid(let key):
            context.caller = key.caller
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

    /// The credential of `Bearer <credential>` (the scheme in any case, RFC 7235), spaces
    /// around it dropped; nil for another scheme or none. Read as bytes: Foundation's trimming
    /// goes through UTF-16, which cost a 600-byte token's every tile a fifth of its time.
    static func bearer(_ header: String) -> String? {
        var bytes = Substring(header).utf8[...]
        let scheme = Array("bearer".utf8)
        while bytes.first == 0x20 { bytes = bytes.dropFirst() }
        guard bytes.count > scheme.count,
            zip(bytes.prefix(scheme.count), scheme).allSatisfy({ $0 | 0x20 == $1 }),
            bytes.dropFirst(scheme.count).first == 0x20
        else { return nil }
        bytes = bytes.dropFirst(scheme.count)
        while bytes.first == 0x20 || bytes.first == 0x09 { bytes = bytes.dropFirst() }
        while bytes.last == 0x20 || bytes.last == 0x09 { bytes = bytes.dropLast() }
        guard !bytes.isEmpty else { return nil }
        return String(Substring(bytes))
    }

    /// The context with the caller a token names; a refused token is a 401 whose
    /// `WWW-Authenticate` and log line both say which check failed.
    static func signedIn(_ token: String, tokens: TokenVerifier, context: Context) async throws -> Context {
        do {
            return signedIn(try await tokens.verify(token), context: context)
        } catch let refused as TokenRejected {
            context.logger.notice("bearer token refused (\(refused.check.rawValue)): \(refused.description)")
            let quoted = refused.description.replacingOccurrences(of: "\\", with: "").replacingOccurrences(of: "\"", with: "'")
            throw Problem(
                .unauthorized, "invalid token", refused.description,
                headers: [.wwwAuthenticate: "Bearer realm=\"OneMap\", error=\"invalid_token\", error_description=\"\(quoted)\""])
        }
    }

    static func signedIn(_ identity: TokenIdentity, context: Context) -> Context {
        var context = context
        context.caller = identity.caller
        context.logger[metadataKey: "sub"] = .string(identity.subject)
        return context
    }
}

extension OneMapRequestContext {
    static func article(_ role: Role) -> String { (role == .approver || role == .admin ? "an " : "a ") + role.rawValue }

    /// Refuses the request unless the caller holds `role`: 401 without a key (say which key
    /// to get), 403 with a key of a lower role. `open` (`serve --open`) lets anyone through.
    func require(_ role: Role, to action: String, unless open: Bool = false) throws {
        if open || caller.has(role) { return }
        if caller.role == nil, let subject = caller.subject {
            throw Problem(
                .forbidden, "no role",
                "\(action) needs \(Self.article(role)) role; '\(caller.keyName ?? subject)' is signed in but holds no OneMap role")
        }
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

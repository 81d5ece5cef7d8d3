import Foundation
import JWTKit
import LayerStore
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Checks bearer tokens from the configured identity provider and says who holds them.
///
/// The signature is checked by jwt-kit against the provider's published keys (JWKS); the
/// header and the claims are checked here, so that a refusal names the check that failed
/// (`TokenRejected.check`). A token that passed is remembered until it expires, so a client
/// that sends the same token with every tile pays for its signature once.
public final class TokenVerifier: Sendable {
    public let configuration: AuthConfiguration
    private let keys: Mutex<(collection: JWTKeyCollection, kids: Set<String>)>
    private let passed = Mutex<[String: Passed]>([:])
    /// When the keys were last fetched: an unknown `kid` fetches them again, at most once a
    /// minute, so a stream of made-up key ids cannot make the server hammer the provider.
    private let fetchedAt = Mutex<Date>(.distantPast)
    static let refetchSeconds = 60.0
    /// Most tokens remembered; past this, the expired ones are dropped, then all.
    static let rememberedLimit = 20_000

    struct Passed {
        let identity: TokenIdentity
        let expires: Double
    }

    private init(configuration: AuthConfiguration, collection: JWTKeyCollection, kids: Set<String>) {
        self.configuration = configuration
        keys = Mutex((collection, kids))
    }

    /// Reads the keys (the file, or the URL) and makes the verifier; throws with what is
    /// wrong with them, so a server with a bad configuration does not start.
    /// The verifier of `configuration`'s tokens, with the provider's keys fetched (and the
    /// viewer's sign-in endpoints, when auth.yaml does not give them).
    public static func make(_ configuration: AuthConfiguration) async throws -> TokenVerifier {
        var configuration = configuration
        if let login = configuration.viewerLogin, login.needsDiscovery {
            configuration.viewerLogin = try await login.discovered(issuer: configuration.issuer)
        }
        let (collection, kids) = try await loadKeys(configuration)
        let verifier = TokenVerifier(configuration: configuration, collection: collection, kids: kids)
        verifier.fetchedAt.withLock { $0 = Date() }
        return verifier
    }

    /// How many keys the provider's JWKS holds now (for the start-up line).
    public var keyCount: Int { keys.withLock { $0.kids.count } }

    /// Who holds `token`, if it passed before and has not expired since; nil when it must be
    /// checked (`verify`). Synchronous: a token seen before needs no key, no network and no
    /// suspension, and every tile of a signed-in map asks this.
    public func remembered(_ token: String, now: Date = Date()) -> TokenIdentity? {
        guard let p = passed.withLock({ $0[token] }), now.timeIntervalSince1970 <= p.expires else { return nil }
        return p.identity
    }

    /// Who holds `token`; throws `TokenRejected` saying which check failed.
    public func verify(_ token: String, now: Date = Date()) async throws -> TokenIdentity {
        if let seen = remembered(token, now: now) { return seen }
        let clock = now.timeIntervalSince1970
        let parsed: (header: JWTHeader, payload: TokenClaims, signature: Data)
        do {
            parsed = try DefaultJWTParser().parse(Array(token.utf8), as: TokenClaims.self)
        } catch {
            throw TokenRejected(.malformed, "not a JWT (header.payload.signature, base64url JSON)")
        }
        let alg = parsed.header.alg ?? "none"
        guard configuration.algorithms.contains(alg) else {
            throw TokenRejected(
                .algorithm, "alg '\(alg)' is not accepted; this server accepts \(configuration.algorithms.joined(separator: ", "))")
        }
        let collection = try await collection(for: parsed.header.kid, now: now)
        let claims: TokenClaims
        do {
            claims = try await collection.verify(Array(token.utf8), as: TokenClaims.self)
        } catch {
            throw TokenRejected(.signature, "the signature does not verify with the issuer's key '\(parsed.header.kid ?? "default")'")
        }
        let identity = try check(claims, clock: clock)
        let expires = (claims.seconds("exp") ?? clock) + configuration.clockSkewSeconds
        remember(token, Passed(identity: identity, expires: expires), clock: clock)
        return identity
    }

    /// The keys to check a token whose header names `kid` against, fetched again once when
    /// the kid is unknown (the provider rotated its keys).
    private func collection(for kid: String?, now: Date) async throws -> JWTKeyCollection {
        let (collection, kids) = keys.withLock { $0 }
        guard let kid else {
            // Without a kid, only a provider with one key is unambiguous.
            guard kids.count == 1 else {
                throw TokenRejected(.unknownKey, "the token names no key (kid) and the issuer has \(kids.count)")
            }
            return collection
        }
        if kids.contains(kid) { return collection }
        let due = fetchedAt.withLock { last -> Bool in
            guard configuration.jwksIsURL, now.timeIntervalSince(last) >= Self.refetchSeconds else { return false }
            last = now
            return true
        }
        if due, let fresh = try? await Self.loadKeys(configuration) {
            keys.withLock { $0 = fresh }
            if fresh.kids.contains(kid) { return fresh.collection }
        }
        throw TokenRejected(.unknownKey, "the issuer has no key '\(kid)'")
    }

    /// The claims' checks, in the order a reader expects them named.
    private func check(_ claims: TokenClaims, clock: Double) throws -> TokenIdentity {
        let c = configuration
        guard case .text(let iss) = claims.values["iss"], iss == c.issuer else {
            throw TokenRejected(.issuer, "iss '\(claims.texts(at: "iss").first ?? "")' is not the configured issuer '\(c.issuer)'")
        }
        let audiences = claims.texts(at: "aud")
        guard audiences.contains(where: c.audiences.contains) else {
            throw TokenRejected(.audience, "aud \(audiences) names none of \(c.audiences)")
        }
        guard let exp = claims.seconds("exp") else { throw TokenRejected(.expired, "the token has no exp") }
        guard clock <= exp + c.clockSkewSeconds else { throw TokenRejected(.expired, "the token expired at \(Self.date(exp))") }
        if let nbf = claims.seconds("nbf"), clock < nbf - c.clockSkewSeconds {
            throw TokenRejected(.notYetValid, "the token is not valid before \(Self.date(nbf))")
        }
        guard let subject = claims.texts(at: "sub").first, !subject.isEmpty else {
            throw TokenRejected(.subject, "the token names no subject (sub)")
        }
        let role = claims.texts(at: c.rolesClaim).compactMap { c.roles[$0] }.max()
        let codes = claims.texts(at: c.scopeClaim)
        let scope: DataScope?
        if codes.isEmpty {
            scope = nil
        } else {
            do {
                scope = try DataScope(codes: codes)
            } catch let e as DataScope.InvalidCode {
                throw TokenRejected(.scope, "claim '\(c.scopeClaim)': \(e.description)")
            }
        }
        return TokenIdentity(
            subject: subject, name: claims.texts(at: c.nameClaim).first, issuer: iss, role: role, scope: scope)
    }

    private func remember(_ token: String, _ p: Passed, clock: Double) {
        passed.withLock { passed in
            if passed.count >= Self.rememberedLimit {
                passed = passed.filter { $0.value.expires >= clock }
                if passed.count >= Self.rememberedLimit { passed.removeAll() }
            }
            passed[token] = p
        }
    }

    static func loadKeys(_ c: AuthConfiguration) async throws -> (collection: JWTKeyCollection, kids: Set<String>) {
        let data: Data
        if c.jwksIsURL {
            data = try await ProviderFetch.data(c.jwks, for: "jwks")
        } else {
            guard let d = FileManager.default.contents(atPath: c.jwks) else {
                throw AuthConfigurationError("jwks: cannot read \(c.jwks)")
            }
            data = d
        }
        // Key types jwt-kit cannot read would fail its decoding with a message about its
        // internals; a shared secret ("oct") must never verify tokens anyway.
        let listed = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["keys"] as? [[String: Any]] ?? []
        for (i, key) in listed.enumerated() where !["RSA", "EC"].contains(key["kty"] as? String ?? "") {
            throw AuthConfigurationError(
                "jwks: \(c.jwks) key \(i) is of type '\(key["kty"] as? String ?? "none")'; only RSA and EC public keys are accepted")
        }
        let jwks: JWKS
        do {
            jwks = try JSONDecoder().decode(JWKS.self, from: data)
        } catch {
            throw AuthConfigurationError("jwks: \(c.jwks) is not a JSON Web Key Set ({\"keys\": […]}): \(error)")
        }
        let collection = JWTKeyCollection()
        var kids: Set<String> = []
        for (i, key) in jwks.keys.enumerated() {
            guard key.keyType == .rsa || key.keyType == .ecdsa else {
                throw AuthConfigurationError("jwks: \(c.jwks) key \(i) is of type \(key.keyType); only RSA and EC public keys are accepted")
            }
            guard let kid = key.keyIdentifier?.string else { throw AuthConfigurationError("jwks: \(c.jwks) key \(i) has no kid") }
            do {
                try await collection.add(jwk: key)
            } catch {
                throw AuthConfigurationError("jwks: \(c.jwks) key '\(kid)' cannot be used: \(error)")
            }
            kids.insert(kid)
        }
        guard !kids.isEmpty else { throw AuthConfigurationError("jwks: \(c.jwks) holds no key") }
        return (collection, kids)
    }

    static func date(_ seconds: Double) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: seconds))
    }
}

/// Who a verified token names.
public struct TokenIdentity: Sendable, Equatable {
    public let subject: String
    public let name: String?
    public let issuer: String
    /// The highest OneMap role its role claims map to; nil when none does.
    public let role: Role?
    /// The administrative areas its data is limited to; nil when not scoped.
    public let scope: DataScope?
    /// The caller this identity is to the rest of OneMap; records name it `sso:NAME (SUBJECT)`.
    /// Made once, as the identity is remembered with its token.
    public let caller: Caller

    init(subject: String, name: String?, issuer: String, role: Role?, scope: DataScope?) {
        self.subject = subject
        self.name = name
        self.issuer = issuer
        self.role = role
        self.scope = scope
        caller = Caller(keyName: "sso:" + (name.map { "\($0) (\(subject))" } ?? subject), role: role, scope: scope, subject: subject)
    }
}

/// The configuration could not be used (its keys unreadable); the server does not start.
public struct AuthConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A bearer token refused: 401, with `description` as the `error_description`.
public struct TokenRejected: Error, CustomStringConvertible, Equatable {
    public enum Check: String, Sendable {
        case malformed, algorithm, unknownKey = "kid", signature, issuer, audience, expired, notYetValid = "nbf", subject, scope
    }
    public let check: Check
    public let description: String
    init(_ check: Check, _ description: String) {
        self.check = check
        self.description = description
    }
}

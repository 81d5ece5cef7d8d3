import Crypto
import Foundation
import Identity
import JWTKit
import _CryptoExtras

/// An identity provider made by the tests: its own RSA and EC keys, its JWKS file, and
/// tokens with chosen claims, so everything runs offline and nothing in the server is mocked.
struct TestIssuer: Sendable {
    static let issuer = "https://sso.test.lishui/realms/onemap"
    let directory: String
    let jwksPath: String
    let rsa: JWTKit.Insecure.RSA.PrivateKey
    let ec: ES256PrivateKey
    /// Signs with the keys the JWKS publishes (kid "rsa-1", "ec-1").
    let signers: JWTKeyCollection

    static func make() async throws -> TestIssuer {
        let directory = NSTemporaryDirectory() + "onemap-idp-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let rsa = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let ec = ES256PrivateKey()
        let signers = JWTKeyCollection()
        await signers.add(rsa: rsa, digestAlgorithm: .sha256, kid: "rsa-1")
        await signers.add(ecdsa: ec, kid: "ec-1")
        let issuer = TestIssuer(directory: directory, jwksPath: directory + "/jwks.json", rsa: rsa, ec: ec, signers: signers)
        try issuer.jwks(["rsa-1", "ec-1"]).write(toFile: issuer.jwksPath, atomically: true, encoding: .utf8)
        return issuer
    }

    /// The public keys as a JWKS, under these kids (the first RSA, the second EC).
    func jwks(_ kids: [String]) throws -> String {
        let (n, e) = try rsa.publicKey.getKeyPrimitives()
        guard let p = ec.publicKey.parameters else { throw CocoaError(.coderInvalidValue) }
        return """
            {"keys": [
              {"kty": "RSA", "kid": "\(kids[0])", "use": "sig", "alg": "RS256", "n": "\(Self.base64URL(n))", "e": "\(Self.base64URL(e))"},
              {"kty": "EC", "kid": "\(kids[1])", "use": "sig", "alg": "ES256", "crv": "P-256", "x": "\(Self.url(p.x))", "y": "\(Self.url(p.y))"}
            ]}
            """
    }

    func configuration(audience: String = "onemap") -> AuthConfiguration {
        AuthConfiguration(
            issuer: Self.issuer, audiences: [audience], jwks: jwksPath, clockSkewSeconds: 30, rolesClaim: "realm_access.roles",
            roles: ["om-viewer": .viewer, "om-planner": .planner, "om-approver": .approver, "om-admin": .admin])
    }

    /// A token for `sub` with these roles and scope, valid from a minute ago for an hour
    /// unless `exp`/`nbf` say otherwise; `extra` claims replace the defaults.
    func token(
        sub: String = "u-1001", name: String? = "张三", roles: [String] = ["om-viewer"], xzqdm: [String]? = nil, kid: String = "rsa-1",
        now: Date = Date(), extra: [String: Any] = [:]
    ) async throws -> String {
        var claims: [String: Any] = [
            "iss": Self.issuer, "aud": "onemap", "sub": sub, "exp": now.timeIntervalSince1970 + 3600,
            "nbf": now.timeIntervalSince1970 - 60, "iat": now.timeIntervalSince1970 - 60, "realm_access": ["roles": roles]
        ]
        if let name { claims["name"] = name }
        if let xzqdm { claims["xzqdm"] = xzqdm }
        for (k, v) in extra { claims[k] = v }
        let payload = try JSONDecoder().decode(Payload.self, from: JSONSerialization.data(withJSONObject: claims))
        return try await signers.sign(payload, kid: JWKIdentifier(string: kid))
    }

    /// A token whose header and signature are made by hand, for what no honest signer makes:
    /// `alg: none`, or HS256 keyed with the issuer's public key.
    func forged(alg: String, kid: String = "rsa-1", signature: (Data) -> Data) throws -> String {
        let header = Self.url(try JSONSerialization.data(withJSONObject: ["alg": alg, "typ": "JWT", "kid": kid]))
        let now = Date().timeIntervalSince1970
        let body = Self.url(
            try JSONSerialization.data(withJSONObject: [
                "iss": Self.issuer, "aud": "onemap", "sub": "mallory", "exp": now + 3600, "realm_access": ["roles": ["om-admin"]]
            ]))
        let input = Data("\(header).\(body)".utf8)
        return "\(header).\(body).\(Self.url(signature(input)))"
    }

    /// The RSA public key as PEM text: what an attacker keys HS256 with.
    var publicPEM: String { rsa.publicKey.pemRepresentation }

    static func url(_ d: Data) -> String {
        d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
    static func url(_ s: String) -> String {
        // ECDSAParameters give standard base64.
        s.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
    static func base64URL(_ d: Data) -> String { url(d) }

    /// Any JSON object, as jwt-kit signs it.
    struct Payload: JWTPayload {
        var claims: [String: AnyJSON]
        init(from decoder: any Decoder) throws { claims = try [String: AnyJSON](from: decoder) }
        func encode(to encoder: any Encoder) throws { try claims.encode(to: encoder) }
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    indirect enum AnyJSON: Codable, Sendable {
        case s(String), n(Double), b(Bool), a([AnyJSON]), o([String: AnyJSON])
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) {
                self = .b(b)
            } else if let n = try? c.decode(Double.self) {
                self = .n(n)
            } else if let s = try? c.decode(String.self) {
                self = .s(s)
            } else if let a = try? c.decode([AnyJSON].self) {
                self = .a(a)
            } else {
                self = .o(try c.decode([String: AnyJSON].self))
            }
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .s(let v): try c.encode(v)
            case .n(let v): try c.encode(v)
            case .b(let v): try c.encode(v)
            case .a(let v): try c.encode(v)
            case .o(let v): try c.encode(v)
            }
        }
    }
}

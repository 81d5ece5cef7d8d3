import Crypto
import Foundation
import Identity
import LayerStore
import Testing

struct TokenVerifierTests {
    @Test func goodTokensNameTheirHolderRoleAndScope() async throws {
        let idp = try await TestIssuer.make()
        let verifier = try await TokenVerifier.make(idp.configuration())
        #expect(verifier.keyCount == 2)
        let rs = try await verifier.verify(try await idp.token(roles: ["om-planner", "other"], xzqdm: ["331123"]))
        #expect(rs.subject == "u-1001" && rs.name == "张三" && rs.issuer == TestIssuer.issuer)
        #expect(rs.role == .planner)
        #expect(rs.scope?.codes == ["331123"])
        #expect(rs.caller.keyName == "sso:张三 (u-1001)" && rs.caller.scope?.codes == ["331123"])
        // ES256, several roles (the highest applies), no scope claim: not scoped.
        let es = try await verifier.verify(try await idp.token(sub: "u-2", name: nil, roles: ["om-viewer", "om-admin"], kid: "ec-1"))
        #expect(es.role == .admin && es.scope == nil && es.caller.keyName == "sso:u-2")
        // A role the configuration does not map gives no role, not an error.
        #expect(try await verifier.verify(try await idp.token(roles: ["someone-else"])).role == nil)
        // A number as XZQDM, as some providers send it.
        let numeric = try await verifier.verify(try await idp.token(extra: ["xzqdm": 331121]))
        #expect(numeric.scope?.codes == ["331121"])
    }

    /// Every way a token can be wrong, each refused with the check that failed named.
    @Test func badTokensAreRefusedNamingTheCheck() async throws {
        let idp = try await TestIssuer.make()
        let verifier = try await TokenVerifier.make(idp.configuration())
        let now = Date()
        func refusal(_ token: String, at: Date = Date()) async -> TokenRejected.Check? {
            do {
                _ = try await verifier.verify(token, now: at)
                return nil
            } catch let e as TokenRejected {
                return e.check
            } catch {
                return nil
            }
        }
        #expect(await refusal(try await idp.token(now: now.addingTimeInterval(-7200))) == .expired)
        #expect(await refusal(try await idp.token(extra: ["nbf": now.timeIntervalSince1970 + 600])) == .notYetValid)
        // Within the clock skew (30 s), a token just expired or not quite valid yet passes.
        #expect(await refusal(try await idp.token(extra: ["exp": now.timeIntervalSince1970 - 10])) == nil)
        #expect(await refusal(try await idp.token(extra: ["nbf": now.timeIntervalSince1970 + 10])) == nil)
        #expect(await refusal(try await idp.token(extra: ["iss": "https://evil.example/realms/onemap"])) == .issuer)
        #expect(await refusal(try await idp.token(extra: ["aud": ["other-app"]])) == .audience)
        #expect(await refusal(try await idp.token(extra: ["exp": "tomorrow"])) == .expired)
        #expect(await refusal(try await idp.token(extra: ["sub": ""])) == .subject)
        #expect(await refusal(try await idp.token(xzqdm: ["33112"])) == .scope)
        #expect(await refusal("not.a.jwt") == .malformed)
        #expect(await refusal("") == .malformed)
        // alg none, with and without a signature.
        #expect(await refusal(try idp.forged(alg: "none") { _ in Data() }) == .algorithm)
        // HS256 keyed with the issuer's public key: the classic confusion attack.
        let hs = try idp.forged(alg: "HS256") { input in
            Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: Data(idp.publicPEM.utf8))))
        }
        #expect(await refusal(hs) == .algorithm)
        // An RS256 header over a signature made by another key.
        let stranger = try await TestIssuer.make()
        #expect(await refusal(try await stranger.token()) == .signature)
        #expect(await refusal(try await stranger.token(kid: "ec-1")) == .signature)
        // A key id the issuer never published.
        let otherKid = try await idp.forgedKid("rsa-404")
        #expect(await refusal(otherKid) == .unknownKey)
        // A tampered payload (a role raised) fails its signature.
        let good = try await idp.token(roles: ["om-viewer"])
        let parts = good.split(separator: ".").map(String.init)
        let raised = TestIssuer.url(
            Data(String(decoding: Data(base64URL: parts[1])!, as: UTF8.self).replacingOccurrences(of: "om-viewer", with: "om-admin").utf8))
        #expect(await refusal("\(parts[0]).\(raised).\(parts[2])") == .signature)
    }

    /// A token that passed is remembered, but not past its expiry.
    @Test func passedTokensAreRememberedUntilTheyExpire() async throws {
        let idp = try await TestIssuer.make()
        let verifier = try await TokenVerifier.make(idp.configuration())
        let now = Date()
        let token = try await idp.token(now: now, extra: ["exp": now.timeIntervalSince1970 + 120])
        _ = try await verifier.verify(token, now: now)
        // The JWKS is gone: a remembered token needs no key.
        try FileManager.default.removeItem(atPath: idp.jwksPath)
        #expect(try await verifier.verify(token, now: now.addingTimeInterval(60)).subject == "u-1001")
        await #expect(throws: TokenRejected.self) { try await verifier.verify(token, now: now.addingTimeInterval(200)) }
    }

    /// What parsing `yaml` as auth.yaml says is wrong with it; "" when nothing is.
    func message(_ yaml: String) -> String {
        do {
            _ = try AuthConfiguration.parse(yaml: yaml, file: "auth.yaml")
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func configurationErrorsNameTheKey() throws {
        let good = """
            issuer: https://sso.example/realms/x
            audience: [onemap, onemap-web]
            jwks: keys/jwks.json
            claims: {roles: groups, scope: XZQDM}
            roles: {g-plan: planner, g-admin: admin}
            """
        let c = try AuthConfiguration.parse(yaml: good, file: "/etc/onemap/auth.yaml")
        #expect(c.audiences == ["onemap", "onemap-web"] && c.jwks == "/etc/onemap/keys/jwks.json")
        #expect(c.rolesClaim == "groups" && c.scopeClaim == "XZQDM" && c.roles == ["g-plan": .planner, "g-admin": .admin])
        #expect(c.algorithms == ["RS256", "ES256"] && c.clockSkewSeconds == 60)
        #expect(message(good + "\nalgorithms: [RS256, HS256]").contains("key 'algorithms': 'HS256' is not accepted"))
        #expect(message(good + "\nalgorithms: none").contains("'none' is not accepted"))
        #expect(message(good.replacingOccurrences(of: "planner", with: "boss")).contains("key 'roles.g-plan': 'boss' is not one of"))
        #expect(message(good + "\nissuers: x").contains("key 'issuers': unknown key"))
        #expect(
            message(good.replacingOccurrences(of: "issuer: https://sso.example/realms/x\n", with: "")).contains("key 'issuer': is required")
        )
        #expect(message(good + "\nclock_skew_seconds: -5").contains("clock_skew_seconds"))
        #expect(message("issuer: [").contains("auth.yaml: not valid YAML"))
        #expect(message(good).isEmpty)
    }

    @Test func theViewersSignInIsConfiguredWithItsErrorsNamed() async throws {
        let base = """
            issuer: https://sso.example/realms/x
            audience: onemap
            jwks: keys/jwks.json
            roles: {g-plan: planner}
            """
        let given = try AuthConfiguration.parse(
            yaml: base + """

                viewer_login:
                  client_id: onemap-viewer
                  authorization_endpoint: https://sso.example/auth
                  token_endpoint: https://sso.example/token
                  token: id_token
                """, file: "auth.yaml")
        #expect(
            given.viewerLogin
                == ViewerLogin(
                    clientID: "onemap-viewer", authorizationEndpoint: "https://sso.example/auth",
                    tokenEndpoint: "https://sso.example/token",
                    scope: "openid profile", token: "id_token"))
        #expect(try AuthConfiguration.parse(yaml: base, file: "auth.yaml").viewerLogin == nil)
        // The README's example parses, as it is.
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/auth.example.yaml").path
        let documented = try AuthConfiguration.load(file: example)
        #expect(documented.viewerLogin?.clientID == "onemap-viewer" && documented.viewerLogin?.needsDiscovery == true)
        #expect(message(base + "\nviewer_login: {scope: openid}").contains("key 'viewer_login.client_id': is required"))
        #expect(message(base + "\nviewer_login: {client_id: v, token: refresh_token}").contains("key 'viewer_login.token'"))
        #expect(message(base + "\nviewer_login: {client_id: v, scope: profile}").contains("must include openid"))
        #expect(message(base + "\nviewer_login: {client_id: v, token_endpoint: /token}").contains("is not an http(s) URL"))
        #expect(message(base + "\nviewer_login: {client_id: v, redirect: x}").contains("key 'viewer_login.redirect': unknown key"))
        #expect(message(base + "\nviewer_login: v").contains("key 'viewer_login'"))

        // Endpoints not given come from the provider's discovery document, at start: a provider
        // that cannot be reached stops the server, saying so.
        let idp = try await TestIssuer.make()
        var away = idp.configuration()
        away.issuer = "http://127.0.0.1:1/realms/x"
        away.viewerLogin = ViewerLogin(clientID: "onemap-viewer")
        await #expect {
            _ = try await TokenVerifier.make(away)
        } throws: { error in
            "\(error)".contains("viewer_login: http://127.0.0.1:1/realms/x/.well-known/openid-configuration could not be fetched")
        }
    }

    @Test func unusableKeysStopTheServerFromStarting() async throws {
        let idp = try await TestIssuer.make()
        for (text, expected) in [
            ("{\"keys\": []}", "holds no key"), ("not json", "is not a JSON Web Key Set"),
            ("{\"keys\": [{\"kty\": \"oct\", \"kid\": \"s\", \"k\": \"c2VjcmV0\"}]}", "only RSA and EC public keys")
        ] {
            try text.write(toFile: idp.jwksPath, atomically: true, encoding: .utf8)
            await #expect {
                _ = try await TokenVerifier.make(idp.configuration())
            } throws: { error in
                "\(error)".contains(expected)
            }
        }
    }
}

extension TestIssuer {
    /// A well-signed token whose header names a kid the JWKS does not have.
    func forgedKid(_ kid: String) async throws -> String {
        let good = try await token(kid: "rsa-1")
        let parts = good.split(separator: ".").map(String.init)
        let header = TestIssuer.url(Data(#"{"alg":"RS256","typ":"JWT","kid":"\#(kid)"}"#.utf8))
        return "\(header).\(parts[1]).\(parts[2])"
    }
}

extension Data {
    init?(base64URL s: String) {
        var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        self.init(base64Encoded: b)
    }
}

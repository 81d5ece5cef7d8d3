import Foundation
import LayerStore
import Yams

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The one-map page's sign-in through the identity provider (`viewer_login` in auth.yaml): an
/// OpenID Connect authorization-code login with PKCE, as a public client (the page holds no
/// secret). The page sends the person to the provider, takes the code it returns, and trades it
/// for a token at the provider's token endpoint; OneMap only tells the page where those are
/// (`GET /v1/auth/login`) and verifies the token the page then sends, as any other.
public struct ViewerLogin: Sendable, Equatable {
    /// The page's client id at the provider (a public client, with the page's address as a
    /// redirect URI and its origin allowed for the token request).
    public var clientID: String
    /// Where the page sends the person to sign in; from the provider's discovery document
    /// (`{issuer}/.well-known/openid-configuration`) when not given.
    public var authorizationEndpoint: String?
    /// Where the page trades the code for tokens; discovered when not given.
    public var tokenEndpoint: String?
    /// Where signing out of OneMap also signs out of the provider, when it has one.
    public var endSessionEndpoint: String?
    /// The scopes asked for.
    public var scope: String
    /// Which token of the provider's answer the page sends to OneMap: `access_token` (whose
    /// `aud` the provider sets for OneMap) or `id_token` (whose `aud` is the client id).
    public var token: String

    public init(
        clientID: String, authorizationEndpoint: String? = nil, tokenEndpoint: String? = nil, endSessionEndpoint: String? = nil,
        scope: String = "openid profile", token: String = "access_token"
    ) {
        self.clientID = clientID
        self.authorizationEndpoint = authorizationEndpoint
        self.tokenEndpoint = tokenEndpoint
        self.endSessionEndpoint = endSessionEndpoint
        self.scope = scope
        self.token = token
    }

    static let keys = ["client_id", "authorization_endpoint", "token_endpoint", "end_session_endpoint", "scope", "token"]
    static let tokens = ["access_token", "id_token"]

    /// From the `viewer_login` mapping of auth.yaml; `text` reads a key's text value.
    static func parse(_ e: [String: (Node, Node)], text: (String) throws -> String?, fail: (Node?, String?, String) -> CatalogError) throws
        -> ViewerLogin
    {
        guard let client = try text("client_id") else {
            throw fail(nil, "viewer_login.client_id", "is required (the page's client id at the provider, a public client)")
        }
        var login = ViewerLogin(clientID: client)
        for (key, path) in [
            ("authorization_endpoint", \ViewerLogin.authorizationEndpoint), ("token_endpoint", \ViewerLogin.tokenEndpoint),
            ("end_session_endpoint", \ViewerLogin.endSessionEndpoint)
        ] {
            guard let url = try text(key) else { continue }
            guard isHTTP(url) else { throw fail(e[key]?.0, "viewer_login.\(key)", "'\(url)' is not an http(s) URL") }
            login[keyPath: path] = url
        }
        if let scope = try text("scope") {
            guard scope.split(separator: " ").contains("openid") else {
                throw fail(e["scope"]?.0, "viewer_login.scope", "'\(scope)' must include openid")
            }
            login.scope = scope
        }
        if let token = try text("token") {
            guard tokens.contains(token) else {
                throw fail(e["token"]?.0, "viewer_login.token", "'\(token)' is not one of: \(tokens.joined(separator: ", "))")
            }
            login.token = token
        }
        return login
    }

    static func isHTTP(_ s: String) -> Bool { (s.hasPrefix("https://") || s.hasPrefix("http://")) && URL(string: s)?.host != nil }

    /// Whether the endpoints must come from the provider's discovery document.
    public var needsDiscovery: Bool { authorizationEndpoint == nil || tokenEndpoint == nil }

    /// The endpoints not given, from `{issuer}/.well-known/openid-configuration`.
    func discovered(issuer: String) async throws -> ViewerLogin {
        let address = (issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer) + "/.well-known/openid-configuration"
        let data = try await ProviderFetch.data(address, for: "viewer_login")
        guard let document = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw AuthConfigurationError("viewer_login: \(address) is not a JSON discovery document")
        }
        var login = self
        for (key, path) in [
            ("authorization_endpoint", \ViewerLogin.authorizationEndpoint), ("token_endpoint", \ViewerLogin.tokenEndpoint),
            ("end_session_endpoint", \ViewerLogin.endSessionEndpoint)
        ] where login[keyPath: path] == nil {
            if let url = document[key] as? String, Self.isHTTP(url) { login[keyPath: path] = url }
        }
        guard !login.needsDiscovery else {
            throw AuthConfigurationError(
                "viewer_login: \(address) names no authorization_endpoint or token_endpoint; give them in auth.yaml")
        }
        return login
    }
}

/// Documents fetched from the identity provider (its keys, its discovery document).
enum ProviderFetch {
    static func data(_ address: String, for key: String) async throws -> Data {
        guard let url = URL(string: address) else { throw AuthConfigurationError("\(key): '\(address)' is not a URL") }
        var request = URLRequest(url: url)
        request.timeoutInterval = 10
        do {
            let (body, response) = try await URLSession.shared.data(for: request)
            if let http = response as? HTTPURLResponse, http.statusCode != 200 {
                throw AuthConfigurationError("\(key): \(address) answered HTTP \(http.statusCode)")
            }
            return body
        } catch let e as AuthConfigurationError {
            throw e
        } catch {
            throw AuthConfigurationError("\(key): \(address) could not be fetched: \(error.localizedDescription)")
        }
    }
}

import Foundation
import Hummingbird
import LayerStore

/// `GET /v1/me`: who the server takes the caller to be (the key's name or the signed-in
/// person, the role, the data scope), so the viewer can say who is signed in and what they
/// see, and a client can check its key or token before it uses it. Anonymous callers get an
/// answer too (no name, no role); a bad token or key has already been refused (401).
///
/// `GET /v1/auth/login`: where the viewer signs in (`viewer_login` in auth.yaml), for its
/// sign-in button; `available: false`, and why, when there is no such sign-in (an answer, not
/// a 404: every page load asks, and a browser logs each 404 as an error).
struct CallerRoutes {
    let server: ServerContext

    func register(on router: some RouterMethods<OneMapRequestContext>) {
        let tokens = server.configuration.tokens
        router.get("v1/auth/login") { _, _ -> Response in
            guard let tokens, let login = tokens.configuration.viewerLogin else {
                return try Response.json(object: [
                    "available": false,
                    "detail": tokens == nil
                        ? "this server takes no tokens (serve --auth); sign in with an API key"
                        : "the server's auth.yaml has no viewer_login; paste a token or key"
                ])
            }
            var object: [String: Any] = [
                "available": true, "issuer": tokens.configuration.issuer, "clientId": login.clientID, "scope": login.scope,
                "token": login.token
            ]
            object["authorizationEndpoint"] = login.authorizationEndpoint
            object["tokenEndpoint"] = login.tokenEndpoint
            object["endSessionEndpoint"] = login.endSessionEndpoint
            return try Response.json(object: object)
        }
        router.get("v1/me") { _, context -> Response in
            let caller = context.caller
            var o: [String: Any] = ["signedIn": caller.role != nil || caller.subject != nil]
            if let name = caller.keyName { o["name"] = name }
            if let role = caller.role { o["role"] = role.rawValue }
            if let scope = caller.scope { o["scope"] = scope.codes }
            if let subject = caller.subject { o["subject"] = subject }
            var response = try Response.json(object: o)
            response.headers[.cacheControl] = "private, no-store"
            return response
        }
    }
}

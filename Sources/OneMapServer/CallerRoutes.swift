import Foundation
import Hummingbird
import LayerStore

/// `GET /v1/me`: who the server takes the caller to be (the key's name or the signed-in
/// person, the role, the data scope), so the viewer can say who is signed in and what they
/// see, and a client can check its key or token before it uses it. Anonymous callers get an
/// answer too (no name, no role); a bad token or key has already been refused (401).
struct CallerRoutes {
    func register(on router: some RouterMethods<OneMapRequestContext>) {
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

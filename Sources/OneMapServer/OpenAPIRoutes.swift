import Features
import Foundation
import Hummingbird

/// `GET /api`: the OpenAPI 3.0 definition of the whole service in JSON, or in YAML as it is
/// written (`?f=yaml`, or an Accept header preferring YAML), or a readable list of its
/// operations for a browser.
struct OpenAPIRoutes {
    static let mediaType = "application/vnd.oai.openapi+json;version=3.0"
    static let yamlMediaType = "application/vnd.oai.openapi;version=3.0"
    /// Answers as the OGC routes do (negotiation, links on the same base URL).
    let features: FeatureRoutes

    func register(on router: some RouterMethods<OneMapRequestContext>) {
        let features = self.features
        router.get("api") { request, context in
            try await features.respond(request, context) { r in
                let format = try FeatureFormat.negotiate(r, offeringYAML: true)
                if let unknown = r.query.pairs.first(where: { $0.name != "f" }) {
                    throw FeatureError.invalidParameter(unknown.name, "unknown parameter; /api takes f")
                }
                let document = OpenAPI.document
                switch format {
                case .html:
                    return FeatureResponse(
                        contentType: "text/html; charset=utf-8", body: Array(Self.html(document.object, base: r.baseURL).utf8))
                case .yaml: return FeatureResponse(contentType: Self.yamlMediaType, body: document.yaml(serverURL: r.baseURL))
                case .json: return FeatureResponse(contentType: Self.mediaType, body: document.json(serverURL: r.baseURL))
                }
            }
        }
    }

    static func html(_ doc: [String: Any], base: String) -> String {
        let e = FeatureHTML.escape
        let paths = doc["paths"] as? [String: Any] ?? [:]
        var rows = ""
        for path in paths.keys.sorted() {
            let ops = paths[path] as? [String: Any] ?? [:]
            for method in ops.keys.sorted() {
                let op = ops[method] as? [String: Any] ?? [:]
                let params = (op["parameters"] as? [[String: Any]] ?? []).map { p -> String in
                    if let r = p["$ref"] as? String { return String(r.split(separator: "/").last ?? "") }
                    return p["name"] as? String ?? ""
                }.joined(separator: ", ")
                rows +=
                    "<tr><td><code>\(e(method.uppercased()))</code></td><td><code>\(e(path))</code></td><td>\(e(op["summary"] as? String ?? ""))</td><td>\(e(params))</td></tr>"
            }
        }
        let info = doc["info"] as? [String: Any] ?? [:]
        return FeatureHTML.page(
            title: info["title"] as? String ?? "API", crumbs: [("OneMap", base + "/"), ("api", nil)], base: base,
            body:
                "<p>\(e(info["description"] as? String ?? ""))</p><p>OpenAPI 3.0 in JSON: <a href=\"\(e(base))/api?f=json\">/api?f=json</a>, "
                + "in YAML: <a href=\"\(e(base))/api?f=yaml\">/api?f=yaml</a></p>"
                + "<table><tr><th>method</th><th>path</th><th>what</th><th>parameters</th></tr>\(rows)</table>")
    }
}

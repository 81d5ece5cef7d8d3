import Foundation
import Hummingbird
import Testing

@testable import OneMapServer

/// The routes the server registers and the paths openapi.yaml documents are the same.
struct RouteDocumentTests {
    /// Takes the routes `registerRoutes` registers, and routes nothing.
    final class RouteRecorder: RouterMethods {
        typealias Context = OneMapRequestContext
        private(set) var routes: [(method: String, path: String)] = []

        @discardableResult func on<Responder: HTTPResponder>(
            _ path: RouterPath, method: HTTPRequest.Method,
            responder: Responder
        ) -> Self where Responder.Context == Context {
            routes.append((method.rawValue, path.description))
            return self
        }

        func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self { self }
    }

    /// A path's segments with every parameter as `{}`: the router's `:id` is written `{id}`
    /// by RouterPath, and names may differ (the router's `styles/:file` is `/styles/{name}.json`).
    static func segments(_ path: String) -> [String] {
        path.split(separator: "/").map { segment in
            var out = "", inParameter = false
            for c in segment {
                if c == "{" {
                    inParameter = true; out += "{}"
                } else if c == "}" {
                    inParameter = false
                } else if !inParameter {
                    out.append(c)
                }
            }
            return out
        }
    }

    /// Whether a route's pattern takes a documented path: a parameter takes any one segment
    /// (`{}.json` too), `**` all the rest.
    static func route(_ route: ArraySlice<String>, takes path: ArraySlice<String>) -> Bool {
        guard let first = route.first else { return path.isEmpty }
        if first == "**" { return !path.isEmpty }
        guard let segment = path.first, first == "{}" || first == segment else { return false }
        return Self.route(route.dropFirst(), takes: path.dropFirst())
    }

    static func documented() -> [(method: String, path: String)] {
        OpenAPI.document.paths.flatMap { path, item in
            ((item as? [String: Any]) ?? [:]).keys.filter { ["get", "put", "post", "delete", "patch"].contains($0) }.map {
                ($0.uppercased(), path)
            }
        }
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedPathIsRouted() throws {
        let recorder = RouteRecorder()
        registerRoutes(on: recorder, server: ServerContext(store: try farmlandStore(), configuration: ServerConfiguration()))
        // The last route answers every other path with 404: no route of the API.
        #expect(recorder.routes.filter { $0.path == "/**" }.map(\.method) == ["GET"])
        let routes = recorder.routes.filter { $0.path != "/**" }
        #expect(routes.count > 30)
        let documented = Self.documented()
        func takes(_ r: (method: String, path: String), _ d: (method: String, path: String)) -> Bool {
            r.method == d.method && Self.route(Self.segments(r.path)[...], takes: Self.segments(d.path)[...])
        }
        let undocumented = routes.filter { r in !documented.contains { takes(r, $0) } }
        #expect(undocumented.isEmpty, "routed but not in openapi.yaml: \(undocumented.map { "\($0.method) \($0.path)" })")
        let unrouted = documented.filter { d in !routes.contains { takes($0, d) } }
        #expect(unrouted.isEmpty, "in openapi.yaml but not routed: \(unrouted.map { "\($0.method) \($0.path)" })")
    }

    /// `/tiles/**` is one route whose handler reads the rest of the path (TileRoutes.parse),
    /// so its forms are compared one by one: each form it takes is documented, and each
    /// documented tile path, its parameters filled in, is one it takes.
    @Test func everyTilePathTheTileRouteTakesIsDocumented() {
        let table = MethodTable(paths: OpenAPI.document.paths)
        var taken: [String] = []
        for grid in ["", "4490/"] {
            for layers in ["farmland", "a,b", "%7Ba,b%7D", "farmland@3", "a@3,b@5", "onemap", "onemap@0a1b"] {
                for rest in [".json", "/3/6/2.mvt", "/3/6/2.pbf"] {
                    let path = "/tiles/" + grid + layers + rest
                    guard (try? TileRoutes.parse(path)) != nil else { continue }
                    taken.append(path)
                    #expect(table.methods(for: path)?.contains("GET") == true, "\(path) is served but not in openapi.yaml")
                }
            }
        }
        #expect(taken.count == 2 * (4 + 7 + 7), "\(taken)")
        let values = [
            "{layer}": "farmland", "{z}": "3", "{x}": "6", "{y}": "2", "{tileMatrixSetId}": "CGCS2000Quad", "{tileMatrix}": "3",
            "{tileRow}": "2", "{tileCol}": "6"
        ]
        for (method, path) in Self.documented() where path.hasPrefix("/tiles/") {
            let concrete = values.reduce(path) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
            #expect(
                method == "GET" && (try? TileRoutes.parse(concrete)) != nil,
                "\(path) is in openapi.yaml but the tile route refuses \(concrete)")
        }
    }
}

import Foundation
import Hummingbird
import LayerStore

/// MapLibre styles from the Styles folder: `GET /styles/{name}.json`. Sources written as
/// paths ("/tiles/onemap.json") are made absolute on the host the caller used, so one
/// file works behind any address. Only names of [a-z0-9_]+ are looked up, so no request
/// can reach a file outside the folder.
///
/// A style names layers, so it is cut to what the caller may see: style layers drawing a
/// layer the caller cannot see (or one not loaded) are left out, and so are sources of such
/// layers' tiles; a style whose every source went (a hidden layer's own style) is 404, as a
/// style that does not exist.
struct StyleRoutes {
    let store: Store
    let proxy: ProxyHeaders
    /// nil when no styles were found (`ViewerAssets`): every style is then a 404.
    let directory: URL?

    init(store: Store, proxy: ProxyHeaders = ProxyHeaders(trusted: false), stylesDirectory: String?) {
        self.store = store
        self.proxy = proxy
        directory = stylesDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) }
    }

    func register(on router: some RouterMethods<OneMapRequestContext>) {
        let store = self.store
        router.get("styles/:file") { request, context in
            let caller = context.caller
            let visible = Set(try await store.read { db in try caller.readableLayers(db) }.map(\.name))
            return try self.style(try context.parameters.require("file"), request: request, visible: visible)
        }
    }

    /// Removes what names a layer outside `visible`; false when the style had sources and none
    /// is left. A source is a layer's when its TileJSON or tiles are under `/tiles/{layer|a,b}`;
    /// `/tiles/onemap…` is every visible layer already.
    static func keepVisible(_ style: inout [String: Any], _ visible: Set<String>) -> Bool {
        func shows(_ url: String) -> Bool {
            guard url.hasPrefix("/tiles/") else { return true }
            var rest = url.dropFirst("/tiles/".count)
            if rest.hasPrefix("4490/") { rest = rest.dropFirst(5) }
            let first = rest.prefix { $0 != "/" && $0 != "." && $0 != "@" }
            return first == "onemap" || first.split(separator: ",").allSatisfy { visible.contains(String($0)) }
        }
        var sources = style["sources"] as? [String: Any] ?? [:]
        let hadSources = !sources.isEmpty
        for (name, value) in sources {
            guard let source = value as? [String: Any] else { continue }
            let urls = [source["url"] as? String].compactMap { $0 } + (source["tiles"] as? [String] ?? [])
            if !urls.allSatisfy(shows) { sources[name] = nil }
        }
        if style["sources"] != nil { style["sources"] = sources }
        if let layers = style["layers"] as? [[String: Any]] {
            style["layers"] = layers.filter { layer in
                guard let source = layer["source"] as? String else { return true }
                return sources[source] != nil && (layer["source-layer"] as? String).map(visible.contains) ?? true
            }
        }
        return !hadSources || !sources.isEmpty
    }

    static func validName(_ name: Substring) -> Bool {
        !name.isEmpty && name.count <= 64 && name.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "_" }
    }

    func style(_ file: String, request: Request, visible: Set<String>) throws -> Response {
        guard file.hasSuffix(".json"), Self.validName(file.dropLast(5)) else {
            throw Problem(.badRequest, "bad style name", "style names match [a-z0-9_]+ and end in .json, e.g. /styles/onemap.json")
        }
        guard let url = directory?.appendingPathComponent(file), let data = FileManager.default.contents(atPath: url.path) else {
            throw Problem.notFound("no style '\(file)'")
        }
        guard var style = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Problem(.internalServerError, "bad style file", "Styles/\(file) is not a JSON object")
        }
        guard Self.keepVisible(&style, visible) else { throw Problem.notFound("no style '\(file)'") }
        let base = proxy.baseURL(request)
        func absolute(_ s: String) -> String { s.hasPrefix("/") ? base + s : s }
        if var sources = style["sources"] as? [String: Any] {
            for (name, value) in sources {
                guard var source = value as? [String: Any] else { continue }
                if let u = source["url"] as? String { source["url"] = absolute(u) }
                if let t = source["tiles"] as? [String] { source["tiles"] = t.map(absolute) }
                sources[name] = source
            }
            style["sources"] = sources
        }
        for key in ["glyphs", "sprite"] { if let s = style[key] as? String { style[key] = absolute(s) } }
        var response = try Response.json(object: style)
        response.headers[.accessControlAllowOrigin] = "*"
        response.headers[.cacheControl] = "no-cache"
        return response
    }
}

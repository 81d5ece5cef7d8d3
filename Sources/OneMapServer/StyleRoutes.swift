import Foundation
import Hummingbird

/// MapLibre styles from the Styles folder: `GET /styles/{name}.json`. Sources written as
/// paths ("/tiles/onemap.json") are made absolute on the host the caller used, so one
/// file works behind any address. Only names of [a-z0-9_]+ are looked up, so no request
/// can reach a file outside the folder.
struct StyleRoutes {
    let directory: URL

    /// `stylesDirectory` defaults to `Styles` in the current directory (the repository root
    /// under `make demo`).
    init(stylesDirectory: String = FileManager.default.currentDirectoryPath + "/Styles") {
        directory = URL(fileURLWithPath: stylesDirectory, isDirectory: true)
    }

    func register(on router: Router<OneMapRequestContext>) {
        router.get("styles/:file") { request, context in
            try self.style(try context.parameters.require("file"), request: request)
        }
    }

    static func validName(_ name: Substring) -> Bool {
        !name.isEmpty && name.count <= 64 && name.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "_" }
    }

    func style(_ file: String, request: Request) throws -> Response {
        guard file.hasSuffix(".json"), Self.validName(file.dropLast(5)) else {
            throw APIError(.badRequest, "bad style name", "style names match [a-z0-9_]+ and end in .json, e.g. /styles/onemap.json")
        }
        let url = directory.appendingPathComponent(file)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw APIError.notFound("no style '\(file)'")
        }
        guard var style = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw APIError(.internalServerError, "bad style file", "Styles/\(file) is not a JSON object")
        }
        let base = try TileRoutes.baseURL(request)
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

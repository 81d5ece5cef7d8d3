import Foundation
import Hummingbird

/// The one-map page (一张图) and the MapLibre files it needs, served by OneMap itself:
/// offline networks cannot reach a CDN. The page's own files are in the binary (Public/, put
/// there by the EmbedText plugin); MapLibre is wherever `ViewerAssets` found it.
struct ViewerRoutes {
    let assets: ViewerAssets

    static let pageFiles: [String: (text: String, type: String)] = [
        "index.html": (Embedded.indexHtml, "text/html; charset=utf-8"),
        "app.js": (Embedded.appJs, "text/javascript; charset=utf-8"),
        "app.css": (Embedded.appCss, "text/css; charset=utf-8"),
        "pmtiles.js": (Embedded.pmtilesJs, "text/javascript; charset=utf-8")
    ]
    static let vendorFiles: [String: String] = [
        "maplibre-gl.js": "text/javascript; charset=utf-8", "maplibre-gl.css": "text/css; charset=utf-8"
    ]

    func register(on router: some RouterMethods<OneMapRequestContext>) {
        router.get("viewer") { _, _ in try Self.page("index.html") }
        router.get("viewer/:file") { _, context in try Self.page(try context.parameters.require("file")) }
        let assets = self.assets
        router.get("static/maplibre/:file") { _, context in
            let name = try context.parameters.require("file")
            // Only the two known files: no path from a request ever reaches the file system.
            guard let type = Self.vendorFiles[name] else { throw Problem.notFound("no static file '\(name)'") }
            // The page reads this detail and shows it when maplibregl is not defined.
            guard let folder = assets.maplibre else {
                throw Problem(.serviceUnavailable, "viewer assets missing", assets.missingMaplibre)
            }
            let path = (folder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Problem(
                    .serviceUnavailable, "viewer assets missing", "\(path) is missing: run `make vendor` to unpack MapLibre again")
            }
            return Self.file(data, type: type)
        }
    }

    static func page(_ name: String) throws -> Response {
        guard let (text, type) = pageFiles[name] else { throw Problem.notFound("no viewer file '\(name)'") }
        return file(Data(text.utf8), type: type)
    }

    static func file(_ data: Data, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

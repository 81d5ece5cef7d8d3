import Foundation
import Hummingbird

/// The one-map page (一张图) and the MapLibre files it needs, served by OneMap itself:
/// offline networks cannot reach a CDN. MapLibre is unpacked into `vendor/maplibre` by
/// `make` (from the PyPI package `maplibre`); the page's own files ship in the binary's bundle.
struct ViewerRoutes {
    /// Where maplibre-gl.js and maplibre-gl.css are.
    let vendorDirectory: String

    static let pageFiles: [String: String] = [
        "index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
        "app.css": "text/css; charset=utf-8"
    ]
    static let vendorFiles: [String: String] = [
        "maplibre-gl.js": "text/javascript; charset=utf-8", "maplibre-gl.css": "text/css; charset=utf-8"
    ]

    func register(on router: some RouterMethods<OneMapRequestContext>) {
        router.get("viewer") { _, _ in try Self.page("index.html") }
        router.get("viewer/:file") { _, context in try Self.page(try context.parameters.require("file")) }
        router.get("static/maplibre/:file") { _, context in
            let name = try context.parameters.require("file")
            // Only the two known files: no path from a request ever reaches the file system.
            guard let type = Self.vendorFiles[name] else { throw Problem.notFound("no static file '\(name)'") }
            let path = (vendorDirectory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Problem(.serviceUnavailable, "viewer assets missing", "\(path) is missing: run `make vendor` to unpack MapLibre")
            }
            return Self.file(data, type: type)
        }
    }

    static func page(_ name: String) throws -> Response {
        guard let type = pageFiles[name],
            let url = Bundle.module.url(
                forResource: (name as NSString).deletingPathExtension, withExtension: (name as NSString).pathExtension,
                subdirectory: "Public"),
            let data = try? Data(contentsOf: url)
        else { throw Problem.notFound("no viewer file '\(name)'") }
        return file(data, type: type)
    }

    static func file(_ data: Data, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

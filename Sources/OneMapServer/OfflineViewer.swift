import Foundation

/// The one-map page away from the server: the style an archive carries for it, and the page's
/// files written to a folder that a tablet opens from disk, or that a static server or CDN
/// serves beside the archive. The page then draws its map from the archive (Public/pmtiles.js)
/// and asks no server anything.
public enum OfflineViewer {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The one-map style cut to `layers` (as `/styles/onemap.json` is cut to what a caller may
    /// see), for `onemap tiles export` to put in the archive; nil when no style file was found.
    /// Its sources stay as they are: the page points them at the archive it opens.
    public static func style(assets: ViewerAssets, layers: Set<String>) throws -> Data? {
        guard let folder = assets.styles else { return nil }
        let path = (folder as NSString).appendingPathComponent("onemap.json")
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard var style = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw Failure(description: "\(path) is not a JSON object")
        }
        guard StyleRoutes.keepVisible(&style, layers) else { return nil }
        return try JSONSerialization.data(withJSONObject: style, options: [.sortedKeys])
    }

    /// Writes the page (index.html, app.js, app.css, pmtiles.js) and MapLibre's two files into
    /// `folder`, creating it; the names written. The page's paths become relative, so it works
    /// from `file://` and from any folder of a static server.
    @discardableResult
    public static func write(to folder: String, assets: ViewerAssets) throws -> [String] {
        guard let maplibre = assets.maplibre else { throw Failure(description: assets.missingMaplibre) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var written: [String] = []
        for (name, page) in ViewerRoutes.pageFiles.sorted(by: { $0.key < $1.key }) {
            var text = page.text
            if name == "index.html" {
                text = text.replacingOccurrences(of: "\"/static/maplibre/", with: "\"").replacingOccurrences(of: "\"/viewer/", with: "\"")
            }
            try Data(text.utf8).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(name)))
            written.append(name)
        }
        for name in ViewerRoutes.vendorFiles.keys.sorted() {
            let from = (maplibre as NSString).appendingPathComponent(name)
            guard let data = fm.contents(atPath: from) else {
                throw Failure(description: "\(from) is missing: run `make vendor` to unpack MapLibre again")
            }
            try data.write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(name)))
            written.append(name)
        }
        return written
    }
}

import Foundation

/// Where the viewer's files that are not in the binary are: MapLibre GL JS (unpacked by
/// `make vendor`, never from a CDN: offline networks cannot reach one) and the MapLibre styles.
/// They are looked for in the same places whatever directory the server is started from:
/// `serve --assets DIR` alone when given, else beside the binary's install prefix
/// (`<bindir>/../share/onemap`, where `make install` puts them), else the checkout a
/// `.build/…` binary was built in, else the working directory.
///
/// A directory counts in either layout: an installed one (`maplibre/`, `styles/`) or a
/// checkout (`vendor/maplibre/`, `Styles/`).
public struct ViewerAssets: Sendable, Equatable {
    /// The directories looked in, in order.
    public let searched: [String]
    /// The folder holding maplibre-gl.js and maplibre-gl.css; nil when none of `searched` has it.
    public let maplibre: String?
    /// The folder of the MapLibre styles (`/styles/{name}.json`); nil when none has one.
    public let styles: String?

    public init(searching directories: [String]) {
        searched = directories
        let fm = FileManager.default
        func first(_ layouts: [String], holding file: String) -> String? {
            for dir in directories {
                for sub in layouts {
                    let folder = (dir as NSString).appendingPathComponent(sub)
                    if fm.fileExists(atPath: (folder as NSString).appendingPathComponent(file)) { return folder }
                }
            }
            return nil
        }
        maplibre = first(["maplibre", "vendor/maplibre"], holding: "maplibre-gl.js")
        styles = first(["styles", "Styles"], holding: "onemap.json")
    }

    /// The assets this process finds: in `explicit` (`--assets DIR`) when given, else where
    /// `directories` looks for a binary started from anywhere.
    public static func forThisProcess(explicit: String?) -> ViewerAssets {
        ViewerAssets(
            searching: directories(
                explicit: explicit, executable: Bundle.main.executablePath ?? CommandLine.arguments.first,
                workingDirectory: FileManager.default.currentDirectoryPath))
    }

    /// `--assets DIR` when given; else the places a binary started from anywhere can know.
    public static func directories(explicit: String?, executable: String?, workingDirectory: String) -> [String] {
        if let explicit { return [absolute(explicit, in: workingDirectory)] }
        var out: [String] = []
        if let executable {
            let real = URL(fileURLWithPath: absolute(executable, in: workingDirectory)).resolvingSymlinksInPath().path
            let bin = (real as NSString).deletingLastPathComponent
            out.append(((bin as NSString).deletingLastPathComponent as NSString).appendingPathComponent("share/onemap"))
            // A binary SwiftPM built lives in <checkout>/.build/<triple>/<config>/.
            if let range = real.range(of: "/.build/") { out.append(String(real[..<range.lowerBound])) }
        }
        out.append(workingDirectory)
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }

    static func absolute(_ path: String, in directory: String) -> String {
        let full = path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
        return (full as NSString).standardizingPath
    }

    /// What to do when MapLibre is missing: one line for the log, and the viewer's message.
    public var missingMaplibre: String {
        "MapLibre GL JS (maplibre/maplibre-gl.js) is in none of: \(searched.joined(separator: ", ")); "
            + "run `make vendor` in the checkout, or `make install`, or start with `onemap serve --assets DIR`"
    }
}

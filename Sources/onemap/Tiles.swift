import ArgumentParser
import Dispatch
import Foundation
import GeoCore
import LayerStore
import OneMapServer
import Tiles

struct TilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tiles",
        abstract: "Tile archives: the server's vector tiles in one file, for a CDN or a tablet with no network.",
        subcommands: [Export.self, Viewer.self])

    struct Viewer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the one-map page into a folder, to show a .pmtiles archive with no server.",
            discussion: """
                On a tablet: copy the folder and the archive, open index.html in the browser, and pick the archive                 (打开 .pmtiles). On a static server or CDN: put the archive in the folder and open                 index.html?archive=lishui.pmtiles (the server must answer range requests, as nginx and CDNs do).
                """)

        @Option(help: "The folder to write (created if missing).") var out: String
        @Option(help: "Where MapLibre and the styles are (as for `onemap serve --assets`).") var assets: String?

        func run() throws {
            let names = try OfflineViewer.write(to: out, assets: .forThisProcess(explicit: assets))
            print("wrote \(names.joined(separator: ", ")) to \(out)")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every tile of some layers (or of the one-map style) to a PMTiles or MBTiles file.",
            discussion: """
                The tiles are the server's: the same generalisation, attributes and sizes. Empty tiles are not \
                written. The file appears at --out only when complete; until then it is written beside it, and \
                an interrupted export (Ctrl-C) removes that. Public layers only, unless --include-restricted.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable { case pmtiles, mbtiles }
        enum Grid: String, ExpressibleByArgument, CaseIterable { case webmercator, cgcs2000 }

        @Option(help: "The archive to write (.pmtiles or .mbtiles); with --update, the default is the archive updated.")
        var out: String?
        @Option(
            help: ArgumentHelp(
                "Bring this archive up to the layers' current versions: only the tiles over the features that changed are made again, the others copied. Its layers, zooms, box and grid are kept.",
                valueName: "archive"))
        var update: String?
        @Option(help: "pmtiles or mbtiles (default: from --out's extension).") var format: Format?
        @Option(help: "Comma-separated layers (default: every public layer, as the one-map style draws them).") var layers: String?
        @Option(help: "onemap: the composite tiles of the one-map style (the default when --layers is not given).") var style: String?
        @Option(help: "First zoom written.") var minzoom = 0
        @Option(help: "Last zoom written.") var maxzoom = TileMatrixSet.advertisedMaxZoom
        @Option(help: "Only tiles meeting this box: minLon,minLat,maxLon,maxLat.") var bbox: String?
        @Option(help: "webmercator, or cgcs2000 (天地图's 4490 grid; MBTiles only, as PMTiles clients assume Web Mercator).")
        var grid: Grid = .webmercator
        @Flag(help: "Include restricted layers (for a tablet that stays with the department, never a public CDN).")
        var includeRestricted = false
        @OptionGroup var database: DatabaseOptions

        /// Where the archive goes.
        var target: String { out ?? update ?? "" }

        func validate() throws {
            if let update {
                guard layers == nil, style == nil, bbox == nil, format == nil, minzoom == 0, maxzoom == TileMatrixSet.advertisedMaxZoom,
                    grid == .webmercator, !includeRestricted
                else {
                    throw ValidationError(
                        "--update \(update) keeps the archive's own layers, zooms, box, grid and format: give none of those")
                }
                guard FileManager.default.fileExists(atPath: update) else { throw ValidationError("--update \(update): no such archive") }
                return try checkDirectory()
            }
            guard let out else { throw ValidationError("give --out (a new archive) or --update (an archive to bring up to date)") }
            let ext = (out as NSString).pathExtension.lowercased()
            guard format != nil || Format(rawValue: ext) != nil else {
                throw ValidationError("--out \(out): give a .pmtiles or .mbtiles name, or --format")
            }
            guard 0 <= minzoom, minzoom <= maxzoom, maxzoom <= TileMatrixSet.maxZoom else {
                throw ValidationError("--minzoom \(minzoom) --maxzoom \(maxzoom): need 0 ≤ minzoom ≤ maxzoom ≤ \(TileMatrixSet.maxZoom)")
            }
            if resolvedFormat == .pmtiles && grid == .cgcs2000 {
                throw ValidationError("--grid cgcs2000 is written as MBTiles only: PMTiles clients assume Web Mercator")
            }
            if layers != nil && style != nil { throw ValidationError("give --layers or --style, not both") }
            if let style, style != "onemap" { throw ValidationError("--style \(style): the only style is 'onemap'") }
            _ = try box()
            try checkDirectory()
        }

        func checkDirectory() throws {
            let dir = ((target as NSString).deletingLastPathComponent as String)
            guard FileManager.default.fileExists(atPath: dir.isEmpty ? "." : dir) else {
                throw ValidationError("--out \(target): the directory \(dir) does not exist")
            }
        }

        var resolvedFormat: Format { format ?? Format(rawValue: (target as NSString).pathExtension.lowercased()) ?? .pmtiles }

        func box() throws -> BoundingBox? {
            guard let bbox else { return nil }
            let v = bbox.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard v.count == 4, let a = v[0], let b = v[1], let c = v[2], let d = v[3], a < c, b < d, -180 <= a, c <= 180, -90 <= b,
                d <= 90
            else {
                throw ValidationError("--bbox \(bbox): expected minLon,minLat,maxLon,maxLat in degrees, min below max")
            }
            return BoundingBox(a, b, c, d)
        }

        func run() async throws {
            let store = try await database.open()
            let service = TileService(store: store, cacheBytes: 64 << 20)
            let old: (any TileArchive)? = try update.map { try TileArchives.open($0) }
            var export: TileExport
            let format: Format
            if let old {
                let names = old.name.split(separator: ",").map(String.init)
                let b = old.metadata["onemap:bbox"] as? [Double]
                export = TileExport(
                    service: service, selection: old.name == "onemap" ? .all : .layers(names), grid: old.grid, zooms: old.zooms,
                    bbox: b.flatMap { $0.count == 4 ? BoundingBox($0[0], $0[1], $0[2], $0[3]) : nil },
                    caller: old.metadata["onemap:restricted"] as? Bool == true ? .localUser : .anonymous)
                format = old is PMTilesReader ? .pmtiles : .mbtiles
                export.style = old.metadata["onemap:style"].flatMap { try? JSONSerialization.data(withJSONObject: $0) }
            } else {
                let selection: TileSelection =
                    layers.map { .layers($0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }) } ?? .all
                export = TileExport(
                    service: service, selection: selection, grid: grid == .cgcs2000 ? .cgcs2000Quad : .webMercatorQuad,
                    zooms: minzoom...maxzoom, bbox: try box(), caller: includeRestricted ? .localUser : .anonymous)
                format = resolvedFormat
                // The one-map composite carries its style, for the viewer that opens it offline.
                if layers == nil {
                    let names = Set(try service.sources(selection, for: export.caller).map(\.name))
                    export.style = try OfflineViewer.style(assets: .forThisProcess(explicit: nil), layers: names)
                }
            }
            let out = target
            var line = ""
            try AtomicOutput.write(out) { partial in
                let writer: TileArchiveWriter =
                    format == .pmtiles ? try PMTilesWriter(path: partial) : try MBTilesWriter(path: partial, grid: export.grid)
                var summary: TileExport.Summary
                if let old, let update = try export.update(old, into: writer, progress: Self.progressLine()) {
                    summary = update.summary
                    line =
                        "updated \(out): re-made \(update.remade) tiles over \(update.changedBoxes) changed feature boxes, "
                        + "copied \(update.copied) unchanged; "
                } else {
                    if old != nil { line = "updated \(out) in full (its versions could not be compared feature by feature): " }
                    summary = try export.run(into: writer, progress: Self.progressLine())
                }
                let rate = Double(summary.tiles + summary.empty) / max(summary.seconds, 1e-9)
                let largest = summary.largestKey.map { " at \($0)" } ?? ""
                line +=
                    (line.isEmpty ? "wrote \(out): " : "")
                    + "\(summary.tiles) tiles made (\(summary.empty) positions empty), z\(export.zooms.lowerBound)–\(export.zooms.upperBound), "
                    + String(
                        format: "%.1f MB, largest tile %.1f KiB%@, %.1f s (%.0f tiles/s)\n",
                        Double(summary.bytes) / 1e6, Double(summary.largest) / 1024, largest, summary.seconds, rate)
            }
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        }

        /// Tiles done, rate and time left on one line of the terminal; nothing when no one watches.
        static func progressLine() -> @Sendable (TileExport.Progress) -> Void {
            guard Terminal.stderrIsTTY else { return { _ in } }
            return { p in Terminal.rateLine("z\(p.zoom)  ", done: p.done, total: p.total, unit: "tiles", seconds: p.seconds) }
        }
    }
}

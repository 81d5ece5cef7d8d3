import Foundation
import GeoCore
import LayerStore
import Synchronization

/// Every tile of a selection of layers, made as the server makes them (the same service, the
/// same options) and written to an archive: what `onemap tiles export` runs.
///
/// Zoom by zoom, the tiles over the layers' bounds are made on every core; each worker takes
/// the next batch of keys, makes and gzips its tiles, and hands the non-empty ones to the
/// archive, which one worker at a time writes.
public struct TileExport {
    public struct Progress: Sendable {
        public var zoom: Int
        public var done: Int
        public var total: Int
        public var seconds: Double
    }

    public struct Summary: Sendable {
        /// Tiles written, and the positions looked at that held nothing.
        public var tiles = 0
        public var empty = 0
        /// Gzipped bytes written, and the largest tile as MVT before gzip.
        public var bytes = 0
        public var largest = 0
        public var largestKey: TileKey?
        public var seconds = 0.0
    }

    public let service: TileService
    public let selection: TileSelection
    public let grid: TileMatrixSet
    public let zooms: ClosedRange<Int>
    /// Only the tiles meeting this lon/lat box (and the layers' bounds).
    public let bbox: BoundingBox?
    public let caller: Caller
    /// A MapLibre style (JSON) for the archive's own viewer: kept in the metadata as
    /// `onemap:style`, so a viewer with no server draws the tiles as the server's style does.
    public var style: Data?

    public init(
        service: TileService, selection: TileSelection, grid: TileMatrixSet, zooms: ClosedRange<Int>, bbox: BoundingBox? = nil,
        caller: Caller
    ) {
        self.service = service
        self.selection = selection
        self.grid = grid
        self.zooms = zooms
        self.bbox = bbox
        self.caller = caller
    }

    /// Makes every tile and writes it to `writer`, then finishes the archive.
    public func run(into writer: TileArchiveWriter, progress: @Sendable (Progress) -> Void = { _ in }) throws -> Summary {
        let sources = try service.sources(selection, for: caller)
        guard !sources.isEmpty else { throw TileArchiveError("no layer to export") }
        let area = self.area(of: sources)
        let started = Date()
        var summary = Summary()
        if let area {
            try make(
                zooms.map { z in Self.keys(grid.tiles(covering: area, z: z), z) }, sources: sources, into: writer, summary: &summary,
                started: started, progress: progress)
        }
        try writer.finish(try description(area: area))
        summary.seconds = -started.timeIntervalSinceNow
        return summary
    }

    /// What an update did besides the summary of the tiles it re-made.
    public struct Update: Sendable {
        public var summary: Summary
        /// Tiles re-made (the positions over the changes), and tiles copied as they were.
        public var remade = 0
        public var copied = 0
        /// Features that differ, counted as boxes (a changed feature counts twice: as it was and is).
        public var changedBoxes = 0
    }

    /// Brings `old`, an archive this export made from earlier versions, up to the current ones:
    /// the tiles over the features that differ are made again, every other tile is copied as
    /// it is, and tiles outside the layers' bounds now are dropped, so the result holds, tile
    /// for tile, what a full export would. nil when that cannot be worked out feature by feature
    /// (a layer added or dropped, an old version pruned, fields changed, or tiles cut by other
    /// rules: an older OneMap): export in full.
    public func update(_ old: any TileArchive, into writer: TileArchiveWriter, progress: @Sendable (Progress) -> Void = { _ in }) throws
        -> Update?
    {
        let sources = try service.sources(selection, for: caller)
        guard !sources.isEmpty else { throw TileArchiveError("no layer to export") }
        guard let versions = old.metadata["onemap:versions"] as? [String: Int], Set(versions.keys) == Set(sources.map(\.name)),
            old.metadata["onemap:cutting"] as? String == service.cutting
        else {
            return nil
        }
        var boxes: [BoundingBox] = []
        for s in sources {
            guard let from = versions[s.name], let changed = try service.store.changedBoxes(s.name, from: from, to: s.layer.version.number)
            else { return nil }
            boxes += changed
        }
        let started = Date()
        var update = Update(summary: Summary())
        update.changedBoxes = boxes.count
        let area = self.area(of: sources)
        // A tile holds what meets it and its buffer: widen each box by that buffer (a Web
        // Mercator tile is never taller in degrees than it is wide, so its width serves).
        let margin = 2 * Double(service.options.buffer) / Double(service.options.extent)
        // The tiles a full export would look at, by zoom: none when the layers are empty.
        var reach: [Int: (x: ClosedRange<Int>, y: ClosedRange<Int>)] = [:]
        if let area { for z in zooms { reach[z] = grid.tiles(covering: area, z: z) } }
        var dirty: [[TileKey]] = []
        var isDirty = Set<TileKey>()
        for z in zooms {
            guard let inArea = reach[z] else { break }
            let pad = 360 / Double(1 << z) * margin
            var keys = Set<TileKey>()
            for b in boxes {
                let wide = BoundingBox(b.minX - pad, b.minY - pad, b.maxX + pad, b.maxY + pad)
                let r = grid.tiles(covering: wide, z: z)
                guard r.x.overlaps(inArea.x), r.y.overlaps(inArea.y) else { continue }
                let xs = max(r.x.lowerBound, inArea.x.lowerBound)...min(r.x.upperBound, inArea.x.upperBound)
                let ys = max(r.y.lowerBound, inArea.y.lowerBound)...min(r.y.upperBound, inArea.y.upperBound)
                for y in ys { for x in xs { keys.insert(TileKey(z: z, x: x, y: y)) } }
            }
            dirty.append(keys.sorted { ($0.y, $0.x) < ($1.y, $1.x) })
            isDirty.formUnion(keys)
        }
        // The unchanged tiles, copied, where the layers still reach.
        for key in try old.keys() where !isDirty.contains(key) {
            guard let r = reach[key.z], r.x.contains(key.x), r.y.contains(key.y), let bytes = try old.tile(key), !bytes.isEmpty
            else { continue }
            try writer.add(key, gzipped: bytes)
            update.copied += 1
        }
        var summary = Summary()
        try make(dirty, sources: sources, into: writer, summary: &summary, started: started, progress: progress)
        update.remade = dirty.reduce(0) { $0 + $1.count }
        try writer.finish(try description(area: area))
        summary.seconds = -started.timeIntervalSinceNow
        update.summary = summary
        return update
    }

    /// The layers' bounds, cut to `bbox`; nil when nothing is left.
    private func area(of sources: [StoreLayerSource]) -> BoundingBox? {
        var area = TileService.bounds(of: sources)
        if let a = area, let bbox {
            let cut = BoundingBox(max(a.minX, bbox.minX), max(a.minY, bbox.minY), min(a.maxX, bbox.maxX), min(a.maxY, bbox.maxY))
            area = cut.minX <= cut.maxX && cut.minY <= cut.maxY ? cut : nil
        }
        return area
    }

    static func keys(_ r: (x: ClosedRange<Int>, y: ClosedRange<Int>), _ z: Int) -> [TileKey] {
        r.y.flatMap { y in r.x.map { x in TileKey(z: z, x: x, y: y) } }
    }

    /// What the archive says of itself: zooms, grid, bounds, the layers and their fields
    /// (TileJSON's `vector_layers`), the versions it was made from and the box it was cut to,
    /// which an update reads back.
    private func description(area: BoundingBox?) throws -> TileArchiveDescription {
        var description = TileArchiveDescription()
        description.minZoom = zooms.lowerBound
        description.maxZoom = zooms.upperBound
        description.grid = grid
        let json = try service.tileJSON(selection, grid: grid, baseURL: "", for: caller)
        var metadata: [String: Any] = [:]
        for k in ["name", "description", "vector_layers", "onemap:versions"] { metadata[k] = json[k] }
        metadata["format"] = "pbf"
        metadata["type"] = "overlay"
        if grid != .webMercatorQuad { metadata["crs"] = grid.crs }
        if let bbox { metadata["onemap:bbox"] = [bbox.minX, bbox.minY, bbox.maxX, bbox.maxY] }
        if caller.role != nil { metadata["onemap:restricted"] = true }
        metadata["onemap:cutting"] = service.cutting
        if let style, let object = try? JSONSerialization.jsonObject(with: style) { metadata["onemap:style"] = object }
        description.metadata = metadata
        if let b = area ?? bbox {
            description.bounds = b
            let span = max(b.maxX - b.minX, b.maxY - b.minY, 1e-9)
            description.centerZoom = max(zooms.lowerBound, min(zooms.upperBound, Int(log2(360 / span))))
        }
        return description
    }

    /// Every zoom's tiles in turn, each zoom on every core.
    private func make(
        _ keys: [[TileKey]], sources: [StoreLayerSource], into writer: TileArchiveWriter, summary: inout Summary, started: Date,
        progress: @Sendable (Progress) -> Void
    ) throws {
        let total = keys.reduce(0) { $0 + $1.count }
        var done = 0
        for zoomKeys in keys where !zoomKeys.isEmpty {
            let before = done
            try make(zoomKeys, sources: sources, into: writer, summary: &summary) { count in
                progress(Progress(zoom: zoomKeys[0].z, done: before + count, total: total, seconds: -started.timeIntervalSinceNow))
            }
            done += zoomKeys.count
        }
    }

    /// One zoom's tiles, on every core.
    private func make(
        _ keys: [TileKey], sources: [StoreLayerSource], into writer: TileArchiveWriter, summary: inout Summary,
        progress: @Sendable (Int) -> Void
    ) throws {
        let batch = 64
        let next = Atomic<Int>(0)
        let shared = Mutex<(summary: Summary, failure: Error?, done: Int, reported: Date)>((summary, nil, 0, Date()))
        let box = WriterBox(writer)
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let service = self.service
        let grid = self.grid
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let start = next.wrappingAdd(batch, ordering: .relaxed).oldValue
                guard start < keys.count, shared.withLock({ $0.failure == nil }) else { return }
                var made: [(TileKey, [UInt8], Int)] = []
                var empty = 0
                do {
                    for key in keys[start..<min(start + batch, keys.count)] {
                        let tile = try service.tile(of: sources, key, grid: grid)
                        if tile.bytes.isEmpty {
                            empty += 1
                        } else {
                            made.append((key, try Gzip.compress(tile.bytes), tile.bytes.count))
                        }
                    }
                    try shared.withLock { s in
                        for (key, gz, raw) in made {
                            try box.writer.add(key, gzipped: gz)
                            s.summary.tiles += 1
                            s.summary.bytes += gz.count
                            if raw > s.summary.largest {
                                s.summary.largest = raw
                                s.summary.largestKey = key
                            }
                        }
                        s.summary.empty += empty
                        s.done += made.count + empty
                        // Twice a second at most, from whichever worker passes then.
                        if s.reported.timeIntervalSinceNow < -0.5 {
                            s.reported = Date()
                            progress(s.done)
                        }
                    }
                } catch {
                    shared.withLock { if $0.failure == nil { $0.failure = error } }
                    return
                }
            }
        }
        let result = shared.withLock { $0 }
        if let failure = result.failure { throw failure }
        summary = result.summary
        progress(result.done)
    }
}

/// The writer, handed to the workers: only ever used under the export's lock.
private final class WriterBox: @unchecked Sendable {
    let writer: TileArchiveWriter
    init(_ writer: TileArchiveWriter) { self.writer = writer }
}

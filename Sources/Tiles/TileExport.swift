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
        var area: BoundingBox?
        for s in sources {
            guard let b = s.info.bounds else { continue }
            if area == nil { area = b } else { area!.extend(b) }
        }
        if let a = area, let bbox {
            let cut = BoundingBox(max(a.minX, bbox.minX), max(a.minY, bbox.minY), min(a.maxX, bbox.maxX), min(a.maxY, bbox.maxY))
            area = cut.minX <= cut.maxX && cut.minY <= cut.maxY ? cut : nil
        }
        let started = Date()
        var summary = Summary()
        if let area {
            let keys = zooms.map { z -> [TileKey] in
                let r = grid.tiles(covering: area, z: z)
                return r.y.flatMap { y in r.x.map { x in TileKey(z: z, x: x, y: y) } }
            }
            let total = keys.reduce(0) { $0 + $1.count }
            var done = 0
            for (i, zoomKeys) in keys.enumerated() {
                let zoom = zooms.lowerBound + i
                let before = done
                try make(zoomKeys, sources: sources, into: writer, summary: &summary) { count in
                    progress(Progress(zoom: zoom, done: before + count, total: total, seconds: -started.timeIntervalSinceNow))
                }
                done += zoomKeys.count
            }
        }
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
        description.metadata = metadata
        if let b = area ?? bbox {
            description.bounds = b
            let span = max(b.maxX - b.minX, b.maxY - b.minY, 1e-9)
            description.centerZoom = max(zooms.lowerBound, min(zooms.upperBound, Int(log2(360 / span))))
        }
        try writer.finish(description)
        summary.seconds = -started.timeIntervalSinceNow
        return summary
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

import Foundation
import GeoCore
import GRDB
import LayerStore

/// Tiles of one version of one layer in the SpatiaLite store.
///
/// Candidates come from the version's R*Tree (or, for large layers, from an in-memory
/// summary of every feature's box and area). Polygons smaller than `minFeatureSize` at the
/// tile's zoom never have their geometry read: their area goes straight to the coverage
/// cells. The rest are decoded, clipped, simplified, snapped and encoded.
public final class StoreLayerSource: TileSource, @unchecked Sendable {  // the summary is behind a lock
    public let store: Store
    public let layer: LoadedLayer
    public let options: TileOptions
    public let info: TileLayerInfo
    public var name: String { layer.name }
    public var revision: String { "\(layer.name)@\(layer.version.number)" }

    let kind: MVTGeometryType
    private let fields: [FieldDefinition]
    private let selectColumns: String
    private let tableSQL: String
    private let rtreeSQL: String
    private let byFidSQL: String

    private let summaryLock = NSLock()
    private var summary: FeatureSummary?
    private var summaryLoaded = false

    public init(store: Store, layer: LoadedLayer, options: TileOptions = TileOptions()) {
        self.store = store
        self.layer = layer
        self.options = options
        let type = layer.version.geometryType
        kind = type.contains("Polygon") ? .polygon : type.contains("Line") ? .lineString : .point
        fields = layer.version.fields
        let table = layer.version.tableName
        let quoted = fields.map { "\"" + $0.name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        selectColumns = (["om_fid", "om_minx", "om_miny", "om_maxx", "om_maxy", "om_area_m2", "geom"] + quoted).joined(separator: ", ")
        tableSQL = "\"\(table)\""
        rtreeSQL = """
            SELECT \(selectColumns) FROM "\(table)" WHERE om_fid IN
            (SELECT pkid FROM "idx_\(table)_geom" WHERE xmax >= ? AND xmin <= ? AND ymax >= ? AND ymin <= ?)
            """
        byFidSQL = "SELECT \(selectColumns) FROM \"\(table)\" WHERE om_fid = ?"
        info = TileLayerInfo(
            name: layer.name, title: layer.spec.title,
            geometryType: kind == .polygon ? "Polygon" : kind == .lineString ? "LineString" : "Point",
            fields: layer.version.fields.map { ($0.name, $0.type == .text ? "String" : "Number") },
            bounds: layer.version.bbox, featureCount: layer.version.count,
            minZoom: 0, maxZoom: TileMatrixSet.advertisedMaxZoom)
    }

    /// The in-memory summary for a large layer, read on first use.
    func featureSummary(_ db: Database) throws -> FeatureSummary? {
        guard layer.version.count >= options.summaryThreshold else { return nil }
        summaryLock.lock()
        defer { summaryLock.unlock() }
        if !summaryLoaded {
            summary = try FeatureSummary(db: db, table: layer.version.tableName)
            summaryLoaded = true
        }
        return summary
    }

    /// Reads the summary now rather than on the first low-zoom request.
    public func warm() throws {
        _ = try store.pool.read { db in try self.featureSummary(db) }
    }

    public func tile(_ key: TileKey, grid: TileMatrixSet) throws -> [UInt8] {
        try store.snapshot { db in try self.tile(key, grid: grid, db: db) }
    }

    /// Where a candidate lands in the tile, from its lon/lat box and its area in m².
    struct Footprint {
        var size: Double
        var x: Double
        var y: Double
        var area: Double
    }

    @inline(__always) func footprint(_ t: TileTransform, _ minX: Double, _ minY: Double, _ maxX: Double, _ maxY: Double, _ areaM2: Double) -> Footprint {
        let a = t.apply(minX, maxY), b = t.apply(maxX, minY)
        let k = t.grid.unitsPerMetre(latitude: (minY + maxY) / 2, z: t.key.z, extent: t.extent)
        return Footprint(size: max(b.x - a.x, b.y - a.y), x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, area: areaM2 * k.x * k.y)
    }

    @inline(__always) static func contains(_ sorted: [Int64], _ value: Int64) -> Bool {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] < value { lo = mid + 1 } else { hi = mid }
        }
        return lo < sorted.count && sorted[lo] == value
    }

    public func tile(_ key: TileKey, grid: TileMatrixSet, db: Database) throws -> [UInt8] {
        let t = TileTransform(grid: grid, key: key, extent: options.extent)
        let box = t.lonLatBox(buffer: Double(options.buffer))
        guard let bounds = layer.version.bbox, bounds.intersects(box) else { return [] }
        var coverage = CoverageGrid(extent: options.extent, cellSize: options.coverageCell)
        var encoder = FeatureGeometryEncoder(transform: t, buffer: Double(options.buffer), tolerance: options.tolerance)
        var prepared: [PreparedFeature] = []
        let minSize = kind == .point ? 0 : kind == .polygon ? options.minFeatureSize : options.minFeatureSize / 4

        // Wanted: every feature to draw with its outline; nil means "all that SQL returns".
        // Sorted, searched by halving: cheaper than hashing every row's id into a set.
        var wanted: [Int64]? = nil
        var byFid: [Int64]? = nil
        if let summary = try featureSummary(db) {
            var big: [(fid: Int64, size: Double, fp: Footprint)] = []
            var candidates = 0
            let p = summary.projected(grid)
            let scale = Double(options.extent) * Double(1 << key.z)
            let ox = Double(key.x * options.extent), oy = Double(key.y * options.extent)
            summary.forEach(in: box) { k in
                candidates += 1
                let x0 = p.minX[k] * scale - ox, x1 = p.maxX[k] * scale - ox
                let y0 = p.minY[k] * scale - oy, y1 = p.maxY[k] * scale - oy
                let fp = Footprint(size: max(x1 - x0, y1 - y0), x: (x0 + x1) / 2, y: (y0 + y1) / 2, area: p.area[k] * scale * scale)
                if fp.size < minSize {
                    if kind == .polygon { coverage.add(x: fp.x, y: fp.y, area: fp.area) }
                } else {
                    big.append((summary.fid[k], fp.size, fp))
                }
            }
            // More outlines than the budget can hold even at their smallest (about 48 bytes
            // for a small parcel): the densest cells become coverage, whole cells at a time.
            let affordable = min(options.layerBudget / 48, options.maxFeatures)
            if big.count > affordable, kind == .polygon {
                let largest = big.map(\.size).max() ?? 0
                coverage.ensureCell(atLeast: min(options.extent / 8, Int(2 * largest.rounded(.up))))
                let move = CoverageGrid.shed(big.map { (x: $0.fp.x, y: $0.fp.y, cost: 48.0) }, cellSize: coverage.cellSize,
                                             extent: options.extent, budget: Double(affordable * 48))
                var kept: [(fid: Int64, size: Double, fp: Footprint)] = []
                for (b, m) in zip(big, move) {
                    if m { coverage.add(x: b.fp.x, y: b.fp.y, area: b.fp.area) } else { kept.append(b) }
                }
                big = kept
            }
            if big.isEmpty {
                return LayerTileAssembler(name: name, fields: fields.map(\.name), extent: options.extent, budget: options.layerBudget)
                    .build([], coverage: coverage)
            }
            if big.count * 8 < candidates {
                byFid = big.map(\.fid).sorted()
            } else {
                wanted = big.map(\.fid).sorted()
            }
        }

        func consume(_ row: Row, classified: Bool) {
            let fid: Int64 = row[0]
            if let wanted, !Self.contains(wanted, fid) { return }
            let area: Double = row[5] ?? 0
            guard let minX: Double = row[1], let minY: Double = row[2], let maxX: Double = row[3], let maxY: Double = row[4] else { return }
            let fp = footprint(t, minX, minY, maxX, maxY, area)
            if !classified && fp.size < minSize {
                if kind == .polygon { coverage.add(x: fp.x, y: fp.y, area: fp.area) }
                return
            }
            // Read in place: the blob is not copied out of SQLite's row buffer.
            guard let geometry = try? row.withUnsafeData(atIndex: 6, { blob in try blob.map { try SpatiaLiteGeometry.decode($0) } })
            else { return }
            var lost = LostArea()
            let encoded = encoder.encode(geometry, lost: &lost)
            if lost.area > 0 { coverage.add(x: lost.x, y: lost.y, area: lost.area) }
            guard let encoded else { return }
            var values: [MVTValue?] = []
            values.reserveCapacity(fields.count)
            for i in fields.indices {
                switch row[7 + i] as DatabaseValue {
                case let v where v.isNull: values.append(nil)
                case let v:
                    switch v.storage {
                    case .int64(let n): values.append(.int(n))
                    case .double(let d): values.append(d.isFinite ? .double(d) : nil)
                    case .string(let s): values.append(.string(s))
                    case .blob, .null: values.append(nil)
                    }
                }
            }
            prepared.append(PreparedFeature(id: UInt64(bitPattern: fid), geometry: encoded, values: values,
                                            size: fp.size, centreX: fp.x, centreY: fp.y, dataArea: fp.area))
        }

        if let byFid {
            let statement = try db.cachedStatement(sql: byFidSQL)
            for fid in byFid {
                if let row = try Row.fetchOne(statement, arguments: [fid]) { consume(row, classified: true) }
            }
        } else {
            let rows = try Row.fetchCursor(db.cachedStatement(sql: rtreeSQL), arguments: [box.minX, box.maxX, box.minY, box.maxY])
            let classified = wanted != nil
            while let row = try rows.next() { consume(row, classified: classified) }
        }
        if prepared.count > options.maxFeatures {
            // Keep the largest; the rest become coverage (polygons) or wait for a closer zoom.
            prepared.sort { $0.size > $1.size }
            for f in prepared[options.maxFeatures...] where kind == .polygon {
                coverage.add(x: f.centreX, y: f.centreY, area: f.dataArea)
            }
            prepared.removeSubrange(options.maxFeatures...)
        }
        prepared.sort { $0.id < $1.id }
        return LayerTileAssembler(name: name, fields: fields.map(\.name), extent: options.extent, budget: options.layerBudget)
            .build(prepared, coverage: coverage)
    }
}

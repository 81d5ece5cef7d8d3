import Foundation
import GRDB
import GeoCore
import LandUse
import LayerStore
import Synchronization

/// Tiles of one version of one layer in the SpatiaLite store.
///
/// Small layers are read through the version's R*Tree for each tile. Large ones (from
/// `TileOptions.summaryThreshold` features) are read once into a `ResidentLayer` and cut from
/// memory. Either way, polygons smaller than `minFeatureSize` at the tile's zoom go straight
/// to the coverage cells by their box and area; the rest are clipped, simplified, snapped and
/// encoded.
public final class StoreLayerSource: TileSource, Sendable {
    public let store: Store
    public let layer: LoadedLayer
    public let options: TileOptions
    public let info: TileLayerInfo
    public var name: String { layer.name }
    /// `name@version` (and `~scope@admin@version` when cut: `scopedRevision`): part of every
    /// tile's cache key, so made once.
    public let revision: String
    /// For a scoped caller's restricted layer, the features it reads: every other feature is
    /// left out of the tile before anything is drawn or counted (outlines, boxes, coverage),
    /// and a tile beyond the part's box is empty. nil for the whole layer.
    public let cut: ScopeCut?

    let kind: MVTGeometryType
    private let fields: [FieldDefinition]
    private let table: FeatureTable
    private let rtreeSQL: String
    /// A land-use layer's code field and classification: its small 图斑 merge by land class.
    private let landUse: (field: Int, classification: LandClassification)?

    /// The layer in memory: not read, being read (by one caller, the others waiting for it),
    /// or read. The lock is held only to look and to change the state, never over the read.
    /// Shared with the layer's scoped sources: they cut the same features.
    private enum Resident {
        case absent
        case reading(ResidentRead)
        case ready(ResidentLayer)
    }
    private final class ResidentSlot: Sendable {
        let state = Mutex(Resident.absent)
    }
    private let resident: ResidentSlot

    public convenience init(store: Store, layer: LoadedLayer, options: TileOptions = TileOptions()) {
        self.init(store: store, layer: layer, options: options, cut: nil, resident: ResidentSlot())
    }

    /// This layer as a scoped caller reads it: its tiles hold only the features of `cut`.
    public func scoped(to cut: ScopeCut) -> StoreLayerSource {
        StoreLayerSource(store: store, layer: layer, options: options, cut: cut, resident: resident)
    }

    private init(store: Store, layer: LoadedLayer, options: TileOptions, cut: ScopeCut?, resident: ResidentSlot) {
        self.store = store
        self.layer = layer
        self.options = options
        self.cut = cut
        self.resident = resident
        revision = Self.revision(layer, cut.map { ($0.scope, $0.ground) })
        let type = layer.version.geometryType
        kind = type.contains("Polygon") ? .polygon : type.contains("Line") ? .lineString : .point
        fields = layer.version.fields
        table = FeatureTable(layer.version)
        // In fid order, as the resident layer holds them: a tile's features come out in the
        // same order however the layer is read.
        rtreeSQL = table.inBox(Self.columns, byFid: true)
        let codeField = layer.spec.landUse?.codeField ?? LandUseFields.Role.code.rawValue
        landUse =
            layer.spec.kind == .landUse
            ? layer.version.fields.firstIndex { $0.name == codeField }.map { ($0, LandClassification.standard) } : nil
        info = TileLayerInfo(
            name: layer.name, title: layer.spec.title,
            geometryType: kind == .polygon ? "Polygon" : kind == .lineString ? "LineString" : "Point",
            fields: layer.version.fields.map { ($0.name, $0.type == .text ? "String" : "Number") },
            bounds: cut == nil ? layer.version.bbox : cut?.box, featureCount: cut?.count ?? layer.version.count,
            minZoom: 0, maxZoom: TileMatrixSet.advertisedMaxZoom)
    }

    /// A source's revision; cut to a scope, it names the scope and the boundaries it was cut by.
    static func revision(_ layer: LoadedLayer, _ cut: (scope: DataScope, ground: String)?) -> String {
        "\(layer.name)@\(layer.version.number)" + (cut.map { "~\($0.scope)@\($0.ground)" } ?? "")
    }

    /// What both ways of reading a layer select, in this order: fid, box (0–4), area (5),
    /// geometry (6), then the attributes from 7.
    static let columns: [FeatureTable.Column] = [.fid, .box, .areaM2, .geometry, .fields]

    var isResident: Bool { layer.version.count >= options.summaryThreshold }

    /// The layer in memory, read on first use (one reader at a time builds it; the others wait
    /// for it rather than read the table twice over).
    func residentLayer() throws -> ResidentLayer {
        enum Step { case ready(ResidentLayer), wait(ResidentRead), lead(ResidentRead) }
        while true {
            let step = resident.state.withLock { resident -> Step in
                switch resident {
                case .ready(let layer): return .ready(layer)
                case .reading(let read): return .wait(read)
                case .absent:
                    let read = ResidentRead()
                    resident = .reading(read)
                    return .lead(read)
                }
            }
            switch step {
            case .ready(let layer):
                return layer
            case .wait(let read):
                // After a failed read the next caller tries again, as if none had been under way.
                if case .success(let layer) = read.outcome() { return layer }
            case .lead(let read):
                let outcome = Result {
                    try store.pool.read { db in
                        try ResidentLayer(db: db, table: self.table, fields: self.fields, expectedCount: self.layer.version.count)
                    }
                }
                resident.state.withLock { resident in
                    if case .success(let layer) = outcome { resident = .ready(layer) } else { resident = .absent }
                }
                read.finish(outcome)
                return try outcome.get()
            }
        }
    }

    /// The tile made from memory now, or nil when this layer is not held in memory or is
    /// still being read: never waits and never reads the database, so the caller may be a
    /// thread that must not block.
    func tileIfInMemory(_ key: TileKey, grid: TileMatrixSet) -> [UInt8]? {
        guard isResident, case .ready(let ready) = resident.state.withLock({ $0 }) else { return nil }
        return tile(key, grid: grid, resident: ready)
    }

    /// Reads a large layer into memory now rather than on its first tile.
    public func warm() throws {
        if isResident { _ = try residentLayer() }
    }

    public func tile(_ key: TileKey, grid: TileMatrixSet) throws -> [UInt8] {
        if isResident { return tile(key, grid: grid, resident: try residentLayer()) }
        return try store.snapshot { db in try self.tile(key, grid: grid, db: db) }
    }

    /// Where a candidate lands in the tile, from its lon/lat box and its area in m².
    struct Footprint {
        var size: Double
        var x: Double
        var y: Double
        var area: Double
        var width: Double
        var height: Double

        init(x0: Double, y0: Double, x1: Double, y1: Double, area: Double) {
            width = x1 - x0
            height = y1 - y0
            size = max(width, height)
            x = (x0 + x1) / 2
            y = (y0 + y1) / 2
            self.area = area
        }
    }

    @inline(__always) func footprint(_ t: TileTransform, _ minX: Double, _ minY: Double, _ maxX: Double, _ maxY: Double, _ areaM2: Double)
        -> Footprint
    {
        let a = t.apply(minX, maxY), b = t.apply(maxX, minY)
        let k = t.grid.unitsPerMetre(latitude: (minY + maxY) / 2, z: t.key.z, extent: t.extent)
        return Footprint(x0: a.x, y0: a.y, x1: b.x, y1: b.y, area: areaM2 * k.x * k.y)
    }

    /// What every tile of this layer starts from.
    private struct Cut {
        let transform: TileTransform
        let box: BoundingBox
        var coverage: CoverageGrid
        var encoder: FeatureGeometryEncoder
        var prepared: [PreparedFeature] = []
        /// Below this size (tile units) a feature is coverage (polygons) or left out (lines).
        let minSize: Double
        /// Below this size (tile units) a polygon is drawn as its area box, or in a block with
        /// its neighbours.
        let boxSize: Double
        var boxes: AreaBoxes
        var blocks = ParcelBlocks()

        /// A polygon drawn as its area box: with its id, without attributes (at this size no
        /// one picks it out; identify and the items API give them, and so does the next zoom).
        mutating func addBox(id: UInt64, _ fp: Footprint) {
            let half = (w: fp.width / 2, h: fp.height / 2)
            guard let g = boxes.box(x0: fp.x - half.w, y0: fp.y - half.h, x1: fp.x + half.w, y1: fp.y + half.h, area: fp.area)
            else { return }
            prepared.append(
                PreparedFeature(id: id, geometry: g, values: .none, size: fp.size, centreX: fp.x, centreY: fp.y, dataArea: fp.area))
        }
    }

    /// A land-use layer's coverage starts with no code names: a layer read per tile interns
    /// them as it reads, a resident layer's tile sets its interned values.
    private func cut(_ key: TileKey, _ grid: TileMatrixSet) -> Cut? {
        let t = TileTransform(grid: grid, key: key, extent: options.extent)
        let box = t.lonLatBox(buffer: Double(options.buffer))
        guard let bounds = cut == nil ? layer.version.bbox : cut?.box, bounds.intersects(box) else { return nil }
        return Cut(
            transform: t, box: box,
            coverage: CoverageGrid(extent: options.extent, cellSize: options.coverageCell, codeNames: landUse == nil ? nil : []),
            encoder: FeatureGeometryEncoder(transform: t, buffer: Double(options.buffer), tolerance: options.tolerance),
            minSize: kind == .point ? 0 : kind == .polygon ? options.minFeatureSize : options.minFeatureSize / 4,
            // Land use has no boxes: a box has no class, and boxes of a wall-to-wall layer
            // would leave gaps; its small 图斑 merge by class instead.
            boxSize: kind == .polygon && landUse == nil ? options.boxSize(z: key.z) : 0,
            boxes: AreaBoxes(low: -Double(options.buffer), high: Double(options.extent + options.buffer)))
    }

    /// A small layer's tile, read through the R*Tree.
    public func tile(_ key: TileKey, grid: TileMatrixSet, db: Database) throws -> [UInt8] {
        guard var c = cut(key, grid) else { return [] }
        let rows = try Row.fetchCursor(db.cachedStatement(sql: rtreeSQL), arguments: [c.box.minX, c.box.maxX, c.box.minY, c.box.maxY])
        while let row = try rows.next() {
            let fid: Int64 = row[0]
            if let cut, !cut.contains(fid) { continue }
            let area: Double = row[5] ?? 0
            guard let minX: Double = row[1], let minY: Double = row[2], let maxX: Double = row[3], let maxY: Double = row[4] else {
                continue
            }
            let fp = footprint(c.transform, minX, minY, maxX, maxY, area)
            if fp.size < c.minSize {
                if kind == .polygon {
                    let code = landUse.map { c.coverage.codeId(of: FeatureAttributes.value(row[7 + $0.field])) } ?? -1
                    c.coverage.add(x: fp.x, y: fp.y, area: fp.area, code: code, width: fp.width, height: fp.height)
                }
                continue
            }
            // Read in place: the blob is not copied out of SQLite's row buffer.
            guard let geometry = try? row.withUnsafeData(atIndex: 6, { blob in try blob.map { try SpatiaLiteGeometry.decode($0) } })
            else { continue }
            if fp.size < c.boxSize {
                c.blocks.add(id: UInt64(bitPattern: fid), fp, .geometry(geometry))
                continue
            }
            var lost = LostArea()
            let encoded = c.encoder.encode(geometry, lost: &lost)
            let values = fields.indices.map { FeatureAttributes.value(row[7 + $0]) }
            if lost.area > 0 {
                let code = landUse.map { c.coverage.codeId(of: values[$0.field]) } ?? -1
                c.coverage.add(x: lost.x, y: lost.y, area: lost.area, code: code)
            }
            guard let encoded else { continue }
            c.prepared.append(
                PreparedFeature(
                    id: UInt64(bitPattern: fid), geometry: encoded, values: .read(values),
                    size: fp.size, centreX: fp.x, centreY: fp.y, dataArea: fp.area))
        }
        return finish(&c)
    }

    /// A large layer's tile, from memory.
    func tile(_ key: TileKey, grid: TileMatrixSet, resident: ResidentLayer) -> [UInt8] {
        guard var c = cut(key, grid) else { return [] }
        if let landUse {
            // The coverage's code ids are the resident layer's interned values of the code field.
            c.coverage.codeNames = resident.attributes.tables[landUse.field].map { v -> String in
                switch v {
                case .string(let s): return s
                case .int(let n): return String(n)
                case .double(let d): return String(d)
                case .bool(let b): return String(b)
                }
            }
        }
        let summary = resident.summary
        // A contribution's land-use code: its interned value (-1 for none, or not land use).
        let codeOf: (Int) -> Int32 = { k in self.landUse.map { resident.attributes.indices[$0.field][Int(summary.row[k])] } ?? -1 }
        var big: [(k: Int, size: Double, fp: Footprint)] = []
        var small: [(k: Int, fp: Footprint)] = []
        let p = summary.projected(grid)
        let scale = Double(options.extent) * Double(1 << key.z)
        let ox = Double(key.x * options.extent), oy = Double(key.y * options.extent)
        let cut = self.cut
        summary.forEach(in: c.box) { k in
            if let cut, !cut.contains(summary.fid[k]) { return }
            let x0 = p.minX[k] * scale - ox, x1 = p.maxX[k] * scale - ox
            let y0 = p.minY[k] * scale - oy, y1 = p.maxY[k] * scale - oy
            let fp = Footprint(x0: x0, y0: y0, x1: x1, y1: y1, area: p.area[k] * scale * scale)
            if fp.size < c.minSize {
                if kind == .polygon { small.append((k, fp)) }
            } else {
                big.append((k, fp.size, fp))
            }
        }
        // In feature order, not the order the summary's buckets give (which follows the whole
        // layer's bounds): the area boxes' rounding and the coverage sums then depend only on
        // the features in this tile, so a tile changes only when they do (`tiles export --update`).
        small.sort { summary.fid[$0.k] < summary.fid[$1.k] }
        big.sort { summary.fid[$0.k] < summary.fid[$1.k] }
        for s in small { c.coverage.add(x: s.fp.x, y: s.fp.y, area: s.fp.area, code: codeOf(s.k), width: s.fp.width, height: s.fp.height) }
        // More outlines than the budget can hold even at their smallest (about 48 bytes
        // for a small parcel): the densest cells become coverage, whole cells at a time.
        let affordable = min(options.layerBudget / 48, options.maxFeatures)
        if big.count > affordable, kind == .polygon {
            let largest = big.map(\.size).max() ?? 0
            c.coverage.ensureCell(atLeast: min(options.extent / 8, Int(2 * largest.rounded(.up))))
            let move = CoverageGrid.shed(
                big.map { (x: $0.fp.x, y: $0.fp.y, cost: 48.0) }, cellSize: c.coverage.cellSize,
                extent: options.extent, budget: Double(affordable * 48))
            var kept: [(k: Int, size: Double, fp: Footprint)] = []
            for (b, m) in zip(big, move) {
                if m {
                    c.coverage.add(x: b.fp.x, y: b.fp.y, area: b.fp.area, code: codeOf(b.k), width: b.fp.width, height: b.fp.height)
                } else {
                    kept.append(b)
                }
            }
            big = kept
        }
        let shapes = resident.shapes
        for b in big {
            let row = Int(summary.row[b.k])
            // The box from the projected summary: placing the feature needs no log or tan.
            let box = FeatureShapes.TileBox(west: p.minX[b.k] * scale - ox, bottom: p.maxY[b.k] * scale - oy, top: p.minY[b.k] * scale - oy)
            if b.size < c.boxSize {
                c.blocks.add(id: UInt64(bitPattern: summary.fid[b.k]), b.fp, .resident(row: row, box: box))
                continue
            }
            var lost = LostArea()
            let encoded: EncodedGeometry?
            switch shapes.kind(row) {
            case .exterior?, .hole?: encoded = c.encoder.polygons(projected: shapes.polygons(row, c.transform, box: box), lost: &lost)
            case .line?: encoded = c.encoder.lines(projected: shapes.lines(row, c.transform, box: box))
            case .points?: encoded = c.encoder.points(projected: shapes.points(row, c.transform, box: box))
            case nil: encoded = nil
            }
            if lost.area > 0 { c.coverage.add(x: lost.x, y: lost.y, area: lost.area, code: codeOf(b.k)) }
            guard let encoded else { continue }
            c.prepared.append(
                PreparedFeature(
                    id: UInt64(bitPattern: summary.fid[b.k]), geometry: encoded,
                    values: .interned(row: row),
                    size: b.size, centreX: b.fp.x, centreY: b.fp.y, dataArea: b.fp.area))
        }
        return finish(&c, attributes: resident.attributes, shapes: shapes)
    }

    /// The overview's small parcels: alone, an area box each; touching others, a block of
    /// their union (`ParcelBlocks`), or boxes if GEOS cannot make it.
    private func placeBlocks(_ c: inout Cut, shapes: FeatureShapes?) {
        guard !c.blocks.isEmpty else { return }
        var engine: GeometryEngine? = nil
        let parcels = c.blocks.parcels
        for group in c.blocks.groups() {
            let members = group.map { parcels[$0] }
            if members.count == 1 {
                c.addBox(id: members[0].id, members[0].footprint)
                continue
            }
            let (t, encoder) = (c.transform, c.encoder)
            let outlines = members.flatMap { p -> [[[TileVertex]]] in
                switch p.outline {
                case .resident(let row, let box): return shapes?.polygons(row, t, box: box) ?? []
                case .geometry(let g): return encoder.projected(g.polygons)
                }
            }
            if engine == nil { engine = GeometryEngine() }
            var lost = LostArea()
            guard let union = ParcelBlocks.union(outlines, engine: engine!) else {
                for p in members { c.addBox(id: p.id, p.footprint) }
                continue
            }
            let encoded = c.encoder.polygons(projected: union, lost: &lost)
            if lost.area > 0 { c.coverage.add(x: lost.x, y: lost.y, area: lost.area) }
            guard let encoded else { continue }
            let fps = members.map(\.footprint)
            let x0 = fps.map { $0.x - $0.width / 2 }.min()!, x1 = fps.map { $0.x + $0.width / 2 }.max()!
            let y0 = fps.map { $0.y - $0.height / 2 }.min()!, y1 = fps.map { $0.y + $0.height / 2 }.max()!
            c.prepared.append(
                PreparedFeature(
                    id: members[0].id, geometry: encoded, values: .merged(count: members.count), size: max(x1 - x0, y1 - y0),
                    centreX: (x0 + x1) / 2, centreY: (y0 + y1) / 2, dataArea: fps.reduce(0) { $0 + $1.area }))
        }
    }

    /// Caps the feature count and puts the layer together within its budget.
    private func finish(_ c: inout Cut, attributes: FeatureAttributes? = nil, shapes: FeatureShapes? = nil) -> [UInt8] {
        placeBlocks(&c, shapes: shapes)
        let assembler = LayerTileAssembler(
            name: name, fields: fields.map(\.name), extent: options.extent, budget: options.layerBudget,
            attributes: attributes, landUse: landUse)
        if c.prepared.count > options.maxFeatures {
            // Keep the largest; the rest become coverage (polygons) or wait for a closer zoom.
            c.prepared.sort { $0.size > $1.size }
            for f in c.prepared[options.maxFeatures...] where kind == .polygon {
                c.coverage.add(x: f.centreX, y: f.centreY, area: f.dataArea, code: assembler.code(of: f, in: &c.coverage))
            }
            c.prepared.removeSubrange(options.maxFeatures...)
        }
        c.prepared.sort { $0.id < $1.id }
        return assembler.build(c.prepared, coverage: c.coverage)
    }
}

/// One read of a layer into memory, that callers who need the layer meanwhile wait for.
final class ResidentRead: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<ResidentLayer, Error>?>(nil)

    func finish(_ outcome: Result<ResidentLayer, Error>) {
        result.withLock { $0 = outcome }
        done.signal()
    }

    /// Waits for the read to end.
    func outcome() -> Result<ResidentLayer, Error> {
        done.wait()
        done.signal()
        return result.withLock { $0! }
    }
}

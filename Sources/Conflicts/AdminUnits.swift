import Foundation
import GRDB
import GeoCore
import LayerStore

/// The administrative units of an `admin` layer (counties now, townships when loaded),
/// with a grid that says, for each cell of about a kilometre, which unit wholly contains it
/// and which units cross it: most features then find their unit from their box alone.
final class AdminUnits {
    struct Unit {
        let code: String
        let name: String
        let geometry: EngineGeometry
        let prepared: PreparedGeometry
        let box: BoundingBox
    }

    enum CellState { case inside(Int), mixed([Int]) }

    let layer: LoadedLayer
    let level: String
    let units: [Unit]
    let engine: GeometryEngine
    let origin: Coordinate
    let cell: Double
    let columns: Int, rows: Int
    private var cells: [CellState?]

    /// `by` names an admin layer, or a level ("county", "township") within the first admin layer
    /// that has a `level` field; units of another level (the city itself) are left out. Only
    /// the admin layers among `visible` (what the caller may see) count: a hidden layer's name
    /// is answered as any name that is neither a layer nor a level.
    init(db: Database, by: String, among visible: [LoadedLayer], engine: GeometryEngine, cell: Double = 0.01) throws {
        self.engine = engine
        self.cell = cell
        let admins = visible.filter { $0.spec.kind == .admin }
        guard let layer = admins.first(where: { $0.name == by }) ?? admins.first else {
            throw StoreError.invalidRequest("no admin layer is loaded: the ledger needs administrative units (kind: admin)")
        }
        self.layer = layer
        level = admins.contains(where: { $0.name == by }) ? layer.name : by
        let table = FeatureTable(layer.version)
        let hasLevel = layer.version.fields.contains { $0.name == "level" }
        let byLevel = hasLevel && level != layer.name
        let found = try Row.fetchAll(
            db,
            sql: table.select(
                [.id, layer.spec.labelField.map { .field($0) } ?? .id, .geometry],
                where: byLevel ? [table.equals("level")] : [], order: [.init(.id)]),
            arguments: byLevel ? [level] : [])
        guard !found.isEmpty else {
            let levels = hasLevel ? try String.fetchAll(db, sql: table.distinctValues(of: "level")) : []
            throw StoreError.notFound(
                "by=\(by) names no admin layer or level; by= takes \((admins.map(\.name) + levels).joined(separator: ", "))")
        }
        units = try found.map { row in
            let g = try SpatiaLiteGeometry.decode(row[2])
            let eg = try engine.make(g)
            let code: String = row[0], label: DatabaseValue = row[1]
            return Unit(
                code: code, name: String.fromDatabaseValue(label) ?? code, geometry: eg, prepared: try eg.prepared(), box: g.boundingBox!)
        }
        var box = units[0].box
        for u in units { box.extend(u.box) }
        origin = Coordinate(box.minX, box.minY)
        columns = Int(((box.maxX - box.minX) / cell).rounded(.up)) + 1
        rows = Int(((box.maxY - box.minY) / cell).rounded(.up)) + 1
        cells = Array(repeating: nil, count: columns * rows)
        try classify()
    }

    func rectangle(_ b: BoundingBox) -> Geometry {
        .polygon(
            Polygon([
                [
                    Coordinate(b.minX, b.minY), Coordinate(b.maxX, b.minY), Coordinate(b.maxX, b.maxY),
                    Coordinate(b.minX, b.maxY), Coordinate(b.minX, b.minY)
                ]
            ]))
    }

    /// Classifies cells coarse to fine: an 8×8 block wholly inside one unit needs no finer look.
    private func classify() throws {
        let block = 8
        for by in stride(from: 0, to: rows, by: block) {
            for bx in stride(from: 0, to: columns, by: block) {
                let c1 = min(columns, bx + block), r1 = min(rows, by + block)
                let b = BoundingBox(
                    origin.x + Double(bx) * cell, origin.y + Double(by) * cell, origin.x + Double(c1) * cell, origin.y + Double(r1) * cell)
                let coarse = try state(b)
                if case .inside = coarse {
                    for r in by..<r1 { for c in bx..<c1 { cells[r * columns + c] = coarse } }
                } else if case .mixed(let list) = coarse, list.isEmpty {
                    continue
                } else {
                    for r in by..<r1 {
                        for c in bx..<c1 {
                            let cb = BoundingBox(
                                origin.x + Double(c) * cell, origin.y + Double(r) * cell, origin.x + Double(c + 1) * cell,
                                origin.y + Double(r + 1) * cell)
                            cells[r * columns + c] = try state(cb)
                        }
                    }
                }
            }
        }
    }

    private func state(_ b: BoundingBox) throws -> CellState {
        let rect = try engine.make(rectangle(b))
        var touching: [Int] = []
        for (i, u) in units.enumerated() where u.box.intersects(b) {
            if try u.prepared.containsProperly(rect) { return .inside(i) }
            if try u.prepared.intersects(rect) { touching.append(i) }
        }
        return .mixed(touching)
    }

    /// The unit wholly containing the box, if the grid can tell; else the units it may touch.
    func locate(_ b: BoundingBox) -> (inside: Int?, candidates: [Int]) {
        let c0 = max(0, Int((b.minX - origin.x) / cell)), c1 = min(columns - 1, Int((b.maxX - origin.x) / cell))
        let r0 = max(0, Int((b.minY - origin.y) / cell)), r1 = min(rows - 1, Int((b.maxY - origin.y) / cell))
        guard c0 <= c1, r0 <= r1 else { return (nil, []) }
        var inside: Int? = nil
        var all = true
        var candidates = Set<Int>()
        for r in r0...r1 {
            for c in c0...c1 {
                switch cells[r * columns + c] {
                case .inside(let u)?:
                    candidates.insert(u)
                    if inside == nil { inside = u } else if inside != u { all = false }
                case .mixed(let list)?:
                    all = false
                    candidates.formUnion(list)
                case nil:
                    all = false
                }
            }
        }
        if all, let inside { return (inside, [inside]) }
        return (nil, candidates.sorted())
    }

    /// The unit containing a point (for placing a change or an overlap), or nil.
    func unit(at p: Coordinate) throws -> Int? {
        let (inside, candidates) = locate(BoundingBox(p.x, p.y, p.x, p.y))
        if let inside { return inside }
        let point = try engine.make(.point(p))
        for i in candidates where try units[i].prepared.intersects(point) { return i }
        return nil
    }
}

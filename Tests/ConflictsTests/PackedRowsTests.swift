import Foundation
import FuzzSupport
import GRDB
import GeoCore
import LayerStore
import Testing

@testable import Conflicts

/// A large layer's rows copied into memory must read back exactly as SQLite gives them: the
/// same id, stored area, geometry blob and attributes, each attribute in the storage class
/// SQLite holds it in (integer, real, text, null, a blob reading as null), whatever the text.
struct PackedRowsTests {
    static let fieldNames = ["NAME", "CODE", "AREA", "COUNT", "NOTE", "RAW"]

    /// A table laid out as a feature table is, with `rows` random features.
    func table(_ rows: Int, seed: UInt64) throws -> (DatabaseQueue, FeatureTable) {
        let db = try DatabaseQueue()
        let table = FeatureTable(name: "lyr_t_1", fields: Self.fieldNames)
        var random = FuzzRandom(seed: seed)
        try db.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE lyr_t_1 (om_fid INTEGER PRIMARY KEY, om_id TEXT NOT NULL, om_source_fid INTEGER, om_area_m2 REAL,
                    om_length_m REAL, om_minx REAL, om_miny REAL, om_maxx REAL, om_maxy REAL,
                    NAME TEXT, CODE TEXT, AREA REAL, COUNT INTEGER, NOTE, RAW BLOB, geom BLOB)
                    """)
            let texts = ["", "0101", "水田", "庆元县东田村", String(repeating: "长", count: 300), "a\u{0}b", "331126211000000001"]
            for fid in 1...rows {
                let x = random.double(119...119.1), y = random.double(28...28.1)
                let square = Geometry.polygon(
                    Polygon([
                        [
                            Coordinate(x, y), Coordinate(x + 1e-4, y), Coordinate(x + 1e-4, y + 1e-4), Coordinate(x, y + 1e-4),
                            Coordinate(x, y)
                        ]
                    ]))
                let box = BoundingBox(x, y, x + 1e-4, y + 1e-4)
                // NOTE has no declared type: SQLite keeps whatever class it is given.
                let notes: [DatabaseValueConvertible?] = [nil, 7, 2.5, "text", Data([1, 2])]
                let note = random.pick(notes)
                try db.execute(
                    sql: "INSERT INTO lyr_t_1 VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        fid, "F\(fid)", fid, random.double(0...50_000), box.minX, box.minY, box.maxX, box.maxY,
                        random.chance(0.25) ? nil : random.pick(texts), random.pick(texts),
                        random.chance(0.3) ? nil : random.double(0...1000), Int64(bitPattern: random.next()), note,
                        random.chance(0.5) ? nil : Data([0, 255, 7]),
                        SpatiaLiteGeometry.encode(square, srid: 4490, box: box)
                    ])
            }
        }
        return (db, table)
    }

    @Test(arguments: [1, 2, 3])
    func rowsReadBackAsSQLiteGivesThem(seed: UInt64) throws {
        let (queue, table) = try table(300, seed: seed)
        let fields = LayerFields(names: Self.fieldNames)
        try queue.read { db in
            let boxes = try LayerBoxes(table: table, fields: fields, db: db, rowMemory: RowMemory(limit: 1 << 30))
            let rows = try #require(boxes.rows)
            #expect(rows.count == 300)
            let lookup = RowByKey(try db.cachedStatement(sql: boxes.rowSQL))
            for (item, fid) in boxes.fids.enumerated() {
                let packed = PackedRow(rows: rows, item: item)
                try lookup.withRow(key: fid) { s in
                    let row = CandidateRow(statement: s, fields: fields)
                    #expect(packed.id == row.id)
                    #expect(packed.areaM2 == row.areaM2)
                    let blobs = (try packed.blob(fid: fid), try row.blob(fid: fid))
                    let geometries = (try packed.geometry(fid: fid), try row.geometry(fid: fid))
                    #expect(blobs.0 == blobs.1)
                    #expect(geometries.0 == geometries.1)
                    #expect(packed.properties == row.properties, "fid \(fid)")
                    for name in Self.fieldNames + ["MISSING"] {
                        #expect(packed.attribute(name) == row.attribute(name), "fid \(fid) \(name)")
                    }
                }
            }
        }
    }

    @Test func aLayerOverItsBudgetIsReadFromSQLiteAndGivesTheMemoryBack() throws {
        let (queue, table) = try table(2_000, seed: 9)
        let fields = LayerFields(names: Self.fieldNames)
        try queue.read { db in
            let small = RowMemory(limit: 1 << 20)
            let over = try LayerBoxes(table: table, fields: fields, db: db, rowMemory: small)
            #expect(over.rows == nil)
            #expect(over.fids.count == 2_000)
            #expect(small.bytesUsed == 0)
            let enough = RowMemory(limit: 64 << 20)
            var held: LayerBoxes? = try LayerBoxes(table: table, fields: fields, db: db, rowMemory: enough)
            let bytes = try #require(held?.rows).byteCount
            #expect(bytes > 2_000 * 100)
            #expect(enough.bytesUsed == bytes)
            held = nil
            #expect(enough.bytesUsed == 0)
        }
    }
}

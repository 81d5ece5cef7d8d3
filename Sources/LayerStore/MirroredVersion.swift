import Foundation
import GRDB
import GeoCore

/// A version another store made and holds (the PostGIS database a replica serves), copied into
/// this one as it is: its rows were read, repaired, measured and validated by that load, so
/// they are written as they come, under the version's own number, label and definition. The
/// copy is a cache: the version becomes visible only when it is registered, at the end, and a
/// copy cut short leaves a table the next copy drops.
public struct MirroredVersion: Sendable {
    public var spec: LayerSpec
    public var version: Int
    public var label: String
    /// "MultiPoint", "MultiLineString" or "MultiPolygon".
    public var geometryType: String
    public var fields: [FieldDefinition]
    public var sourceCRS: String
    public var loadedAt: String
    public var repaired: Int
    public var note: String?

    public init(
        spec: LayerSpec, version: Int, label: String, geometryType: String, fields: [FieldDefinition], sourceCRS: String,
        loadedAt: String, repaired: Int, note: String?
    ) {
        self.spec = spec
        self.version = version
        self.label = label
        self.geometryType = geometryType
        self.fields = fields
        self.sourceCRS = sourceCRS
        self.loadedAt = loadedAt
        self.repaired = repaired
        self.note = note
    }

    package var table: String { FeatureTable(layer: spec.name, version: version, fields: fields.map(\.name)).name }
}

/// One stored feature of a mirrored version.
public struct MirroredRow: Sendable {
    public var id: String
    public var sourceFID: Int64
    public var area: Double
    public var length: Double
    public var box: BoundingBox
    public var attributes: [AttributeValue]
    /// The geometry as a SpatiaLite blob (`SpatiaLiteGeometry.fromWKB`, or `encode`).
    public var blob: Data

    public init(id: String, sourceFID: Int64, area: Double, length: Double, box: BoundingBox, attributes: [AttributeValue], blob: Data) {
        self.id = id
        self.sourceFID = sourceFID
        self.area = area
        self.length = length
        self.box = box
        self.attributes = attributes
        self.blob = blob
    }
}

/// Writes a mirrored version batch by batch: `init` (the empty table), `append` as rows
/// arrive, `finish`.
/// Each step is a transaction of its own, so the rows can come from an asynchronous reader.
public struct MirrorWriter {
    public let store: Store
    public let version: MirroredVersion
    private var rtree = PackedRTree()
    private var units = LandUseUnits()
    private let landUseColumns: [LandUseFields.Role: Int]?
    private var count = 0
    private var bbox: BoundingBox?

    /// Whether the store holds the version already (a replica restarted, or a second sync).
    public static func has(_ version: MirroredVersion, in store: Store) throws -> Bool {
        try store.pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT 1 FROM onemap_layer_versions WHERE layer = ? AND version = ?",
                arguments: [version.spec.name, version.version]) != nil
        }
    }

    /// Starts the copy: the version's table, empty.
    public init(store: Store, version: MirroredVersion) throws {
        self.store = store
        self.version = version
        landUseColumns =
            version.spec.kind == .landUse
            ? try LandUseValidation(fields: version.spec.landUse ?? LandUseFields(), sourceFields: version.fields.map(\.name)).columns
            : nil
        let table = version.table
        try store.pool.write { db in
            _ = try LayerImporter.createTable(table, index: FeatureTable(name: table, fields: []).indexName, fields: version.fields, db: db)
        }
    }

    public mutating func append(_ rows: [MirroredRow]) throws {
        let table = version.table
        let fields = version.fields
        var added: [(Int64, BoundingBox)] = []
        added.reserveCapacity(rows.count)
        try store.pool.write { db in
            let insert = try LayerImporter.insert(into: table, fields: fields, db: db)
            for row in rows {
                try insert.feature(
                    id: row.id, sourceFID: row.sourceFID, area: row.area, length: row.length, box: row.box, attributes: row.attributes,
                    blob: row.blob)
                added.append((db.lastInsertedRowID, row.box))
            }
        }
        for (id, box) in added { rtree.add(id: id, box: box) }
        for row in rows {
            if let landUseColumns { units.add(row.attributes, columns: landUseColumns, areaM2: row.area) }
            if bbox == nil { bbox = row.box } else { bbox!.extend(row.box) }
        }
        count += rows.count
    }

    /// Indexes the rows and registers the version: as the layer's current one, or (`current`
    /// false, an older version copied for a comparison) beside it.
    public mutating func finish(current: Bool = true) throws {
        let v = version
        let table = v.table
        guard let dimension = LayerImporter.geometryTypes.firstIndex(of: v.geometryType) else {
            throw StoreError.database(
                "version \(v.version) of '\(v.spec.name)' has geometry type \(v.geometryType), which OneMap does not store")
        }
        let specJSON = String(decoding: try JSONEncoder().encode(v.spec), as: UTF8.self)
        let (count, bbox, units) = (self.count, self.bbox, self.units)
        var rtree = self.rtree
        try store.pool.write { db in
            try rtree.write(FeatureTable(name: table, fields: []).indexName, db: db)
            if v.spec.kind == .landUse { try units.write(beside: table, db: db) }
            try LayerImporter.register(
                .init(
                    spec: v.spec, version: v.version, label: v.label, table: table, geometryType: v.geometryType,
                    dimension: dimension, count: count, bbox: bbox, fields: v.fields, sourceCRS: v.sourceCRS, loadedAt: v.loadedAt,
                    repaired: v.repaired, specJSON: specJSON, note: v.note, current: current),
                db: db)
        }
    }
}

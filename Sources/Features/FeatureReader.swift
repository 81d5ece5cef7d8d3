import Foundation
import GRDB
import GeoCore
import LayerStore

/// One feature as read: its OGC id, its geometry blob and the values of the requested fields.
struct FeatureRow {
    let fid: Int64
    let id: String
    let blob: Data?
    let values: [DatabaseValue]
}

/// Runs item queries against a layer's version table.
enum FeatureReader {
    /// A page of features and how many match in all: of a scoped caller's part of the layer
    /// only, when it is cut.
    static func page(_ q: ItemsQuery, layer: FeatureLayer, db: Database) throws -> (rows: [FeatureRow], matched: Int) {
        var conditions: [String] = []
        var arguments: [DatabaseValue] = []
        var prefilter = q.prefilter
        let cut = layer.cut
        if let cut {
            guard let box = cut.box else { return ([], 0) }
            prefilter.append(box)
            conditions.append(ScopeFunction.condition(layer.table))
        }
        for box in prefilter {
            conditions.append(layer.table.boxMeets)
            arguments += [box.minX, box.maxX, box.minY, box.maxY].map(\.databaseValue)
        }
        conditions += q.whereSQL
        arguments += q.arguments
        let fields = q.properties ?? layer.fields
        let sql = layer.table.select(
            [.fid, .id, .geometry] + fields.map { .field($0.name) }, where: conditions,
            order: q.sortby.map { .init(.field($0.field), ascending: $0.ascending) }, paged: true)

        return try FilterFunctions.with(db: db) {
            try ScopeFunction.with(cut, db: db) {
                try SpatialFunction.with(q.tests, db: db) {
                    let matched: Int
                    if conditions.isEmpty {
                        matched = layer.layer.version.count
                    } else {
                        matched =
                            try Int.fetchOne(db, sql: layer.table.count(where: conditions), arguments: StatementArguments(arguments)) ?? 0
                    }
                    var rows: [FeatureRow] = []
                    if q.offset < matched {
                        rows.reserveCapacity(min(q.limit, matched - q.offset))
                        let cursor = try Row.fetchCursor(
                            db, sql: sql, arguments: StatementArguments(arguments + [q.limit.databaseValue, q.offset.databaseValue]))
                        while let row = try cursor.next() { rows.append(Self.row(row, fieldCount: fields.count)) }
                    }
                    return (rows, matched)
                }
            }
        }
    }

    /// What a feature read whole selects: fid, id, geometry, then every field (from 3).
    static let columns: [FeatureTable.Column] = [.fid, .id, .geometry, .fields]

    static func row(_ row: Row, fieldCount: Int) -> FeatureRow {
        var values: [DatabaseValue] = []
        values.reserveCapacity(fieldCount)
        for i in 0..<fieldCount { values.append(row[3 + i]) }
        return FeatureRow(fid: row[0], id: row[1], blob: row[2], values: values)
    }

    /// One feature by its OGC id (the catalog's id field); none outside a scoped caller's part.
    static func feature(_ id: String, layer: FeatureLayer, db: Database) throws -> FeatureRow? {
        guard let row = try Row.fetchOne(db, sql: layer.table.byId(columns), arguments: [id]) else { return nil }
        let feature = Self.row(row, fieldCount: layer.fields.count)
        if let cut = layer.cut, !cut.contains(feature.fid) { return nil }
        return feature
    }
}

import Foundation
import GRDB
import GeoCore

/// Layer versions as check records name them. A record's conflict geometry may be drawn after
/// its answer is given, from the versions the check read, so those versions must still be
/// there and nothing may drop them while a record still needs them.
extension Store {
    /// The named versions of the named layers, each with the definition it was loaded under,
    /// by layer name, inside the caller's transaction. A version that is gone is an error.
    public static func loadedLayers(_ db: Database, at versions: [String: Int]) throws -> [LoadedLayer] {
        try versions.keys.sorted().map { layer in
            let number = versions[layer]!
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT layer AS name, * FROM onemap_layer_versions WHERE layer = ? AND version = ?
                            """), arguments: [layer, number])
            else {
                throw StoreError.unknownVersion(layer: layer, version: String(number))
            }
            return try LoadedLayer(row: row)
        }
    }

    /// The feature table of one version of a layer, nil when that version is gone.
    public static func featureTable(_ db: Database, layer: String, version: Int) throws -> FeatureTable? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT table_name, fields FROM onemap_layer_versions WHERE layer = ? AND version = ?"),
                arguments: [layer, version])
        else { return nil }
        let fields = try JSONDecoder().decode([FieldDefinition].self, from: Data((row[1] as String).utf8))
        return FeatureTable(name: row[0], fields: fields.map(\.name))
    }

    /// Whether every named version is still in the store.
    public static func hasVersions(_ db: Database, _ versions: [String: Int]) throws -> Bool {
        let statement = try db.cachedStatement(sql: "SELECT 1 FROM onemap_layer_versions WHERE layer = ? AND version = ?")
        for (layer, number) in versions where try Int.fetchOne(statement, arguments: [layer, number]) == nil { return false }
        return true
    }

    /// Check records whose conflict geometry is still to be drawn and that name one of these
    /// versions of `layer`: a version they name cannot be dropped until they have it.
    public static func recordsAwaitingGeometry(_ db: Database, layer: String, versions: Set<Int>) throws -> [String] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT c.id, c.layer_versions FROM onemap_check_geometry_pending p JOIN onemap_checks c ON c.id = p.check_id
                ORDER BY c.seq
                """)
        return try rows.compactMap { row in
            let named = try JSONDecoder().decode([String: NamedVersion].self, from: Data((row["layer_versions"] as String).utf8))
            guard let v = named[layer], versions.contains(v.version) else { return nil }
            return row["id"]
        }
    }

    private struct NamedVersion: Decodable { var version: Int }
}

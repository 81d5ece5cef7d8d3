import Foundation
import GRDB
import GeoCore
import LayerStore
import Synchronization

/// A record's conflict geometry (the site, each conflicting feature and the overlap pieces, as
/// `CheckGeoJSON`), drawn after the answer is given: the check is run again with its pieces,
/// on the site the record stores, at the layer versions it names. Checking without pieces
/// is several times faster for sites over many parcels (an overlap is then a stored area or a
/// sum along the boundary), and only the report, the GeoJSON and a pruning of old versions
/// ever draw them. The geometry is the same as a check keeping its pieces would have stored:
/// the same coordinates (the stored site is written in shortest round-trip form), the same
/// versions and rules, the same engine.
public enum CheckGeometry {
    /// The record's site as it was checked: its stored lon/lat geometry, taken as it is (not
    /// repaired or unioned again, which could move a vertex), with its ellipsoidal area.
    /// Read with strtod, not Foundation, whose JSON numbers are not always the nearest double.
    static func site(recorded text: String) throws -> Site {
        guard let polygons = SiteJSON.polygons(text), !polygons.isEmpty else {
            throw StoreError.database("a check record's site is not a Polygon or MultiPolygon as this program writes it")
        }
        let geometry = Geometry.multiPolygon(polygons.map(\.0))
        guard let bbox = geometry.boundingBox else { throw StoreError.database("a check record's site is empty") }
        return Site(geometry: geometry, areaM2: EqualAreaPlane.siteArea(geometry), bbox: bbox, parcels: [], warnings: [])
    }

    /// Draws the geometry of record `id` in the caller's transaction.
    static func draw(_ id: String, db: Database, checker: ConflictChecker) throws -> Data {
        guard let row = try Row.fetchOne(db, sql: "SELECT site, layer_versions FROM onemap_checks WHERE id = ?", arguments: [id]) else {
            throw StoreError.notFound("no check '\(id)'")
        }
        let versions = try JSONDecoder().decode([String: LayerVersionRef].self, from: Data((row["layer_versions"] as String).utf8))
        let outcome = try checker.check(try site(recorded: row["site"]), at: versions, db: db, keepPieces: true)
        return try CheckGeoJSON.data(outcome)
    }

    /// Keeps drawn geometry with its record, once: a record drawn twice at once (the
    /// background and a reader) gets the same bytes, and the first stays.
    static func keep(_ id: String, _ geojson: Data, db: Database) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO onemap_check_geometry(check_id, geojson) VALUES (?, ?)", arguments: [id, geojson])
        try db.execute(sql: "DELETE FROM onemap_check_geometry_pending WHERE check_id = ?", arguments: [id])
    }

    /// Records still waiting, oldest first.
    static func pending(_ db: Database, limit: Int) throws -> [String] {
        try String.fetchAll(
            db,
            sql: """
                SELECT p.check_id FROM onemap_check_geometry_pending p JOIN onemap_checks c ON c.id = p.check_id ORDER BY c.seq LIMIT ?
                """, arguments: [limit])
    }

    /// The least the stored GeoJSON can take: the conflicting features' own geometry, which it
    /// holds whole, from the size of their stored blobs (16 bytes a vertex there, never fewer
    /// than 20 as text). The overlap pieces, smaller than their features, are not counted.
    /// Versions are immutable, so any transaction that still has them reads the same sizes.
    static func featureGeometryBytes(_ outcome: CheckOutcome, db: Database) throws -> Int {
        var total = 0
        for layer in outcome.result.layers where !layer.features.isEmpty {
            guard let table = try table(layer.layer, outcome, db) else { continue }
            let ids = String(decoding: try JSONEncoder().encode(layer.features.map(\.id)), as: UTF8.self)
            let bytes =
                try Int.fetchOne(
                    db.cachedStatement(sql: table.geometryBytesOfIds),
                    arguments: [ids]) ?? 0
            total += bytes / 16 * 20
        }
        return total
    }

    /// At least `featureGeometryBytes`, from the largest blob of each layer version (`sizes`):
    /// when even this fits under the cap, the features need not be looked up one by one.
    static func featureGeometryBound(_ outcome: CheckOutcome, db: Database, sizes: BlobSizes) throws -> Int {
        var total = 0
        for layer in outcome.result.layers where !layer.features.isEmpty {
            guard let version = outcome.versions[layer.layer], let table = try table(layer.layer, outcome, db) else { continue }
            total += layer.features.count * (try sizes.largest(layer.layer, version.version, table: table, db: db) / 16 * 20)
        }
        return total
    }

    static func table(_ layer: String, _ outcome: CheckOutcome, _ db: Database) throws -> FeatureTable? {
        guard let version = outcome.versions[layer] else { return nil }
        return try Store.featureTable(db, layer: layer, version: version.version)
    }

}

/// The largest geometry blob of each layer version, read once per version (a scan of its
/// table: a layer version never changes).
final class BlobSizes: Sendable {
    private let largest = Mutex<[String: Int]>([:])

    func largest(_ layer: String, _ version: Int, table: FeatureTable, db: Database) throws -> Int {
        let key = "\(layer)\u{1}\(version)"
        if let known = largest.withLock({ $0[key] }) { return known }
        let found = try Int.fetchOne(db, sql: table.largestGeometryBytes) ?? 0
        largest.withLock { $0[key] = found }
        return found
    }

    /// `CheckGeometry.featureGeometryBound` from what is known already, without the database;
    /// nil when a version's size is not known yet.
    func bound(_ outcome: CheckOutcome) -> Int? {
        largest.withLock { largest -> Int? in
            var total = 0
            for layer in outcome.result.layers where !layer.features.isEmpty {
                guard let version = outcome.versions[layer.layer] else { continue }
                guard let known = largest["\(layer.layer)\u{1}\(version.version)"] else { return nil }
                total += layer.features.count * (known / 16 * 20)
            }
            return total
        }
    }
}

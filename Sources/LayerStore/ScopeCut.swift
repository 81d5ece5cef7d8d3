import Foundation
import GRDB
import GeoCore
import Synchronization

/// The features of one layer version that a scoped caller may read: those that meet the
/// ground its scope covers (分级分类). The feature API, identify and tiles all ask this one
/// set, so a 遂昌 planner gets the same features of a restricted layer from each, and none
/// of 青田's. A feature that straddles the county line is in: it lies partly in the scope.
public struct ScopeCut: Sendable {
    public let scope: DataScope
    /// The admin layers' versions the scope's ground was drawn from (`LayerSnapshot.adminRevision`):
    /// a reload of the boundaries makes another cut, under another name.
    public let ground: String
    /// The row ids (`om_fid`) of the features kept.
    public let fids: Set<Int64>
    /// The box of the features kept; nil when none is.
    public let box: BoundingBox?
    public var count: Int { fids.count }

    public func contains(_ fid: Int64) -> Bool { fids.contains(fid) }
}

extension Store {
    /// The part of `layer` within `scope`, as transaction `db` sees the layers. Worked out
    /// once per scope and layer version (and again after any load: the admin boundaries may
    /// have changed), since a tile or a page of features asks for it on every request.
    ///
    /// The ground a scope covers is the union of the admin features whose code (the admin
    /// layer's id) the scope covers, in every admin layer: counties for 6-digit codes,
    /// townships for 9-digit ones where a township level is loaded. A scope that no loaded
    /// admin feature matches covers nothing, so the caller reads nothing restricted.
    public func scopeCut(_ scope: DataScope, of layer: LoadedLayer, _ db: Database) throws -> ScopeCut {
        try scopeCut(scope, of: layer.version, db)
    }

    /// The part of any version of a layer within `scope` (a change report compares two).
    public func scopeCut(_ scope: DataScope, of version: LayerVersion, _ db: Database) throws -> ScopeCut {
        let snapshot = try layerSnapshot(db)
        let areas = snapshot.derived(ScopeAreas.key) { ScopeAreas() }
        return try areas.cut(
            scope, of: version, admins: snapshot.layers.filter { $0.spec.kind == .admin }, ground: snapshot.adminRevision, db)
    }

    /// The ground `scope` covers (the union of its admin features); nil when no loaded admin
    /// feature matches it, so it covers nothing.
    public func scopeGround(_ scope: DataScope, _ db: Database) throws -> Geometry? {
        let snapshot = try layerSnapshot(db)
        return try snapshot.derived(ScopeAreas.key) { ScopeAreas() }.ground(
            scope, admins: snapshot.layers.filter { $0.spec.kind == .admin }, db)
    }
}

extension LayerSnapshot {
    /// The admin layers at their versions, `admin@3` (comma-separated when several): what
    /// every scope's ground is drawn from.
    public var adminRevision: String {
        layers.filter { $0.spec.kind == .admin }.map { "\($0.name)@\($0.version.number)" }.joined(separator: ",")
    }
}

/// What one layer snapshot's scoped callers have asked for: each scope's ground, and each
/// layer version's cut by it.
final class ScopeAreas: Sendable {
    final class Key: Sendable {}
    static let key = Key()

    private let grounds = Mutex<[DataScope: Geometry?]>([:])
    private let cuts = Mutex<[String: ScopeCut]>([:])

    func cut(_ scope: DataScope, of version: LayerVersion, admins: [LoadedLayer], ground revision: String, _ db: Database) throws
        -> ScopeCut
    {
        let key = "\(scope)|\(version.tableName)"
        if let known = cuts.withLock({ $0[key] }) { return known }
        let made = try Self.cut(scope, of: version, ground: try ground(scope, admins: admins, db), revision: revision, db)
        cuts.withLock { $0[key] = made }
        return made
    }

    func ground(_ scope: DataScope, admins: [LoadedLayer], _ db: Database) throws -> Geometry? {
        if let known = grounds.withLock({ $0[scope] }) { return known }
        let engine = GeometryEngine()
        var parts: [EngineGeometry] = []
        for admin in admins {
            let table = FeatureTable(admin.version)
            let rows = try Row.fetchCursor(db, sql: table.select([.id, .geometry]))
            while let row = try rows.next() {
                let code: String = row[0]
                guard scope.covers(code), let blob: Data = row[1] else { continue }
                parts.append(try engine.make(try SpatiaLiteGeometry.decode(blob)))
            }
        }
        let made = parts.isEmpty ? nil : try engine.union(parts).value()
        grounds.withLock { $0[scope] = made }
        return made
    }

    /// The features whose box meets the ground's box (through the R*Tree), then whose
    /// geometry meets the ground itself (a prepared GEOS test).
    private static func cut(_ scope: DataScope, of version: LayerVersion, ground: Geometry?, revision: String, _ db: Database) throws
        -> ScopeCut
    {
        guard let ground, let area = ground.boundingBox else { return ScopeCut(scope: scope, ground: revision, fids: [], box: nil) }
        let engine = GeometryEngine()
        let prepared = try engine.make(ground).prepared()
        let table = FeatureTable(version)
        let rows = try Row.fetchCursor(
            db, sql: table.inBox([.fid, .box, .geometry]), arguments: [area.minX, area.maxX, area.minY, area.maxY])
        var fids = Set<Int64>()
        var box: BoundingBox?
        while let row = try rows.next() {
            guard let blob: Data = row[5], try prepared.intersects(try engine.make(try SpatiaLiteGeometry.decode(blob))) else { continue }
            fids.insert(row[0])
            let b = BoundingBox(row[1], row[2], row[3], row[4])
            if box == nil { box = b } else { box!.extend(b) }
        }
        return ScopeCut(scope: scope, ground: revision, fids: fids, box: box)
    }
}

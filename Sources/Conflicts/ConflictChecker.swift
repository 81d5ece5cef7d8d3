import Foundation
import GeoCore
import GRDB
import LayerStore
import Synchronization

/// Checks a site against every layer that has a rule, in one read transaction, so a check
/// never mixes versions of a layer that is reloading.
///
/// Speed comes from doing as little geometry as possible: the R*Tree gives candidates by
/// bounding box; a prepared site answers "wholly inside?" for each, and then the parcel's
/// precomputed ellipsoidal area is the overlap, with no intersection at all; only parcels
/// that cross the site's edge are intersected.
public final class ConflictChecker: Sendable {
    public let store: Store
    /// Overlaps at or below this are rounding, not conflicts (m²).
    public static let minimumOverlapM2 = 0.01

    private struct Memo {
        /// Decoded layer specs and prepared SQL, reused while no layer has a new version:
        /// decoding the catalog costs as much as a check itself.
        var plans: (signature: String, set: LayerPlans)?
        /// The layer signature last read on each reader connection, with the connection's
        /// `PRAGMA data_version` at the time: while that is unchanged nothing was committed, so
        /// the signature is too. Reading it anew costs a fifth of a check with no candidates
        /// (each layer's row holds its whole spec, so reading `current_version` walks overflow
        /// pages); the pragma costs a tenth of that.
        var signatures: [ObjectIdentifier: ConnectionSignature] = [:]
    }
    private let memo = Mutex(Memo())

    /// @unchecked: the connection is only compared by identity, never used through this.
    struct ConnectionSignature: @unchecked Sendable {
        /// Weak: a connection closed and another opened at the same address must not match.
        weak var connection: Database?
        let dataVersion: Int64
        let signature: String
    }

    /// Layers up to this many features are kept decoded in memory: the red lines, zones and
    /// pipelines are few, and a scan of their boxes beats a SQL query per layer per check.
    public static let residentLimit = 20_000
    /// This checker's limit: tests lower it to hold large layers' SQL path to the resident one.
    let residentLimit: Int
    /// Whether larger layers' boxes are kept in memory (see `LayerBoxes`): for a checker that
    /// checks many sites, not one.
    let boxesInMemory: Bool

    public init(store: Store, residentLimit: Int = ConflictChecker.residentLimit, boxesInMemory: Bool = false) {
        self.store = store
        self.residentLimit = residentLimit
        self.boxesInMemory = boxesInMemory
    }

    /// The current layers and versions as this transaction sees them.
    func layerSignature(_ db: Database) throws -> String {
        // data_version counts commits by other connections only: a connection that writes
        // would not see its own loads in it, so only read-only connections use the memo.
        guard db.configuration.readonly else { return try Store.layerSignature(db) }
        // Read inside the transaction, so it is the version of this check's snapshot.
        let dataVersion = try IntegerCursor(statement: db.cachedStatement(sql: "PRAGMA data_version")).next() ?? 0
        let key = ObjectIdentifier(db)
        let known = memo.withLock { $0.signatures[key] }
        if let known, known.connection === db, known.dataVersion == dataVersion { return known.signature }
        let signature = try Store.layerSignature(db)
        let entry = ConnectionSignature(connection: db, dataVersion: dataVersion, signature: signature)
        memo.withLock { $0.signatures[key] = entry }
        return signature
    }

    func layerPlans(_ db: Database) throws -> LayerPlans {
        // Compared with what the cached plans were built from; read in this transaction, so
        // the plans match the versions this check reads.
        let signature = try layerSignature(db)
        if let plans = memo.withLock({ $0.plans }), plans.signature == signature { return plans.set }
        let built = LayerPlans(all: try Store.loadedLayers(db).map { try LayerPlan($0, db: db, residentLimit: residentLimit, boxesInMemory: boxesInMemory) })
        memo.withLock { $0.plans = (signature, built) }
        return built
    }

    /// `keepPieces: false` leaves `CheckOutcome.pieces` empty: the pieces are the geometry behind
    /// each conflict, which only the map, the report and a stored record draw, and keeping
    /// them means decoding features whose overlap is already known from their stored area.
    public func check(_ site: Site, layers wanted: [String]? = nil, keepPieces: Bool = true) throws -> CheckOutcome {
        try store.snapshot { db in try self.check(site, layers: wanted, db: db, keepPieces: keepPieces) }
    }

    public func check(_ site: Site, layers wanted: [String]?, db: Database, keepPieces: Bool = true) throws -> CheckOutcome {
        try check(site, layers: wanted, plans: try layerPlans(db), db: db, keepPieces: keepPieces)
    }

    /// The check against given plans: the current ones, or those of the versions a record names.
    func check(_ site: Site, layers wanted: [String]?, plans: LayerPlans, db: Database, keepPieces: Bool) throws -> CheckOutcome {
        let loaded = plans.all
        // Closures, not key paths, here and below: a key path literal in a generic call is
        // instantiated anew at every call, which costs 3% of a check.
        if let wanted {
            let names = Set(loaded.map { $0.name })
            if let unknown = wanted.first(where: { !names.contains($0) }) {
                throw StoreError.unknownLayer(unknown, known: loaded.map { $0.name })
            }
        }
        let layers = try plans.checked(wanted)
        let engine = GeometryEngine()
        let polygons = site.geometry.polygons
        let centre = Coordinate((site.bbox.minX + site.bbox.maxX) / 2, (site.bbox.minY + site.bbox.maxY) / 2)
        let convex = polygons.count == 1 ? ConvexRegion(polygons[0]) : nil
        let context = SiteContext(site: site, engine: engine, convex: convex,
                                  region: convex == nil ? PolygonRegion(polygons) : nil,
                                  plane: LocalPlane(origin: centre), equalArea: EqualAreaPlane(centre: centre),
                                  keepPieces: keepPieces)
        var results: [CheckResult.LayerConflict] = []
        results.reserveCapacity(layers.count)
        var pieces: [ConflictPiece] = []
        var worst: Severity? = nil
        for plan in layers {
            let evaluation = try LayerEvaluation(plan: plan, context: context, engine: engine, db: db).run()
            if evaluation.result.conflict { worst = max(worst ?? evaluation.result.severity, evaluation.result.severity) }
            results.append(evaluation.result)
            if keepPieces { pieces += evaluation.pieces }
        }
        let versions = wanted == nil ? plans.ruledVersions : Dictionary(uniqueKeysWithValues: layers.map { ($0.name, $0.versionRef) })
        let verdict: CheckResult.Verdict = worst.map { CheckResult.Verdict(rawValue: $0.rawValue)! } ?? .clear
        let result = CheckResult(verdict: verdict,
                                 site: .init(areaM2: site.areaM2, areaMu: AreaUnit.mu(fromM2: site.areaM2),
                                             areaHa: AreaUnit.hectares(fromM2: site.areaM2), bbox: site.bbox.array),
                                 layers: results, warnings: site.warnings)
        return CheckOutcome(result: result, site: site, pieces: pieces, versions: versions)
    }
}

import Foundation
import GRDB
import GeoCore
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

    /// This checker's key for what it derives from a layer snapshot (its plans).
    private let plansKey = PlansKey()
    private final class PlansKey: Sendable {}
    /// The 地类 under each farmland parcel, when the load worked it out (see `ParcelLandUse`):
    /// for a checker of many sites only. Reading them all took a single site's check from
    /// 0.07 s to 0.8 s at the bench's 1.9 million pieces, for 0.1 ms saved in that check.
    private let parcelLandUse = ParcelLandUseCache()

    /// Layers up to this many features are kept decoded in memory: the red lines, zones and
    /// pipelines are few, and a scan of their boxes beats a SQL query per layer per check.
    public static let residentLimit = 20_000
    /// This checker's limit: tests lower it to hold large layers' SQL path to the resident one.
    let residentLimit: Int
    /// Whether larger layers' boxes are kept in memory (see `LayerBoxes`): for a checker that
    /// checks many sites, not one.
    let boxesInMemory: Bool
    /// Bytes of large layers' rows such a checker copies into memory (see `PackedRows`):
    /// farmland of 500,000 parcels takes ~150 MB. A layer that would pass it is read from
    /// SQLite row by row, as before.
    public static let rowMemoryLimit = 1 << 30
    let rowMemory: RowMemory?

    /// `rowMemoryBytes`: for a checker with `boxesInMemory`, the row memory (0 keeps no rows).
    public init(
        store: Store, residentLimit: Int = ConflictChecker.residentLimit, boxesInMemory: Bool = false,
        rowMemoryBytes: Int = ConflictChecker.rowMemoryLimit
    ) {
        self.store = store
        self.residentLimit = residentLimit
        self.boxesInMemory = boxesInMemory
        rowMemory = boxesInMemory && rowMemoryBytes > 0 ? RowMemory(limit: rowMemoryBytes) : nil
    }

    /// Bytes of rows this checker holds in memory now.
    public var rowMemoryUsed: Int { rowMemory?.bytesUsed ?? 0 }

    /// Decoded layer specs and prepared SQL, for the layers as this transaction sees them:
    /// derived once per snapshot, since decoding the catalog costs as much as a check.
    func layerPlans(_ db: Database) throws -> LayerPlans {
        let snapshot = try store.layerSnapshot(db)
        return try snapshot.derived(plansKey) {
            LayerPlans(
                all: try snapshot.layers.map {
                    try LayerPlan($0, db: db, residentLimit: residentLimit, boxesInMemory: boxesInMemory, rowMemory: rowMemory)
                })
        }
    }

    /// Derives the current layers' plans (a large layer's boxes and rows, copied into memory:
    /// ~0.4 s for 500,000 parcels) on a background thread, so the first check after start-up
    /// or a reload does not wait for them. A check arriving meanwhile derives them too (the
    /// first kept wins); a failure is met again, and said, by the check that needs the layer.
    public func warmInBackground() {
        Blocking.startBackgroundThread(named: "onemap-check-warm", nice: 19) {
            _ = try? self.store.snapshot { db in try self.parcelLandUse.value(try self.layerPlans(db), db: db) }
        }
    }

    /// `keepPieces: false` leaves `CheckOutcome.pieces` empty: the pieces are the geometry behind
    /// each conflict, which only the map, the report and a stored record draw, and keeping
    /// them means decoding features whose overlap is already known from their stored area.
    public func check(_ site: Site, layers wanted: [String]? = nil, keepPieces: Bool = true) throws -> CheckOutcome {
        try store.snapshot { db in try self.check(site, layers: wanted, db: db, keepPieces: keepPieces) }
    }

    public func check(_ site: Site, layers wanted: [String]?, db: Database, keepPieces: Bool = true) throws -> CheckOutcome {
        let plans = try layerPlans(db)
        let known = boxesInMemory ? try parcelLandUse.value(plans, db: db) : nil
        return try check(site, layers: wanted, plans: plans, parcelLandUse: known, db: db, keepPieces: keepPieces)
    }

    /// The check against given plans: the current ones, or those of the versions a record names
    /// (whose farmland by 地类 is overlaid, `parcelLandUse` nil).
    func check(
        _ site: Site, layers wanted: [String]?, plans: LayerPlans, parcelLandUse: ParcelLandUse? = nil, db: Database, keepPieces: Bool
    ) throws -> CheckOutcome {
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
        let context = SiteContext(
            site: site, engine: engine, convex: convex,
            region: convex == nil ? PolygonRegion(polygons) : nil,
            plane: LocalPlane(origin: centre), equalArea: EqualAreaPlane(centre: centre),
            keepPieces: keepPieces)
        var results: [CheckResult.LayerConflict] = []
        results.reserveCapacity(layers.count)
        var pieces: [ConflictPiece] = []
        var worst: Severity? = nil
        /// The farmland layer's overlaps, when it was checked: its 地类 figures start from them.
        var farmlandOverlaps: [LayerEvaluation.Overlap]? = nil
        for plan in layers {
            let evaluation = try LayerEvaluation(plan: plan, context: context, engine: engine, db: db).run()
            if plan.name == plans.farmland?.name { farmlandOverlaps = evaluation.overlaps }
            if evaluation.result.conflict { worst = max(worst ?? evaluation.result.severity, evaluation.result.severity) }
            results.append(evaluation.result)
            if keepPieces { pieces += evaluation.pieces }
        }
        var versions = wanted == nil ? plans.checkedVersions : Dictionary(uniqueKeysWithValues: layers.map { ($0.name, $0.versionRef) })
        var landUse: CheckResult.LandUseAnswer? = nil
        var warnings = site.warnings
        if let plan = plans.landUse, wanted?.contains(plan.name) ?? true {
            let evaluation = LayerEvaluation(plan: plan, context: context, engine: engine, db: db)
            let measured = try evaluation.landUse()
            landUse = measured.answer
            if measured.answer.areaM2 > 0, let farmland = plans.farmland {
                landUse?.farmlandByCode = try evaluation.farmlandByCode(
                    LayerEvaluation(plan: farmland, context: context, engine: engine, db: db), tubans: measured.tubans,
                    known: parcelLandUse, overlaps: farmlandOverlaps)
            }
            warnings += measured.warnings
            if wanted != nil { versions[plan.name] = plan.versionRef }
        }
        let verdict: CheckResult.Verdict = worst.map { CheckResult.Verdict(rawValue: $0.rawValue)! } ?? .clear
        let result = CheckResult(
            verdict: verdict,
            site: .init(
                areaM2: site.areaM2, areaMu: AreaUnit.mu(fromM2: site.areaM2),
                areaHa: AreaUnit.hectares(fromM2: site.areaM2), bbox: site.bbox.array),
            layers: results, landUse: landUse, warnings: warnings)
        return CheckOutcome(result: result, site: site, pieces: pieces, versions: versions)
    }
}

import Dispatch
import GRDB
import LandUse
import LayerStore
import Synchronization

/// The 地类 under each 永久基本农田 parcel of one farmland version, by the 图斑 of one land-use
/// version (`ParcelLandUseTable`), held in memory for checks: by fid, the parcel's pieces as
/// a tally counts them, and whether it lies in one 图斑.
///
/// With it, `farmlandByCode` overlays three ways only the parcels on the site's edge that lie
/// across 图斑: a parcel inside the site adds its pieces, and one on the edge lying in a single
/// 图斑 takes that 图斑's code for the overlap its own layer measured.
public final class ParcelLandUse: Sendable {
    /// By fid: the parcel's pieces are `pieces[start[fid] ..< start[fid + 1]]`.
    private let start: [Int32]
    let pieces: [LandUseTally.Piece]
    /// By piece: the fid of its 图斑.
    let tubanFids: [Int64]
    /// By fid: the parcel lies in one 图斑 (then it has one piece).
    private let whole: [Bool]

    /// The stored pieces, in parcel order; `parcels`, the farmland version's feature count
    /// (its fids are 1…count: a parcel with no piece lies on no 图斑).
    init(_ rows: [ParcelLandUseTable.Piece], parcels: Int) {
        let last = Int(max(rows.last?.parcelFid ?? 0, Int64(parcels)))
        var start = [Int32](repeating: 0, count: last + 2)
        var whole = [Bool](repeating: false, count: last + 1)
        var pieces: [LandUseTally.Piece] = []
        pieces.reserveCapacity(rows.count)
        var tubanFids: [Int64] = []
        tubanFids.reserveCapacity(rows.count)
        var fid = 0
        for r in rows {
            let f = Int(r.parcelFid)
            // Rows of one parcel follow each other: start the fids up to this one here.
            while fid < f { fid += 1; start[fid] = Int32(pieces.count) }
            pieces.append(.init(code: r.code, deductCode: r.deductCode, deductRatio: r.deductRatio, grossM2: r.areaM2))
            tubanFids.append(r.tubanFid)
            whole[f] = r.whole
        }
        while fid <= last { fid += 1; start[fid] = Int32(pieces.count) }
        self.start = start
        self.pieces = pieces
        self.tubanFids = tubanFids
        self.whole = whole
    }

    /// Where the parcel's pieces are in `pieces` and `tubanFids` (empty: it lies on no 图斑
    /// known to the classification), or nil for a fid the pieces were not worked out for.
    func pieces(of fid: Int64) -> Range<Int>? {
        let f = Int(fid)
        guard f >= 1, f + 1 < start.count else { return nil }
        return Int(start[f])..<Int(start[f + 1])
    }

    /// The one 图斑's piece of a parcel lying in it alone.
    func onlyPiece(of fid: Int64) -> LandUseTally.Piece? {
        let f = Int(fid)
        guard f >= 1, f < whole.count, whole[f] else { return nil }
        return pieces[Int(start[f])]
    }

    /// The pieces for a farmland and a land-use plan, when they were worked out.
    static func load(farmland: LayerPlan, landUse: LayerPlan, db: Database) throws -> ParcelLandUse? {
        let rows = try ParcelLandUseTable.read(
            farmland: FeatureTable(farmland.layer.version).name, landUse: FeatureTable(landUse.layer.version).name, db: db)
        return rows.map { ParcelLandUse($0, parcels: farmland.layer.version.count) }
    }
}

/// A checker's pieces for the current pair of versions: read once. While they are not there
/// they are looked for again at most every two seconds (one registry lookup), since a load or
/// a reload works them out after it commits the versions, when checks have begun.
final class ParcelLandUseCache: Sendable {
    private struct Kept {
        let table: String
        let value: ParcelLandUse?
        let lookedAt: UInt64
    }
    private let kept = Mutex<Kept?>(nil)
    static let lookAgainNanoseconds: UInt64 = 2_000_000_000

    func value(_ plans: LayerPlans, db: Database) throws -> ParcelLandUse? {
        guard let farmland = plans.farmland, let landUse = plans.landUse else { return nil }
        let table = ParcelLandUseTable.name(
            farmland: FeatureTable(farmland.layer.version).name, landUse: FeatureTable(landUse.layer.version).name)
        let now = DispatchTime.now().uptimeNanoseconds
        if let k = kept.withLock({ $0 }), k.table == table, k.value != nil || now &- k.lookedAt < Self.lookAgainNanoseconds {
            return k.value
        }
        let value = try ParcelLandUse.load(farmland: farmland, landUse: landUse, db: db)
        kept.withLock { $0 = Kept(table: table, value: value, lookedAt: now) }
        return value
    }
}

import Foundation
import GRDB
import GeoCore
import LandUse
import LayerStore

/// Working out the 地类 under every farmland parcel: each parcel against the 图斑 its box meets
/// (through the land-use version's R*Tree), each pair's area summed along the boundary of
/// their overlap as a check sums it (`PolygonRegion.overlapArea`), or overlaid by GEOS where
/// the sum refuses (a parcel drawn on its 图斑's edge). Split over the cores by fid range, each
/// part in a read transaction of its own; written in one transaction.
extension ParcelLandUse {
    public struct Report: Sendable, Codable {
        public var farmland: String
        public var farmlandVersion: Int
        public var landUse: String
        public var landUseVersion: Int
        public var parcels: Int
        /// Parcels lying in one 图斑, and (parcel, 图斑) pieces in all.
        public var parcelsInOne: Int
        public var pieces: Int
        public var seconds: Double

        public var line: String {
            "地类 under \(farmland) v\(farmlandVersion) from \(landUse) v\(landUseVersion): \(parcels) parcels, "
                + "\(parcelsInOne) in one 图斑, \(pieces) pieces, \(String(format: "%.1f", seconds)) s"
        }
    }

    /// After a load of a layer of `kind`: the pieces for the current versions when it is a
    /// farmland or land-use layer, or a warning for the load's report when they could not be
    /// worked out (the version is committed all the same; checks overlay the parcels instead).
    public static func afterLoading(_ kind: LayerKind, store: Store) -> (report: Report?, warning: String?) {
        guard kind == .farmland || kind == .landUse else { return (nil, nil) }
        do {
            return (try build(store: store), nil)
        } catch {
            return (nil, "the 地类 under the farmland parcels were not worked out (checks overlay them instead): \(error)")
        }
    }

    /// Works out and stores the pieces for the current farmland and land-use versions (the
    /// first layer of each kind, as checks take them), unless they are there already; nil
    /// when the store lacks either layer.
    public static func build(store: Store) throws -> Report? {
        let started = Date()
        let pair = try store.pool.read { db -> (LoadedLayer, LoadedLayer)? in
            let layers = try store.layerSnapshot(db).layers
            guard let farmland = layers.first(where: { $0.spec.kind == .farmland }),
                let landUse = layers.first(where: { $0.spec.kind == .landUse })
            else { return nil }
            return (farmland, landUse)
        }
        guard let (farmland, landUse) = pair else { return nil }
        let farmlandTable = FeatureTable(farmland.version), landUseTable = FeatureTable(landUse.version)
        func counts() throws -> (parcels: Int, pieces: Int, inOne: Int)? {
            try store.pool.read { db in try ParcelLandUseTable.counts(farmland: farmlandTable.name, landUse: landUseTable.name, db: db) }
        }
        if try counts() == nil {
            let chunk = Int64(farmland.version.count) / Int64(Cores.workers) + 1
            let pieces = try Cores.inParts(Cores.workers) { k in
                try store.pool.read { db in
                    try Pass(db: db, farmland: farmlandTable, landUse: landUseTable, fields: landUse.spec.landUse)
                        .pieces(fids: Int64(k) * chunk + 1...Int64(k + 1) * chunk)
                }
            }
            try store.pool.write { db in
                // The versions may have changed meanwhile: then the pieces are of versions
                // no longer current, still right for them (checks against records use them).
                try ParcelLandUseTable.write(
                    pieces, farmland: farmlandTable.name, landUse: landUseTable.name, parcels: farmland.version.count, db: db)
            }
        }
        let stored = try counts() ?? (parcels: farmland.version.count, pieces: 0, inOne: 0)
        return Report(
            farmland: farmland.name, farmlandVersion: farmland.version.number, landUse: landUse.name,
            landUseVersion: landUse.version.number, parcels: stored.parcels, parcelsInOne: stored.inOne, pieces: stored.pieces,
            seconds: Date().timeIntervalSince(started))
    }

    /// One part of the work: the parcels of a fid range against the 图斑 under them.
    struct Pass {
        let db: Database
        let engine = GeometryEngine()
        let farmland: FeatureTable
        let landUse: FeatureTable
        let reader: TubanReader
        /// The 图斑 whose box meets a box: fid, geometry, then those of the reader's code, ratio
        /// and deduction code fields the layer has.
        let candidates: String
        /// Where the code, ratio and deduction code are in a candidate's row (nil: no such field).
        let columns: [Int?]

        init(db: Database, farmland: FeatureTable, landUse: FeatureTable, fields: LandUseFields?) throws {
            self.db = db
            self.farmland = farmland
            self.landUse = landUse
            reader = TubanReader(fields)
            let present = reader.fieldNames.filter { landUse.fields.contains($0) }
            candidates = landUse.inBox([.fid, .geometry] + present.map { .field($0) }, byFid: true)
            columns = reader.fieldNames.map { name in present.firstIndex(of: name).map { $0 + 2 } }
        }

        func pieces(fids: ClosedRange<Int64>) throws -> [ParcelLandUseTable.Piece] {
            var out: [ParcelLandUseTable.Piece] = []
            let parcels = try Row.fetchCursor(
                db, sql: farmland.select([.fid, .areaM2, .geometry], where: ["om_fid BETWEEN ? AND ?"]),
                arguments: [fids.lowerBound, fids.upperBound])
            let search = try db.cachedStatement(sql: candidates)
            while let row = try parcels.next() {
                let fid: Int64 = row[0], parcelArea: Double = row[1]
                let parcel = try SpatiaLiteGeometry.decode(row[2])
                guard let box = parcel.boundingBox else { continue }
                let region = PolygonRegion(parcel.polygons)
                var made: EngineGeometry? = nil
                var mine: [ParcelLandUseTable.Piece] = []
                /// Shares over the tolerance: a parcel with one lies in one 图斑.
                var shares = 0
                var shared = 0.0
                let tubans = try Row.fetchCursor(search, arguments: [box.minX, box.maxX, box.minY, box.maxY])
                while let t = try tubans.next() {
                    let tuban = try SpatiaLiteGeometry.decode(t[1])
                    guard let tubanBox = tuban.boundingBox, tubanBox.intersects(box) else { continue }
                    var area = region?.overlapArea(with: tuban.polygons, box: tubanBox, spanLimitM: SiteContext.equalAreaSpanLimitM)
                    if area == nil {
                        if made == nil { made = try engine.make(parcel) }
                        let common = try made!.intersection(try engine.make(tuban)).value().parts(ofDimension: 2)
                        area = common.isEmpty ? 0 : Ellipsoid.cgcs2000.area(common)
                    }
                    guard let area, area > ParcelLandUseTable.wholeToleranceM2 else { continue }
                    shares += 1
                    shared = area
                    guard area > ConflictChecker.minimumOverlapM2 else { continue }
                    /// Read as a check reads a 图斑's properties (text numbers parsed, numbers as text).
                    func value(_ k: Int) -> AttributeValue {
                        guard let i = columns[k] else { return .null }
                        switch (t[i] as DatabaseValue).storage {
                        case .null, .blob: return .null
                        case .int64(let n): return .integer(n)
                        case .double(let d): return .real(d)
                        case .string(let s): return .text(s)
                        }
                    }
                    let code = value(0).stringValue, ratio = value(1).doubleValue ?? 0, deductCode = value(2).stringValue
                    // 图斑 the classification cannot count are left out, as checks leave them.
                    guard case .success(let p) = reader.piece(code: code, ratio: ratio, deductCode: deductCode, grossM2: area) else {
                        continue
                    }
                    mine.append(
                        .init(
                            parcelFid: fid, tubanFid: t[0], code: p.code, deductCode: p.deductCode, deductRatio: p.deductRatio,
                            areaM2: area, whole: false))
                }
                // In one 图斑, and in no gap either: all of the parcel's area is that share.
                if shares == 1, mine.count == 1,
                    shared >= parcelArea - ParcelLandUseTable.wholeToleranceM2 - 1e-7 * parcelArea
                {
                    mine[0].whole = true
                }
                out += mine
            }
            return out
        }
    }
}

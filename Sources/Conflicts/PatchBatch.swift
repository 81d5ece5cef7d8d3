import Dispatch
import Foundation
import GRDB
import GeoCore
import LandUse
import LayerStore
import Synchronization
import VectorIO

/// Change patches (卫片执法 / 变更监测 图斑) checked each as its own site: what a county does
/// with the thousands of patches it receives every quarter. Each patch gets the verdict, the
/// overlap with every layer that has a rule, the land-use answer when a land-use layer is
/// loaded, and the county (and township, where an admin layer has that level) it lies in.
///
/// The patches are read in chunks; a chunk is checked on every core and handed on in input
/// order, then dropped, so memory does not grow with the batch. A patch that cannot be checked
/// (no geometry, a broken ring, a CRS that cannot be transformed) is a row with its reason; it
/// does not stop the batch.
public struct PatchBatch: Sendable {
    /// One patch's answer.
    public struct Row: Sendable {
        /// The value of `--id-field` (监测图斑编号, e.g. JCBH), or the feature id.
        public var patchId: String
        public var attributes: [AttributeValue]
        /// The patch as checked, in CGCS2000 longitude/latitude; nil when it could not be read.
        public var geometry: Geometry?
        public var result: CheckResult?
        public var county: Unit?
        public var township: Unit?
        /// Why the patch was not checked.
        public var failure: String?
    }

    public struct Unit: Sendable, Hashable {
        public var code: String
        public var name: String
    }

    public let checker: ConflictChecker
    public let layers: [String]?
    /// Whose admin layers place the patches (the layers the caller may see).
    public let caller: Caller
    /// Patches a chunk holds: enough to keep every core busy, few enough to hold in memory.
    public var chunk = 256

    public init(checker: ConflictChecker, layers: [String]?, caller: Caller) {
        self.checker = checker
        self.layers = layers
        self.caller = caller
    }

    /// Checks every patch of `source` and hands each chunk's rows to `emit`, in input order.
    /// `crs` is for a source that declares none. `progress` gets (done, total if known).
    public func run(
        _ source: VectorSource, idField: String?, crs: String?, progress: (Int, Int?) -> Void = { _, _ in },
        emit: ([Row]) throws -> Void
    ) throws {
        let sourceCRS = try crs.map(SiteCRS.code) ?? source.declaredCRS
        let idIndex = try idField.map { name -> Int in
            guard let i = source.fields.firstIndex(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }) else {
                throw SiteError(
                    .invalid,
                    "--id-field \(name): \(source.path) has no such field (it has \(source.fields.map(\.name).joined(separator: ", ")))")
            }
            return i
        }
        let places = try Places(store: checker.store, caller: caller)
        var done = 0
        while true {
            var features: [SourceFeature] = []
            while features.count < chunk, let f = try source.next() { features.append(f) }
            if features.isEmpty { break }
            let chunkFeatures = features
            let rows = Mutex([Row?](repeating: nil, count: features.count))
            DispatchQueue.concurrentPerform(iterations: features.count) { i in
                let row = self.check(chunkFeatures[i], idIndex: idIndex, crs: sourceCRS, places: places)
                rows.withLock { $0[i] = row }
            }
            try emit(rows.withLock { $0.map { $0! } })
            done += features.count
            progress(done, source.featureCountHint)
        }
    }

    private func check(_ f: SourceFeature, idIndex: Int?, crs: String?, places: Places) -> Row {
        let id: String
        switch idIndex.map({ f.attributes[$0] }) {
        case .text(let s)?: id = s
        case .integer(let n)?: id = String(n)
        case .real(let d)?: id = String(d)
        default: id = String(f.fid)
        }
        var row = Row(patchId: id, attributes: f.attributes)
        guard let g = f.geometry else {
            row.failure = "no geometry"
            return row
        }
        let polygons = g.polygons
        guard !polygons.isEmpty else {
            row.failure = "not a polygon (\(g.typeName))"
            return row
        }
        guard let crs else {
            row.failure = "the file declares no CRS; give --crs"
            return row
        }
        do {
            let site = try Site.make(
                polygons: polygons.enumerated().map { ($1, "patch \(id) part \($0 + 1)") }, crs: crs, limits: SiteLimits())
            row.geometry = site.geometry
            row.result = try checker.check(site, layers: layers, keepPieces: false).result
            let centre = Coordinate((site.bbox.minX + site.bbox.maxX) / 2, (site.bbox.minY + site.bbox.maxY) / 2)
            (row.county, row.township) = places.locate(centre)
        } catch {
            row.failure = "\(error)"
        }
        return row
    }

    /// The counties and townships of the admin layer, looked up by a point; one GEOS context
    /// per thread would be wasteful for a lookup this small, so lookups take turns.
    final class Places: Sendable {
        private struct Levels {
            let counties: AdminUnits?
            let townships: AdminUnits?
        }
        private let levels: Mutex<Levels>

        init(store: Store, caller: Caller) throws {
            levels = Mutex(
                try store.pool.read { db in
                    let visible = try caller.visibleLayers(db)
                    return Levels(
                        counties: try? AdminUnits(db: db, by: "county", among: visible, engine: GeometryEngine()),
                        townships: try? AdminUnits(db: db, by: "township", among: visible, engine: GeometryEngine()))
                })
        }

        func locate(_ p: Coordinate) -> (Unit?, Unit?) {
            levels.withLock { l in
                func unit(_ units: AdminUnits?) -> Unit? {
                    guard let units, let i = try? units.unit(at: p) else { return nil }
                    return Unit(code: units.units[i].code, name: units.units[i].name)
                }
                return (unit(l.counties), unit(l.townships))
            }
        }
    }
}

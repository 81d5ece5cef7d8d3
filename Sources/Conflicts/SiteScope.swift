import Foundation
import GRDB
import GeoCore
import LayerStore

/// Whether a site lies in a caller's data scope: a 遂昌 planner checks sites in 遂昌, not in
/// 青田. Decided against the admin layer's boundaries, at the level the scope names (county
/// codes against counties; township codes need a township level loaded). The boundaries are
/// read and prepared once per admin layer version, not per check.
public final class SiteScope: @unchecked Sendable {
    /// Share of the site allowed outside the scope's units: the admin boundaries are
    /// generalised, and a site drawn on a finer one along a county line must not be refused.
    static let toleratedShareOutside = 1e-3

    /// The boundaries of the last admin version asked about, by level. GEOS objects are not
    /// for several threads at once, so each use holds the lock (a few predicates, well under a
    /// millisecond); `lock` guards `prepared` (hence `@unchecked Sendable`: a Mutex cannot hold
    /// the non-Sendable `AdminUnits` made from a reader's database).
    private let lock = NSLock()
    private var prepared: (key: String, units: [String: AdminUnits])?

    public init() {}

    /// Why the site is outside `scope`, or nil when it lies within it.
    public func refusal(_ site: Site, scope: DataScope, db: Database) throws -> String? {
        let level = scope.codes.allSatisfy { $0.count == 6 } ? "county" : "township"
        let layers = try Store.loadedLayers(db)
        let key = layers.filter { $0.spec.kind == .admin }.map { "\($0.name)@\($0.version.number)" }.joined(separator: ",")
        lock.lock()
        defer { lock.unlock() }
        if prepared?.key != key { prepared = (key, [:]) }
        if prepared?.units[level] == nil {
            guard let units = try? AdminUnits(db: db, by: level, among: layers, engine: GeometryEngine(), cell: 0.1) else {
                return "the scope \(scope) cannot be placed: no admin layer with \(level) boundaries is loaded"
            }
            prepared?.units[level] = units
        }
        return try Self.refusal(site, scope: scope, units: prepared!.units[level]!, level: level)
    }

    private static func refusal(_ site: Site, scope: DataScope, units: AdminUnits, level: String) throws -> String? {
        let codes = units.units.map(\.code)
        if let missing = scope.codes.first(where: { code in !codes.contains { $0.hasPrefix(code) || code.hasPrefix($0) } }) {
            return "the scope names \(missing), which no \(level) of layer '\(units.layer.name)' lies in"
        }
        let engine = units.engine
        let shape = try engine.make(site.geometry)
        var allowed: [EngineGeometry] = []
        var others: [AdminUnits.Unit] = []
        for u in units.units where u.box.intersects(site.bbox) {
            guard try u.prepared.intersects(shape) else { continue }
            if scope.covers(u.code) { allowed.append(u.geometry) } else { others.append(u) }
        }
        let outside = allowed.isEmpty ? shape : try shape.difference(try engine.union(allowed))
        let share = try outside.planarArea() / max(try shape.planarArea(), .leastNonzeroMagnitude)
        guard share > toleratedShareOutside else { return nil }
        let names = try others.filter { try $0.prepared.intersects(outside) }.map { "\($0.name) \($0.code)" }
        return "\(String(format: "%.1f", share * 100)) % of the site lies outside the caller's scope \(scope)"
            + (names.isEmpty ? " (outside every \(level) of layer '\(units.layer.name)')" : ", in \(names.joined(separator: ", "))")
    }
}

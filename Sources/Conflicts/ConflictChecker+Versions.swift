import Foundation
import GRDB
import GeoCore
import LayerStore
import Synchronization

/// A check as it was at the layer versions a record names, whatever the current ones are:
/// how a record's conflict geometry is drawn after its answer was given.
extension ConflictChecker {
    /// Checks `site` against exactly the layers and versions in `versions` (a record's), each
    /// with the definition it was loaded under. The current plans serve when they are those
    /// versions, as they are unless a layer was reloaded since; otherwise plans are built for
    /// the recorded versions (kept for the next record naming the same ones).
    func check(_ site: Site, at versions: [String: LayerVersionRef], db: Database, keepPieces: Bool) throws -> CheckOutcome {
        guard !versions.isEmpty else { throw StoreError.invalidRequest("the record names no layer version to check against") }
        let current = try layerPlans(db)
        let wanted = versions.keys.sorted()
        let matches = current.all.filter { versions[$0.name] == $0.versionRef }
        let plans: LayerPlans
        if matches.count == versions.count {
            plans = current
        } else {
            plans = try recordedPlans(versions, db: db)
        }
        let outcome = try check(site, layers: wanted, plans: plans, db: db, keepPieces: keepPieces)
        guard outcome.versions == versions else {
            throw StoreError.database("a check at the recorded versions read other versions (\(outcome.versions) for \(versions))")
        }
        return outcome
    }

    private func recordedPlans(_ versions: [String: LayerVersionRef], db: Database) throws -> LayerPlans {
        let key = versions.keys.sorted().map { "\($0):\(versions[$0]!.version)" }.joined(separator: ",")
        if let cached = RecordedPlans.shared.get(self, key) { return cached }
        let layers = try Store.loadedLayers(db, at: versions.mapValues(\.version))
        for layer in layers where LayerVersionRef(version: layer.version.number, label: layer.version.label) != versions[layer.name] {
            throw StoreError.unknownVersion(layer: layer.name, version: versions[layer.name]!.label)
        }
        // Old versions are drawn for once or twice: their R*Tree serves, no boxes in memory.
        let plans = LayerPlans(all: try layers.map { try LayerPlan($0, db: db, residentLimit: residentLimit, boxesInMemory: false) })
        RecordedPlans.shared.put(self, key, plans)
        return plans
    }
}

/// Plans of the versions last drawn for, per checker: a backlog of records made before a
/// reload names the same old versions, and building plans reads every small layer whole.
final class RecordedPlans: Sendable {
    static let shared = RecordedPlans()
    private struct Entry {
        /// Weak: a checker freed and another made at the same address must not match.
        weak var checker: ConflictChecker?
        let key: String
        let plans: LayerPlans
    }
    private let last = Mutex<[ObjectIdentifier: Entry]>([:])

    func get(_ checker: ConflictChecker, _ key: String) -> LayerPlans? {
        last.withLock { last -> LayerPlans? in
            guard let entry = last[ObjectIdentifier(checker)], entry.checker === checker, entry.key == key else { return nil }
            return entry.plans
        }
    }

    func put(_ checker: ConflictChecker, _ key: String, _ plans: LayerPlans) {
        let entry = Entry(checker: checker, key: key, plans: plans)
        last.withLock { last in
            last = last.filter { $0.value.checker != nil }
            last[ObjectIdentifier(checker)] = entry
        }
    }
}

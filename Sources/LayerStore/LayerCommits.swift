import Foundation
import GRDB
import Synchronization

/// Counts the commits of this process that changed which layer versions are current (the
/// `onemap_layers` table): how the hot paths learn at once that a reload through this
/// store happened, without asking SQLite on every request (see
/// `Store.currentLayerSignature`).
final class LayerCommits: TransactionObserver, Sendable {
    private let state = Mutex((generation: 0, pending: false))

    var generation: Int { state.withLock { $0.generation } }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        eventKind.tableName == "onemap_layers"
    }

    func databaseDidChange(with event: DatabaseEvent) {
        state.withLock { $0.pending = true }
    }

    func databaseDidCommit(_ db: Database) {
        state.withLock { s in
            if s.pending { s.generation += 1 }
            s.pending = false
        }
    }

    func databaseDidRollback(_ db: Database) {
        state.withLock { $0.pending = false }
    }
}

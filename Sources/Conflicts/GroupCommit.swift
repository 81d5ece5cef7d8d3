import Foundation
import GRDB
import LayerStore

/// Writes from many threads, several to a transaction: each `write` returns only once its
/// transaction is committed (and, with `synchronous = FULL`, on disk), so nothing it wrote
/// can be lost once it returns; but writers that arrive while a commit is under way share
/// the next one, and its one fsync. One writer alone commits at once, as before.
///
/// The first writer to find no commit under way leads: it takes every write queued, commits
/// them in one transaction, hands each its outcome and wakes the rest. Each write runs in a
/// savepoint of its own, so one that fails (a record past a check) is undone alone and the
/// others are kept; a transaction that fails to commit fails all of its writes.
final class GroupCommit: Sendable {
    let store: Store
    private let group: GroupCall<@Sendable (Database) throws -> Void>

    init(store: Store) {
        self.store = store
        group = GroupCall { bodies, _ in Self.commit(bodies, store: store) }
    }

    func write(_ body: @escaping @Sendable (Database) throws -> Void) throws {
        try group.run(body)
    }

    private static func commit(_ bodies: [@Sendable (Database) throws -> Void], store: Store) -> [Result<Void, Error>] {
        var results = [Result<Void, Error>](repeating: .success(()), count: bodies.count)
        do {
            try store.pool.write { db in
                guard bodies.count > 1 else { return try bodies[0](db) }
                for (i, body) in bodies.enumerated() {
                    do {
                        try db.inSavepoint {
                            try body(db); return .commit
                        }
                    } catch {
                        results[i] = .failure(error)
                    }
                }
            }
        } catch {
            // Alone in its transaction, a write's own error arrives here too.
            return bodies.map { _ in .failure(error) }
        }
        return results
    }
}

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
final class GroupCommit: @unchecked Sendable {  // @unchecked: every var is used only with `condition` held (a Mutex cannot wait)
    let store: Store
    private let condition = NSCondition()
    private var queue: [(ticket: Int, body: @Sendable (Database) throws -> Void)] = []
    private var outcomes: [Int: Result<Void, Error>] = [:]
    private var committing = false
    private var nextTicket = 0

    init(store: Store) { self.store = store }

    func write(_ body: @escaping @Sendable (Database) throws -> Void) throws {
        condition.lock()
        let ticket = nextTicket
        nextTicket += 1
        queue.append((ticket, body))
        while true {
            if let outcome = outcomes.removeValue(forKey: ticket) {
                condition.unlock()
                return try outcome.get()
            }
            if committing {
                condition.wait()
                continue
            }
            committing = true
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            condition.unlock()
            let results = commit(batch.map(\.body))
            condition.lock()
            for (entry, result) in zip(batch, results) { outcomes[entry.ticket] = result }
            committing = false
            condition.broadcast()
        }
    }

    private func commit(_ bodies: [@Sendable (Database) throws -> Void]) -> [Result<Void, Error>] {
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

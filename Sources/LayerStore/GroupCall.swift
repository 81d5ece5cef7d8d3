import Foundation

/// Calls from many threads that share round trips: a caller who finds fewer than `lanes` calls
/// under way takes every item waiting (up to `limit`), makes one call for all of them on a free
/// lane, and hands each caller its item's outcome; the others wait for theirs. Check records
/// written at the same moment share a transaction and its fsync this way (`GroupCommit`), and a
/// replica's records share a statement and a commit in PostgreSQL (`PostGISRecords`, on two
/// lanes, so a second batch goes out while the first is on its way).
package final class GroupCall<Item>: @unchecked Sendable {  // @unchecked: every var is used only with `condition` held
    private let condition = NSCondition()
    private var waiting: [(ticket: Int, item: Item)] = []
    private var outcomes: [Int: Result<Void, Error>] = [:]
    private var freeLanes: [Int]
    private var nextTicket = 0
    let limit: Int
    /// Makes one call on a lane (0..<lanes), which no other call uses meanwhile, and returns
    /// each item's outcome, in order.
    private let call: (_ items: [Item], _ lane: Int) -> [Result<Void, Error>]

    package init(limit: Int = .max, lanes: Int = 1, _ call: @escaping (_ items: [Item], _ lane: Int) -> [Result<Void, Error>]) {
        self.limit = limit
        self.call = call
        freeLanes = Array(0..<lanes)
    }

    /// Returns once `item` was part of a call and succeeded in it; else throws its error.
    package func run(_ item: Item) throws {
        condition.lock()
        let ticket = nextTicket
        nextTicket += 1
        waiting.append((ticket, item))
        while true {
            if let outcome = outcomes.removeValue(forKey: ticket) {
                condition.unlock()
                return try outcome.get()
            }
            guard let lane = freeLanes.popLast(), !waiting.isEmpty else {
                condition.wait()
                continue
            }
            let batch = Array(waiting.prefix(limit))
            waiting.removeFirst(batch.count)
            condition.unlock()
            let results = call(batch.map(\.item), lane)
            condition.lock()
            for (entry, result) in zip(batch, results) { outcomes[entry.ticket] = result }
            freeLanes.append(lane)
            condition.broadcast()
        }
    }
}

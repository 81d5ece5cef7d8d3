import Foundation

/// Calls from many threads that share round trips: a caller who finds fewer than `lanes` calls
/// under way takes every item waiting (up to `limit`), makes the call for all of them on a free
/// lane, and hands each caller the outcome; the others wait for theirs. Under load a replica
/// stores several check records in one statement and one commit (one fsync) instead of one
/// each, as `GroupCommit` does for its records file; two lanes keep a second batch going while
/// the first is on its way (one lane cost a replica two fifths of its checks per second).
final class GroupCall<Item>: @unchecked Sendable {  // @unchecked: every var is used only with `condition` held
    private let condition = NSCondition()
    private var waiting: [(ticket: Int, item: Item)] = []
    private var outcomes: [Int: Result<Void, Error>] = [:]
    private var freeLanes: [Int]
    private var nextTicket = 0
    let limit: Int
    /// Makes one call on a lane (0..<lanes), which no other call uses meanwhile.
    private let call: (_ items: [Item], _ lane: Int) throws -> Void

    init(limit: Int, lanes: Int, _ call: @escaping (_ items: [Item], _ lane: Int) throws -> Void) {
        self.limit = limit
        self.call = call
        freeLanes = Array(0..<lanes)
    }

    /// Returns once `item` was part of a call that succeeded; rethrows that call's error.
    func run(_ item: Item) throws {
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
            let result = Result { try call(batch.map(\.item), lane) }
            condition.lock()
            for entry in batch { outcomes[entry.ticket] = result }
            freeLanes.append(lane)
            condition.broadcast()
        }
    }
}

import Foundation

/// A table shared by every connection, of values that follow from their key alone (a tile
/// path's parse), so a value kept never goes stale. It forgets everything when it reaches
/// `capacity`: simpler than an LRU, and refilling costs no more than the work it saves.
final class BoundedTable<Value>: @unchecked Sendable {  // `table` only behind `lock`
    private let lock = NSLock()
    private var table: [String: Value] = [:]
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func value(_ key: String, orMake make: () -> Value) -> Value {
        lock.lock()
        let known = table[key]
        lock.unlock()
        if let known { return known }
        let made = make()
        lock.lock()
        if table.count >= capacity { table.removeAll(keepingCapacity: true) }
        table[key] = made
        lock.unlock()
        return made
    }
}

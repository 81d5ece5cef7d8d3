import Foundation

/// A tile as served: the MVT bytes, and their gzip form once someone asked for it.
public final class CachedTile: @unchecked Sendable {  // `gzipped` is set once, behind the lock
    public let bytes: [UInt8]
    public let etag: String
    /// Its key in the tile cache.
    let cacheKey: String
    private var gzippedBytes: [UInt8]?
    private let lock = NSLock()

    init(bytes: [UInt8], etag: String, cacheKey: String = "") {
        self.bytes = bytes
        self.etag = etag
        self.cacheKey = cacheKey
    }

    public var isEmpty: Bool { bytes.isEmpty }

    /// The gzip form if it was made already (nil otherwise): for callers that must not
    /// spend time compressing, such as the event loop.
    public var gzippedIfMade: [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        return gzippedBytes
    }

    public func gzipped() throws -> [UInt8] {
        lock.lock()
        if let g = gzippedBytes { lock.unlock(); return g }
        lock.unlock()
        let g = try Gzip.compress(bytes)
        lock.lock()
        gzippedBytes = g
        lock.unlock()
        return g
    }

    var cost: Int {
        lock.lock()
        defer { lock.unlock() }
        return bytes.count + (gzippedBytes?.count ?? 0) + 128
    }
}

/// A least-recently-used cache bounded in bytes. Keys carry the versions of the layers in
/// them, so a reload needs no purge: the old entries are simply never asked for again and
/// age out.
public final class TileCache: @unchecked Sendable {  // all state behind the lock
    public let capacity: Int
    private final class Node {
        let key: String
        var value: CachedTile
        var cost: Int
        var prev: Node?
        var next: Node?
        init(key: String, value: CachedTile, cost: Int) { self.key = key; self.value = value; self.cost = cost }
    }
    private var nodes: [String: Node] = [:]
    private var head: Node?   // most recent
    private var tail: Node?   // least recent
    private var used = 0
    private let lock = NSLock()

    public init(capacity: Int) { self.capacity = capacity }

    public var count: Int { lock.lock(); defer { lock.unlock() }; return nodes.count }
    public var bytesUsed: Int { lock.lock(); defer { lock.unlock() }; return used }

    public func get(_ key: String) -> CachedTile? {
        lock.lock()
        defer { lock.unlock() }
        guard let node = nodes[key] else { return nil }
        moveToFront(node)
        return node.value
    }

    public func put(_ key: String, _ value: CachedTile) {
        let cost = value.cost
        lock.lock()
        defer { lock.unlock() }
        guard cost <= capacity else { return }
        if let node = nodes[key] {
            used += cost - node.cost
            node.value = value
            node.cost = cost
            moveToFront(node)
        } else {
            let node = Node(key: key, value: value, cost: cost)
            nodes[key] = node
            used += cost
            insertFront(node)
        }
        evict()
    }

    /// After an entry grew (its gzip form was added).
    func recost(_ key: String) {
        lock.lock()
        defer { lock.unlock() }
        guard let node = nodes[key] else { return }
        let cost = node.value.cost
        used += cost - node.cost
        node.cost = cost
        evict()
    }

    private func evict() {
        while used > capacity, let last = tail {
            unlink(last)
            nodes[last.key] = nil
            used -= last.cost
        }
    }

    private func unlink(_ node: Node) {
        node.prev?.next = node.next
        node.next?.prev = node.prev
        if head === node { head = node.next }
        if tail === node { tail = node.prev }
        node.prev = nil
        node.next = nil
    }

    private func insertFront(_ node: Node) {
        node.next = head
        head?.prev = node
        head = node
        if tail == nil { tail = node }
    }

    private func moveToFront(_ node: Node) {
        guard head !== node else { return }
        unlink(node)
        insertFront(node)
    }
}

import Foundation
import Synchronization

/// A tile as served: the MVT bytes, and their gzip form once someone asked for it.
public final class CachedTile: Sendable {
    public let bytes: [UInt8]
    public let etag: String
    /// Its key in the tile cache.
    let cacheKey: String
    private let gzippedBytes = Mutex<[UInt8]?>(nil)

    init(bytes: [UInt8], etag: String, cacheKey: String = "") {
        self.bytes = bytes
        self.etag = etag
        self.cacheKey = cacheKey
    }

    public var isEmpty: Bool { bytes.isEmpty }

    /// The gzip form if it was made already (nil otherwise): for callers that must not
    /// spend time compressing, such as the event loop.
    public var gzippedIfMade: [UInt8]? {
        gzippedBytes.withLock { $0 }
    }

    public func gzipped() throws -> [UInt8] {
        if let g = gzippedBytes.withLock({ $0 }) { return g }
        let g = try Gzip.compress(bytes)
        gzippedBytes.withLock { $0 = g }
        return g
    }

    var cost: Int {
        bytes.count + (gzippedBytes.withLock { $0?.count } ?? 0) + 128
    }
}

/// A least-recently-used cache bounded in bytes. Keys carry the versions of the layers in
/// them, so a reload needs no purge: the old entries are simply never asked for again and
/// age out.
public final class TileCache: Sendable {
    public let capacity: Int
    fileprivate final class Node {
        let key: String
        var value: CachedTile
        var cost: Int
        var prev: Node?
        var next: Node?
        init(key: String, value: CachedTile, cost: Int) { self.key = key; self.value = value; self.cost = cost }
    }
    /// The nodes are reachable only through this state, so only with its lock held.
    fileprivate struct State {
        var nodes: [String: Node] = [:]
        var head: Node?  // most recent
        var tail: Node?  // least recent
        var used = 0
    }
    private let state = Mutex(State())

    public init(capacity: Int) { self.capacity = capacity }

    public var count: Int { state.withLock { $0.nodes.count } }
    public var bytesUsed: Int { state.withLock { $0.used } }

    public func get(_ key: String) -> CachedTile? {
        state.withLock { s -> CachedTile? in
            guard let node = s.nodes[key] else { return nil }
            s.moveToFront(node)
            return node.value
        }
    }

    public func put(_ key: String, _ value: CachedTile) {
        let cost = value.cost
        let capacity = self.capacity
        state.withLock { s in
            guard cost <= capacity else { return }
            if let node = s.nodes[key] {
                s.used += cost - node.cost
                node.value = value
                node.cost = cost
                s.moveToFront(node)
            } else {
                let node = Node(key: key, value: value, cost: cost)
                s.nodes[key] = node
                s.used += cost
                s.insertFront(node)
            }
            s.evict(capacity)
        }
    }

    /// After an entry grew (its gzip form was added).
    func recost(_ key: String) {
        let capacity = self.capacity
        state.withLock { s in
            guard let node = s.nodes[key] else { return }
            let cost = node.value.cost
            s.used += cost - node.cost
            node.cost = cost
            s.evict(capacity)
        }
    }
}

extension TileCache.State {
    mutating func evict(_ capacity: Int) {
        while used > capacity, let last = tail {
            unlink(last)
            nodes[last.key] = nil
            used -= last.cost
        }
    }

    mutating func unlink(_ node: TileCache.Node) {
        node.prev?.next = node.next
        node.next?.prev = node.prev
        if head === node { head = node.next }
        if tail === node { tail = node.prev }
        node.prev = nil
        node.next = nil
    }

    mutating func insertFront(_ node: TileCache.Node) {
        node.next = head
        head?.prev = node
        head = node
        if tail == nil { tail = node }
    }

    mutating func moveToFront(_ node: TileCache.Node) {
        guard head !== node else { return }
        unlink(node)
        insertFront(node)
    }
}

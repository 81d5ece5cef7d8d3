import Foundation
import GRDB
import GeoCore
import LayerStore
import Synchronization

/// Which layers a request wants.
public enum TileSelection: Hashable, Sendable {
    /// Every public layer (`/tiles/onemap/…`).
    case all
    /// Named layers, in this order (`/tiles/a,b,c/…`, or one name).
    case layers([String])
}

public enum TileError: Error, CustomStringConvertible, Sendable {
    /// No such layer, or one the caller may not see: both read the same, so a restricted
    /// layer's existence is not revealed.
    case unknownLayer(String)
    case outOfRange(TileKey, TileMatrixSet)

    public var description: String {
        switch self {
        case .unknownLayer(let name): return "no layer '\(name)'"
        case let .outOfRange(key, grid):
            let z = key.z
            guard z >= 0, z <= TileMatrixSet.maxZoom else { return "zoom \(z) is outside 0…\(TileMatrixSet.maxZoom)" }
            return
                "tile \(key) is outside the \(grid.id) matrix at zoom \(z): x must be in 0…\(grid.matrixWidth(z) - 1), y in 0…\(grid.matrixHeight(z) - 1)"
        }
    }
}

/// The tile pipeline (after Martin's): resolve the layers, look in the cache by
/// (layers and their versions, grid, z/x/y), else make each layer's tile (itself cached, so
/// composites share work), and hand back the bytes with a strong ETag. Restricted layers
/// are invisible to callers without a viewer key: left out of composites, 404 when named.
/// A scoped caller's restricted layer is cut to its scope, under a cache key and ETag of
/// its own (the cut's revision names the scope), so no tile crosses from one scope to another.
public final class TileService: Sendable {
    public let store: Store
    public let options: TileOptions
    private let etagSeed: UInt64
    public let cache: TileCache
    /// Bumped whenever the encoder or generalisation changes what a tile holds.
    static let codecVersion = "onemap-mvt-2"

    /// The layers' tile sources, derived from a layer snapshot of the store.
    private struct Sources: Sendable {
        /// What they were derived from.
        let snapshot: LayerSnapshot
        var byName: [String: StoreLayerSource]
        /// Every layer, in name order; each caller sees the ones its key allows.
        var ordered: [StoreLayerSource]
        /// The admin layers' versions, which a scoped cut is drawn from.
        var ground: String
    }
    /// This service's key for what it derives from a layer snapshot.
    private let key = Key()
    private final class Key: Sendable {}
    /// The sources last derived: a reload keeps those of the layers whose version it did not
    /// change, with what they hold in memory.
    private let last = Mutex<Sources?>(nil)
    /// Scoped callers' restricted layers, cut to their scopes, by the cut source's revision
    /// (`name@version~scope@admin@version`): a cut is worked out once, not on every tile.
    private let scoped = Mutex<[String: StoreLayerSource]>([:])

    /// What the tiles are cut by (codec and options): an archive records it, and an update of
    /// an archive cut otherwise makes every tile again rather than mixing the two.
    public var cutting: String { Self.codecVersion + "|" + options.signature }

    public init(store: Store, options: TileOptions = TileOptions(), cacheBytes: Int = 256 << 20) {
        self.store = store
        self.options = options
        etagSeed = Self.fnv1a(Self.codecVersion + "|" + options.signature + "|")
        cache = TileCache(capacity: cacheBytes)
    }

    /// The layers `caller` may see, as of the latest committed load. One small query per
    /// call; the sources (and their summaries) are rebuilt only for a layer whose version
    /// changed, so a reload shows at once.
    public func visibleSources(for caller: Caller = .anonymous) throws -> [StoreLayerSource] {
        try sources(.all, for: caller)
    }

    private func current() throws -> Sources {
        // The fast path of a warm tile: no transaction, one pragma (see Store).
        if let snapshot = try store.currentLayerSnapshot() { return sources(of: snapshot) }
        return try store.pool.read { db in sources(of: try store.layerSnapshot(db)) }
    }

    private func sources(of snapshot: LayerSnapshot) -> Sources {
        // Every tile asks: the sources of the snapshot asked last are answered by identity,
        // without the snapshot's table of derived values and its cast.
        if let known = last.withLock({ $0 }), known.snapshot === snapshot { return known }
        return snapshot.derived(key) {
            let old = last.withLock { $0?.byName } ?? [:]
            var byName: [String: StoreLayerSource] = [:]
            var ordered: [StoreLayerSource] = []
            for layer in snapshot.layers {
                let source: StoreLayerSource
                if let existing = old[layer.name], existing.layer.version.number == layer.version.number {
                    source = existing
                } else {
                    source = StoreLayerSource(store: store, layer: layer, options: options)
                }
                byName[layer.name] = source
                ordered.append(source)
            }
            let built = Sources(snapshot: snapshot, byName: byName, ordered: ordered, ground: snapshot.adminRevision)
            last.withLock { $0 = built }
            return built
        }
    }

    /// Reads the large layers into memory on a background thread, so that the first tiles
    /// after start-up or a reload do not wait for it (a couple of seconds on 500,000
    /// parcels); a tile asked for meanwhile waits for the same read rather than start another.
    /// A failure here is not reported: the tile that needs the layer meets it again and says so.
    ///
    /// On a thread of its own at the lowest priority (nice 19; Linux keeps it per thread), so
    /// requests answered meanwhile get the cores first: Dispatch's quality of service does
    /// not lower a thread's priority on Linux, and the read held checks up under load.
    public func warmInBackground() {
        Blocking.startBackgroundThread(named: "onemap-tile-warm", nice: 19) {
            guard let sources = try? self.current().ordered else { return }
            for source in sources { try? source.warm() }
        }
    }

    /// The layers of `selection` as `caller` reads them. May read the database (to cut a
    /// layer to a scoped caller's scope the first time): not for a request thread.
    public func sources(_ selection: TileSelection, for caller: Caller = .anonymous) throws -> [StoreLayerSource] {
        let s = try current()
        let whole = try Self.sources(selection, in: s, for: caller)
        if let read = asRead(whole, by: caller, ground: s.ground) { return read }
        return try store.pool.read { db in
            try whole.map { source in
                guard case .withinScope(let scope) = caller.sight(of: source.layer) else { return source }
                let cut = source.scoped(to: try store.scopeCut(scope, of: source.layer, db))
                scoped.withLock { known in
                    // Scopes are few; a store reloaded many times leaves old versions' cuts behind.
                    if known.count >= 256 { known.removeAll() }
                    known[cut.revision] = cut
                }
                return cut
            }
        }
    }

    /// `sources` as `caller` reads them, with the scoped callers' cuts already worked out;
    /// nil when one is not (working it out reads the database).
    private func asRead(_ sources: [StoreLayerSource], by caller: Caller, ground: String) -> [StoreLayerSource]? {
        // Every tile asks: most callers read whole layers, and need no lookup at all.
        guard caller.scope != nil else { return sources }
        var read: [StoreLayerSource] = []
        read.reserveCapacity(sources.count)
        for source in sources {
            guard case .withinScope(let scope) = caller.sight(of: source.layer) else {
                read.append(source)
                continue
            }
            let revision = StoreLayerSource.revision(source.layer, (scope, ground))
            guard let cut = scoped.withLock({ $0[revision] }) else { return nil }
            read.append(cut)
        }
        return read
    }

    private static func sources(_ selection: TileSelection, in s: Sources, for caller: Caller) throws -> [StoreLayerSource] {
        switch selection {
        case .all:
            return s.ordered.filter { caller.canBrowse($0.layer) }
        case .layers(let names) where names.count == 1:
            // The usual case, and it runs for every tile: no set to build.
            guard let source = s.byName[names[0]], caller.canBrowse(source.layer) else { throw TileError.unknownLayer(names[0]) }
            return [source]
        case .layers(let names):
            var seen = Set<String>()
            return try names.compactMap { name in
                guard let source = s.byName[name], caller.canBrowse(source.layer) else { throw TileError.unknownLayer(name) }
                return seen.insert(name).inserted ? source : nil
            }
        }
    }

    /// The layers of `selection` that `caller` may see, if the snapshot of the layers is
    /// still current (else nil: working it out anew reads the pool, so ask `sources`, off the
    /// request threads). Waits for no lock holder or pool reader: safe on a request thread.
    public func currentSources(_ selection: TileSelection, for caller: Caller = .anonymous) throws -> [StoreLayerSource]? {
        guard let snapshot = try store.currentLayerSnapshot() else { return nil }
        let s = sources(of: snapshot)
        return asRead(try Self.sources(selection, in: s, for: caller), by: caller, ground: s.ground)
    }

    /// From this zoom on, a tile of one layer held in memory takes well under a millisecond
    /// to make (a z15 tile of the 500k parcels, ~100 outlines: ~0.3 ms), less than handing it
    /// to another thread and back costs; below it a tile can take tens of milliseconds.
    public static let quickZoom = 15

    /// The tile of `sources` from the cache, or made now when that is quick (one layer held
    /// in memory, zoom `quickZoom` or more): never waits for a lock holder, a pool reader or
    /// a layer being read, so it is safe on a request thread. `made` says it was not in the
    /// cache. nil means "go the slow way" (`tile(of:)`, off the request threads).
    public func quickTile(of sources: [StoreLayerSource], _ key: TileKey, grid: TileMatrixSet) throws -> (tile: CachedTile, made: Bool)? {
        guard grid.contains(key) else { throw TileError.outOfRange(key, grid) }
        let cacheKey = Self.cacheKey(sources, key, grid)
        if let hit = cache.get(cacheKey) { return (hit, false) }
        guard key.z >= Self.quickZoom, sources.count == 1, let bytes = sources[0].tileIfInMemory(key, grid: grid) else { return nil }
        let tile = CachedTile(bytes: bytes, etag: etag(cacheKey), cacheKey: cacheKey)
        cache.put(cacheKey, tile)
        return (tile, true)
    }

    /// The tile, from the cache or made now. Empty bytes mean no feature falls in it.
    public func tile(_ selection: TileSelection, _ key: TileKey, grid: TileMatrixSet, for caller: Caller = .anonymous) throws -> CachedTile
    {
        try tile(of: try sources(selection, for: caller), key, grid: grid)
    }

    /// The tile of these layers at their versions, from the cache or made now.
    public func tile(of sources: [StoreLayerSource], _ key: TileKey, grid: TileMatrixSet) throws -> CachedTile {
        guard grid.contains(key) else { throw TileError.outOfRange(key, grid) }
        let cacheKey = Self.cacheKey(sources, key, grid)
        if let hit = cache.get(cacheKey) { return hit }
        var bytes: [UInt8] = []
        if sources.count == 1 {
            bytes = try sources[0].tile(key, grid: grid)
        } else {
            // Each layer's tile is cached on its own, so "onemap" and "a,b" share work.
            for source in sources {
                let one = Self.cacheKey([source], key, grid)
                if let hit = cache.get(one) {
                    bytes += hit.bytes
                } else {
                    let made = try source.tile(key, grid: grid)
                    cache.put(one, CachedTile(bytes: made, etag: etag(one), cacheKey: one))
                    bytes += made
                }
            }
        }
        let tile = CachedTile(bytes: bytes, etag: etag(cacheKey), cacheKey: cacheKey)
        cache.put(cacheKey, tile)
        return tile
    }

    /// The gzip form of a tile, kept with it in the cache.
    public func gzipped(_ tile: CachedTile) throws -> [UInt8] {
        let g = try tile.gzipped()
        cache.recost(tile.cacheKey)
        return g
    }

    /// `<grid>|<revision>,<revision>…|z/x/y`, built in one string: it runs for every tile.
    static func cacheKey(_ sources: [StoreLayerSource], _ key: TileKey, _ grid: TileMatrixSet) -> String {
        var s = ""
        s.reserveCapacity(grid.code.utf8.count + sources.count * 24 + 24)
        s += grid.code
        s += "|"
        for (i, source) in sources.enumerated() {
            if i > 0 { s += "," }
            s += source.revision
        }
        s += "|"
        s += String(key.z)
        s += "/"
        s += String(key.x)
        s += "/"
        s += String(key.y)
        return s
    }

    /// The path segment naming `selection` at the versions of `sources`, for tile URLs whose
    /// answer never changes: "farmland@3", "a@3,b@5" (each layer as named), and for every
    /// layer the caller sees, "onemap@" and a digest of their names and versions (a list of
    /// every layer would make long URLs, and name restricted layers in a public one).
    public static func versionedPath(_ selection: TileSelection, _ sources: [StoreLayerSource]) -> String {
        switch selection {
        case .all:
            return "onemap@" + String(fnv1a(sources.map(\.revision).joined(separator: ",")), radix: 16)
        case .layers(let names):
            let revisions = Dictionary(sources.map { ($0.name, $0.revision) }, uniquingKeysWith: { first, _ in first })
            return names.map { revisions[$0] ?? $0 }.joined(separator: ",")
        }
    }

    /// A strong validator: the same layers at the same versions, cut the same way, give the
    /// same bytes, so a hash of what went into the tile names it exactly.
    /// (FNV-1a over codec version, options and cache key; the first two hashed once, in
    /// `etagSeed`, as they are the same for every tile.)
    func etag(_ cacheKey: String) -> String {
        "\"" + String(Self.fnv1a(cacheKey, from: etagSeed), radix: 16) + "\""
    }

    static func fnv1a(_ text: String, from seed: UInt64 = 0xcbf29ce484222325) -> UInt64 { fnv1a(text.utf8, from: seed) }

    /// The box every one of `sources` lies in; nil when none has features.
    static func bounds(of sources: [StoreLayerSource]) -> BoundingBox? {
        var bounds: BoundingBox?
        for s in sources {
            guard let b = s.info.bounds else { continue }
            if bounds == nil { bounds = b } else { bounds!.extend(b) }
        }
        return bounds
    }

    /// FNV-1a (64-bit) over bytes: tile ETags and cache digests, and archived tiles' tags and
    /// content keys.
    @inlinable public static func fnv1a<Bytes: Sequence<UInt8>>(_ bytes: Bytes, from seed: UInt64 = 0xcbf29ce484222325) -> UInt64 {
        var h = seed
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100000001b3
        }
        return h
    }
}

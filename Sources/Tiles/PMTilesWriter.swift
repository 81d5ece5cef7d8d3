import Foundation

/// A PMTiles v3 archive (github.com/protomaps/PMTiles, spec v3): one file a CDN or a plain
/// static server hands out by HTTP range requests, and that MapLibre reads through the
/// `pmtiles://` protocol.
///
/// Tiles may be added in any order (they are made on several threads): their bytes go to a
/// spool file as they come, and `finish` lays the archive out clustered (tile data in tile-ID
/// order, i.e. zoom by zoom along the Hilbert curve, which keeps neighbouring tiles in one
/// range request), with identical tiles stored once and consecutive identical tiles run-length
/// encoded in the directory (a land-use layer's full-coverage tiles, for one).
public final class PMTilesWriter: TileArchiveWriter {
    struct Entry {
        var tileID: UInt64
        /// Offset in the spool while adding; in the tile data section once laid out.
        var offset: UInt64
        var length: UInt32
        var runLength: UInt32
    }

    /// The header's fixed size, and the most the header and root directory may take: a
    /// client's first request reads that much.
    static let headerLength = 127
    static let firstRequest = 16_384

    private let path: String
    private let spool: FileHandle
    private var spoolLength: UInt64 = 0
    private var entries: [Entry] = []
    /// Spool offsets of the contents seen, by a hash of their bytes (compared in full on a
    /// match), so a tile repeated anywhere is stored once.
    private var contents: [ContentKey: [(offset: UInt64, length: UInt32)]] = [:]

    struct ContentKey: Hashable {
        let hash: UInt64
        let length: Int
    }

    /// `path` is written only by `finish`; the spool is an unlinked file beside it, so nothing
    /// of it outlives the process however it ends.
    public init(path: String) throws {
        self.path = path
        let spoolPath = path + ".spool-\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: spoolPath, contents: nil) else {
            throw TileArchiveError("\(spoolPath): cannot create the archive's spool file beside the output")
        }
        spool = try FileHandle(forUpdating: URL(fileURLWithPath: spoolPath))
        try? FileManager.default.removeItem(atPath: spoolPath)
    }

    deinit { try? spool.close() }

    public func add(_ key: TileKey, gzipped bytes: [UInt8]) throws {
        let id = Self.tileID(key)
        let contentKey = ContentKey(hash: TileService.fnv1a(bytes), length: bytes.count)
        for seen in contents[contentKey] ?? [] where try read(seen.offset, Int(seen.length)) == bytes {
            entries.append(Entry(tileID: id, offset: seen.offset, length: seen.length, runLength: 1))
            return
        }
        try spool.seekToEnd()
        try spool.write(contentsOf: bytes)
        contents[contentKey, default: []].append((spoolLength, UInt32(bytes.count)))
        entries.append(Entry(tileID: id, offset: spoolLength, length: UInt32(bytes.count), runLength: 1))
        spoolLength += UInt64(bytes.count)
    }

    public func finish(_ description: TileArchiveDescription) throws {
        entries.sort { $0.tileID < $1.tileID }
        // Lay the tile data out in tile-ID order, each content once, where it first appears.
        var placed: [UInt64: UInt64] = [:]
        var order: [(spool: UInt64, length: UInt32)] = []
        var dataLength: UInt64 = 0
        var laid: [Entry] = []
        laid.reserveCapacity(entries.count)
        for var e in entries {
            if let at = placed[e.offset] {
                e.offset = at
            } else {
                placed[e.offset] = dataLength
                order.append((e.offset, e.length))
                e.offset = dataLength
                dataLength += UInt64(e.length)
            }
            if var last = laid.last, last.offset == e.offset, last.length == e.length,
                last.tileID + UInt64(last.runLength) == e.tileID
            {
                last.runLength += 1
                laid[laid.count - 1] = last
            } else {
                laid.append(e)
            }
        }
        let (root, leaves) = try Self.directories(laid)
        let metadata = try Gzip.compress(
            Array(try JSONSerialization.data(withJSONObject: description.metadata, options: [.sortedKeys])))

        var header = Header()
        header.rootOffset = UInt64(Self.headerLength)
        header.rootLength = UInt64(root.count)
        header.metadataOffset = header.rootOffset + header.rootLength
        header.metadataLength = UInt64(metadata.count)
        header.leavesOffset = header.metadataOffset + header.metadataLength
        header.leavesLength = UInt64(leaves.count)
        header.dataOffset = header.leavesOffset + header.leavesLength
        header.dataLength = dataLength
        header.addressedTiles = UInt64(entries.count)
        header.tileEntries = UInt64(laid.count)
        header.tileContents = UInt64(order.count)
        header.description = description

        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw TileArchiveError("\(path): cannot create the archive")
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? out.close() }
        try out.write(contentsOf: header.bytes + root + metadata + leaves)
        // Copied in runs of adjacent spool bytes: tiles made in one batch usually lie together.
        var i = 0
        while i < order.count {
            var j = i + 1
            var length = UInt64(order[i].length)
            while j < order.count, order[j].spool == order[j - 1].spool + UInt64(order[j - 1].length), length < 8 << 20 {
                length += UInt64(order[j].length)
                j += 1
            }
            try out.write(contentsOf: try read(order[i].spool, Int(length)))
            i = j
        }
        try out.synchronize()
    }

    private func read(_ offset: UInt64, _ length: Int) throws -> [UInt8] {
        try spool.seek(toOffset: offset)
        return Array(try spool.read(upToCount: length) ?? Data())
    }

    // MARK: Directories

    /// The root directory, and the leaf directories it points to when the entries do not fit
    /// in the first request (leaves grow by a fifth until the root does, as go-pmtiles does).
    static func directories(_ entries: [Entry]) throws -> (root: [UInt8], leaves: [UInt8]) {
        let whole = try Gzip.compress(serialize(entries))
        if whole.count <= firstRequest - headerLength { return (whole, []) }
        var leafSize = 4096
        while true {
            var root: [Entry] = []
            var leaves: [UInt8] = []
            var start = 0
            while start < entries.count {
                let chunk = Array(entries[start..<min(start + leafSize, entries.count)])
                let leaf = try Gzip.compress(serialize(chunk))
                root.append(Entry(tileID: chunk[0].tileID, offset: UInt64(leaves.count), length: UInt32(leaf.count), runLength: 0))
                leaves += leaf
                start += leafSize
            }
            let rootBytes = try Gzip.compress(serialize(root))
            if rootBytes.count <= firstRequest - headerLength { return (rootBytes, leaves) }
            leafSize += leafSize / 5
        }
    }

    /// A directory as the spec encodes it: the count, then the tile-ID deltas, run lengths,
    /// lengths and offsets as columns of varints; an offset that follows on from the entry
    /// before is written 0, any other as offset + 1.
    static func serialize(_ entries: [Entry]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * 6 + 8)
        varint(UInt64(entries.count), &out)
        var last: UInt64 = 0
        for e in entries {
            varint(e.tileID - last, &out)
            last = e.tileID
        }
        for e in entries { varint(UInt64(e.runLength), &out) }
        for e in entries { varint(UInt64(e.length), &out) }
        for (i, e) in entries.enumerated() {
            if i > 0, e.offset == entries[i - 1].offset + UInt64(entries[i - 1].length) {
                varint(0, &out)
            } else {
                varint(e.offset + 1, &out)
            }
        }
        return out
    }

    static func varint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// The tile's position on the PMTiles curve: every tile of the zooms above it, then its
    /// index along the Hilbert curve of its zoom.
    public static func tileID(_ key: TileKey) -> UInt64 {
        let z = UInt64(key.z)
        let before: UInt64 = ((1 << (2 * z)) - 1) / 3
        let n = UInt64(1) << z
        var x = UInt64(key.x)
        var y = UInt64(key.y)
        var d: UInt64 = 0
        var s = n / 2
        while s > 0 {
            let rx: UInt64 = (x & s) > 0 ? 1 : 0
            let ry: UInt64 = (y & s) > 0 ? 1 : 0
            d += s * s * ((3 * rx) ^ ry)
            if ry == 0 {
                if rx == 1 {
                    x = n - 1 - x
                    y = n - 1 - y
                }
                swap(&x, &y)
            }
            s /= 2
        }
        return before + d
    }

    /// The tile at a position on the curve (`tileID`'s inverse).
    public static func key(_ id: UInt64) -> TileKey {
        var z: UInt64 = 0
        var before: UInt64 = 0
        while id >= before + (1 << (2 * z)) {
            before += 1 << (2 * z)
            z += 1
        }
        let n = UInt64(1) << z
        var t = id - before
        var x: UInt64 = 0
        var y: UInt64 = 0
        var s: UInt64 = 1
        while s < n {
            let rx = 1 & (t / 2)
            let ry = 1 & (t ^ rx)
            if ry == 0 {
                if rx == 1 {
                    x = s - 1 - x
                    y = s - 1 - y
                }
                swap(&x, &y)
            }
            x += s * rx
            y += s * ry
            t /= 4
            s *= 2
        }
        return TileKey(z: Int(z), x: Int(x), y: Int(y))
    }

    /// The 127-byte header: offsets and lengths of the sections, counts, compression and
    /// type, zooms, bounds and centre (degrees × 10⁷), all little-endian.
    struct Header {
        var rootOffset: UInt64 = 0, rootLength: UInt64 = 0
        var metadataOffset: UInt64 = 0, metadataLength: UInt64 = 0
        var leavesOffset: UInt64 = 0, leavesLength: UInt64 = 0
        var dataOffset: UInt64 = 0, dataLength: UInt64 = 0
        var addressedTiles: UInt64 = 0, tileEntries: UInt64 = 0, tileContents: UInt64 = 0
        var description = TileArchiveDescription()

        static let gzip: UInt8 = 2
        static let mvt: UInt8 = 1

        var bytes: [UInt8] {
            var out: [UInt8] = Array("PMTiles".utf8) + [3]
            for v in [
                rootOffset, rootLength, metadataOffset, metadataLength, leavesOffset, leavesLength, dataOffset, dataLength,
                addressedTiles, tileEntries, tileContents
            ] {
                withUnsafeBytes(of: v.littleEndian) { out += $0 }
            }
            // Clustered; directories and tiles gzipped; vector tiles.
            out += [1, Self.gzip, Self.gzip, Self.mvt, UInt8(description.minZoom), UInt8(description.maxZoom)]
            let b = description.bounds
            for v in [b.minX, b.minY, b.maxX, b.maxY] { withUnsafeBytes(of: Self.e7(v).littleEndian) { out += $0 } }
            out.append(UInt8(description.centerZoom))
            for v in [(b.minX + b.maxX) / 2, (b.minY + b.maxY) / 2] { withUnsafeBytes(of: Self.e7(v).littleEndian) { out += $0 } }
            return out
        }

        static func e7(_ degrees: Double) -> Int32 { Int32((degrees * 10_000_000).rounded()) }
    }
}

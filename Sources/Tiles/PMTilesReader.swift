import Foundation
import GeoCore
import Synchronization

/// A PMTiles v3 archive read in place: the header and root directory at open, a leaf directory
/// when a tile needs it (a few kept), and each tile by a positioned read of its bytes, so a
/// large archive is never read whole and many requests read it at once.
public final class PMTilesReader: TileArchive {
    public let path: String
    public let grid = TileMatrixSet.webMercatorQuad
    public let name: String
    public let zooms: ClosedRange<Int>
    public let bounds: BoundingBox
    public let metadataJSON: Data
    private let handle: FileHandle
    private let root: [PMTilesWriter.Entry]
    private let leavesOffset: UInt64
    private let dataOffset: UInt64
    private let leaves = Mutex<[UInt64: [PMTilesWriter.Entry]]>([:])
    private let tilesGzipped: Bool
    private let directoriesGzipped: Bool
    static let leavesKept = 256

    public init(path: String) throws {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else { throw TileArchiveError("\(path): cannot be opened") }
        self.handle = handle
        let size = try handle.seekToEnd()
        func fail(_ what: String) -> TileArchiveError { TileArchiveError("\(path): not a usable PMTiles v3 archive: \(what)") }
        guard size >= 127 else { throw fail("\(size) bytes, shorter than its header") }
        let h = try Self.pread(handle, 0, 127)
        guard h.starts(with: Array("PMTiles".utf8)) else { throw fail("no PMTiles magic") }
        guard h[7] == 3 else { throw fail("version \(h[7]); this reads version 3") }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(h[at + $1]) << (8 * UInt64($1)) } }
        func i32(_ at: Int) -> Double {
            Double(Int32(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(h[at + $1]) << (8 * UInt32($1)) })) / 10_000_000
        }
        let sections = [
            ("root directory", u64(8), u64(16)), ("metadata", u64(24), u64(32)), ("leaf directories", u64(40), u64(48)),
            ("tile data", u64(56), u64(64))
        ]
        for (what, offset, length) in sections where offset > size || length > size - offset {
            throw fail("its \(what) (\(length) bytes at \(offset)) runs past the end of the file (\(size) bytes): truncated?")
        }
        guard [1, 2].contains(h[97]) else { throw fail("directories compressed with method \(h[97]); this reads none (1) and gzip (2)") }
        guard [1, 2].contains(h[98]) else { throw fail("tiles compressed with method \(h[98]); this reads none (1) and gzip (2)") }
        guard h[99] == 1 else { throw fail("tile type \(h[99]), not vector tiles (1)") }
        directoriesGzipped = h[97] == 2
        tilesGzipped = h[98] == 2
        leavesOffset = u64(40)
        dataOffset = u64(56)
        guard h[100] <= h[101], Int(h[101]) <= TileMatrixSet.maxZoom else { throw fail("zooms \(h[100])…\(h[101])") }
        zooms = Int(h[100])...Int(h[101])
        bounds = BoundingBox(i32(102), i32(106), i32(110), i32(114))
        do {
            var meta = try Self.pread(handle, u64(24), Int(u64(32)))
            if directoriesGzipped { meta = try Gzip.decompress(meta) }
            metadataJSON = Data(meta)
            let object = try JSONSerialization.jsonObject(with: metadataJSON) as? [String: Any]
            name = object?["name"] as? String ?? "archive"
            root = try Self.directory(try Self.pread(handle, u64(8), Int(u64(16))), gzipped: directoriesGzipped)
        } catch let e as TileArchiveError {
            throw e
        } catch {
            throw fail("its metadata or root directory does not decode: \(error)")
        }
    }

    deinit { try? handle.close() }

    public func tile(_ key: TileKey) throws -> [UInt8]? {
        guard zooms.contains(key.z) else { return nil }
        let id = PMTilesWriter.tileID(key)
        var entries = root
        // The spec allows leaves under leaves; a well-formed archive needs a few levels at most.
        for _ in 0..<4 {
            guard let e = Self.find(id, in: entries) else { return nil }
            if e.runLength > 0 {
                let bytes = try Self.pread(handle, dataOffset + e.offset, Int(e.length))
                return tilesGzipped || bytes.isEmpty ? bytes : try Gzip.compress(bytes)
            }
            entries = try leaf(e.offset, Int(e.length))
        }
        throw TileArchiveError("\(path): leaf directories nested deeper than 4 for tile \(key): damaged")
    }

    public func keys() throws -> [TileKey] {
        var out: [TileKey] = []
        func walk(_ entries: [PMTilesWriter.Entry], depth: Int) throws {
            guard depth < 4 else { throw TileArchiveError("\(path): leaf directories nested deeper than 4: damaged") }
            for e in entries {
                if e.runLength == 0 {
                    try walk(try leaf(e.offset, Int(e.length)), depth: depth + 1)
                } else {
                    for k in 0..<UInt64(e.runLength) { out.append(PMTilesWriter.key(e.tileID + k)) }
                }
            }
        }
        try walk(root, depth: 0)
        return out
    }

    private func leaf(_ offset: UInt64, _ length: Int) throws -> [PMTilesWriter.Entry] {
        if let hit = leaves.withLock({ $0[offset] }) { return hit }
        let entries: [PMTilesWriter.Entry]
        do {
            entries = try Self.directory(try Self.pread(handle, leavesOffset + offset, length), gzipped: directoriesGzipped)
        } catch {
            throw TileArchiveError("\(path): the leaf directory at \(offset) does not decode: \(error)")
        }
        leaves.withLock {
            if $0.count >= Self.leavesKept { $0.removeAll(keepingCapacity: true) }
            $0[offset] = entries
        }
        return entries
    }

    /// The entry covering `id`: the last whose tile ID is not past it, if its run (or, for a
    /// leaf, its range) reaches it.
    static func find(_ id: UInt64, in entries: [PMTilesWriter.Entry]) -> PMTilesWriter.Entry? {
        var lo = 0
        var hi = entries.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            if entries[mid].tileID <= id { lo = mid + 1 } else { hi = mid - 1 }
        }
        guard hi >= 0 else { return nil }
        let e = entries[hi]
        return e.runLength == 0 || id - e.tileID < UInt64(e.runLength) ? e : nil
    }

    /// A directory from its encoding (`PMTilesWriter.serialize`'s inverse).
    static func directory(_ stored: [UInt8], gzipped: Bool) throws -> [PMTilesWriter.Entry] {
        let raw = gzipped ? try Gzip.decompress(stored) : stored
        var at = 0
        func varint() throws -> UInt64 {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while at < raw.count, shift < 64 {
                let b = raw[at]
                at += 1
                v |= UInt64(b & 0x7f) << shift
                if b < 0x80 { return v }
                shift += 7
            }
            throw TileArchiveError("a directory ends inside a number")
        }
        let n = Int(try varint())
        guard n <= raw.count else { throw TileArchiveError("a directory claims \(n) entries in \(raw.count) bytes") }
        var out = [PMTilesWriter.Entry](repeating: .init(tileID: 0, offset: 0, length: 0, runLength: 0), count: n)
        var id: UInt64 = 0
        for i in 0..<n {
            id += try varint()
            out[i].tileID = id
        }
        for i in 0..<n { out[i].runLength = UInt32(truncatingIfNeeded: try varint()) }
        for i in 0..<n { out[i].length = UInt32(truncatingIfNeeded: try varint()) }
        for i in 0..<n {
            let v = try varint()
            if v == 0 {
                guard i > 0 else { throw TileArchiveError("a directory's first offset is relative") }
                out[i].offset = out[i - 1].offset + UInt64(out[i - 1].length)
            } else {
                out[i].offset = v - 1
            }
        }
        return out
    }

    /// `length` bytes at `offset`, by pread: safe from many threads at once on one descriptor.
    static func pread(_ handle: FileHandle, _ offset: UInt64, _ length: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let n = out.withUnsafeMutableBytes { buffer in
                Glibc.pread(handle.fileDescriptor, buffer.baseAddress! + done, length - done, off_t(offset) + off_t(done))
            }
            guard n > 0 else {
                throw TileArchiveError(
                    n == 0 ? "the file ends at \(offset + UInt64(done)), inside what it points to" : String(cString: strerror(errno)))
            }
            done += n
        }
        return out
    }
}

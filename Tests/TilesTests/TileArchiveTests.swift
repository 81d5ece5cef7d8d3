import Foundation
import GRDB
import GeoCore
import Testing

@testable import Tiles

/// The archive writers' own rules: PMTiles tile IDs, stored-once contents, run lengths and leaf
/// directories, read back here from the bytes as the spec lays them out; MBTiles rows counted
/// from the bottom. (`Tests/e2e/archives_e2e.py` reads real exports with PyPI's `pmtiles`,
/// GDAL's MBTiles and MVT drivers.)
struct TileArchiveTests {
    @Test func tileIDsFollowTheSpecCurve() {
        // Values as the reference implementation gives them (PyPI pmtiles, tile.zxy_to_tileid).
        let cases: [(Int, Int, Int, UInt64)] = [
            (0, 0, 0, 0), (1, 0, 0, 1), (1, 0, 1, 2), (1, 1, 1, 3), (1, 1, 0, 4), (2, 0, 0, 5), (3, 7, 7, 63),
            (12, 3423, 1763, 19_078_479)
        ]
        for (z, x, y, id) in cases {
            #expect(PMTilesWriter.tileID(TileKey(z: z, x: x, y: y)) == id, "\(z)/\(x)/\(y)")
        }
        // Every tile of a zoom gets its own ID, after every ID of the zooms above.
        let z4 = (0..<16).flatMap { x in (0..<16).map { y in PMTilesWriter.tileID(TileKey(z: 4, x: x, y: y)) } }
        #expect(Set(z4).count == 256 && z4.min() == 85 && z4.max() == 340)
        // And back.
        for z in 0...6 {
            for x in 0..<(1 << z) {
                for y in 0..<(1 << z) {
                    let key = TileKey(z: z, x: x, y: y)
                    #expect(PMTilesWriter.key(PMTilesWriter.tileID(key)) == key)
                }
            }
        }
    }

    @Test func repeatedTilesAreStoredOnceAndRunsAreOneEntry() throws {
        let path = Self.temporary("pmtiles")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try PMTilesWriter(path: path)
        let sea = Array("the same bytes".utf8)
        // z3 along the curve: IDs 21…84. Tiles 21…30 are the same (one run), 40 repeats them
        // apart from the run, the rest differ.
        var expected: [UInt64: [UInt8]] = [:]
        let keys = (0..<8).flatMap { x in (0..<8).map { y in TileKey(z: 3, x: x, y: y) } }.shuffled()
        for key in keys {
            let id = PMTilesWriter.tileID(key)
            let bytes = (21...30).contains(id) || id == 40 ? sea : Array("tile \(id)".utf8)
            try writer.add(key, gzipped: bytes)
            expected[id] = bytes
        }
        try writer.finish(Self.description(maxZoom: 3))
        let archive = try Archive(path: path)
        #expect(archive.header.addressed == 64 && archive.header.contents == 64 - 10)
        // The run of 10 is one entry; 40 is its own entry pointing at the run's bytes.
        #expect(archive.header.entries == 64 - 9)
        let run = try #require(archive.entries.first { $0.tileID == 21 })
        #expect(run.runLength == 10)
        #expect(archive.entries.first { $0.tileID == 40 }?.offset == run.offset)
        #expect(try archive.allTiles() == expected)
    }

    @Test func manyTilesGoToLeafDirectories() throws {
        let path = Self.temporary("pmtiles")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try PMTilesWriter(path: path)
        var expected: [UInt64: [UInt8]] = [:]
        // 65,536 tiles of z8, each different and of a length that varies as real tiles' do
        // (lengths that repeat compress to nothing): far more than a 16 KiB root can hold.
        var state: UInt64 = 26
        for x in 0..<256 {
            for y in 0..<256 {
                let key = TileKey(z: 8, x: x, y: y)
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let bytes = Array("\(x),\(y)".utf8) + [UInt8](repeating: 7, count: Int(state >> 56))
                try writer.add(key, gzipped: bytes)
                expected[PMTilesWriter.tileID(key)] = bytes
            }
        }
        try writer.finish(Self.description(maxZoom: 8))
        let archive = try Archive(path: path)
        #expect(archive.header.leavesLength > 0)
        #expect(archive.header.rootLength + 127 <= 16_384)
        #expect(try archive.allTiles() == expected)
        let metadata = try JSONSerialization.jsonObject(with: Data(archive.metadata)) as? [String: Any]
        #expect(metadata?["name"] as? String == "test")
    }

    @Test func mbtilesRowsCountFromTheBottom() throws {
        let path = Self.temporary("mbtiles")
        defer { try? FileManager.default.removeItem(atPath: path) }
        for grid in [TileMatrixSet.webMercatorQuad, .cgcs2000Quad] {
            try? FileManager.default.removeItem(atPath: path)
            let writer = try MBTilesWriter(path: path, grid: grid)
            try writer.add(TileKey(z: 3, x: 6, y: 1), gzipped: [1, 2, 3])
            var d = Self.description(maxZoom: 3)
            d.grid = grid
            try writer.finish(d)
            let queue = try DatabaseQueue(path: path)
            let row = try queue.read { try Row.fetchOne($0, sql: "SELECT zoom_level, tile_column, tile_row FROM tiles") }
            // Web Mercator z3 has 8 rows; the CGCS2000 grid 4.
            #expect(row?[2] as Int? == (grid == .webMercatorQuad ? 6 : 2), "\(grid.id)")
            let crs = try queue.read { try String.fetchOne($0, sql: "SELECT value FROM metadata WHERE name = 'crs'") }
            #expect(crs == (grid == .webMercatorQuad ? nil : "EPSG:4490"))
            try queue.close()
        }
    }

    static func temporary(_ ext: String) -> String {
        NSTemporaryDirectory() + "onemap-archive-\(UUID().uuidString).\(ext)"
    }

    static func description(maxZoom: Int) -> TileArchiveDescription {
        var d = TileArchiveDescription()
        d.maxZoom = maxZoom
        d.bounds = BoundingBox(118.7, 27.4, 120.5, 28.9)
        d.metadata = ["name": "test", "vector_layers": [["id": "farmland", "fields": ["BSM": "String"]]]]
        return d
    }

    /// A PMTiles v3 file read as the spec describes it.
    struct Archive {
        struct Header {
            var rootOffset = 0, rootLength = 0, metadataOffset = 0, metadataLength = 0
            var leavesOffset = 0, leavesLength = 0, dataOffset = 0
            var addressed = 0, entries = 0, contents = 0
        }
        struct Entry {
            var tileID: UInt64, offset: Int, length: Int, runLength: Int
        }
        let bytes: [UInt8]
        var header = Header()
        var entries: [Entry] = []
        var metadata: [UInt8] = []

        init(path: String) throws {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(Array(bytes[0..<7]) == Array("PMTiles".utf8) && bytes[7] == 3)
            func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
            header = Header(
                rootOffset: u64(8), rootLength: u64(16), metadataOffset: u64(24), metadataLength: u64(32), leavesOffset: u64(40),
                leavesLength: u64(48), dataOffset: u64(56), addressed: u64(72), entries: u64(80), contents: u64(88))
            #expect(bytes[96] == 1 && bytes[97] == 2 && bytes[98] == 2 && bytes[99] == 1)
            metadata = try Gzip.decompress(Array(bytes[header.metadataOffset..<(header.metadataOffset + header.metadataLength)]))
            for e in try directory(header.rootOffset, header.rootLength) {
                if e.runLength == 0 {
                    entries += try directory(header.leavesOffset + e.offset, e.length)
                } else {
                    entries.append(e)
                }
            }
        }

        func directory(_ offset: Int, _ length: Int) throws -> [Entry] {
            let raw = try Gzip.decompress(Array(bytes[offset..<(offset + length)]))
            var at = 0
            func varint() -> Int {
                var v = 0
                var shift = 0
                while true {
                    let b = raw[at]
                    at += 1
                    v |= Int(b & 0x7f) << shift
                    if b < 0x80 { return v }
                    shift += 7
                }
            }
            let n = varint()
            var out = [Entry](repeating: Entry(tileID: 0, offset: 0, length: 0, runLength: 0), count: n)
            var id: UInt64 = 0
            for i in 0..<n {
                id += UInt64(varint())
                out[i].tileID = id
            }
            for i in 0..<n { out[i].runLength = varint() }
            for i in 0..<n { out[i].length = varint() }
            for i in 0..<n {
                let v = varint()
                out[i].offset = v == 0 && i > 0 ? out[i - 1].offset + out[i - 1].length : v - 1
            }
            return out
        }

        func allTiles() throws -> [UInt64: [UInt8]] {
            var tiles: [UInt64: [UInt8]] = [:]
            for e in entries {
                let start = header.dataOffset + e.offset
                for k in 0..<e.runLength { tiles[e.tileID + UInt64(k)] = Array(bytes[start..<(start + e.length)]) }
            }
            return tiles
        }
    }
}

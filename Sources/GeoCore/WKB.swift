import Foundation

/// Well-Known Binary, the exchange format between OGR, GEOS and OneMap.
/// Reads OGC and ISO WKB in either byte order, dropping Z and M; writes little-endian 2D ISO WKB.
public enum WKB {
    public static func decode(_ data: [UInt8]) throws -> Geometry {
        try data.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            let g = try reader.geometry(depth: 0)
            return g
        }
    }

    public static func encode(_ geometry: Geometry) -> [UInt8] {
        var w = BinaryWriter()
        w.geometry(geometry)
        return w.bytes
    }

    /// PostGIS's extended WKB: the SRID in the outer header (flag 0x20000000), which a typed
    /// `geometry(…, srid)` column requires of what it is given.
    public static func encodeExtended(_ geometry: Geometry, srid: UInt32) -> [UInt8] {
        var w = BinaryWriter()
        w.sridOfNextHeader = srid
        w.geometry(geometry)
        return w.bytes
    }
}

/// Bounds-checked reading of binary geometry formats (WKB, SpatiaLite blobs).
public struct BinaryReader {
    let buffer: UnsafeRawBufferPointer
    public var offset = 0
    public var littleEndian = true

    public init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    public mutating func need(_ n: Int) throws {
        guard n >= 0, offset + n <= buffer.count else {
            throw GeometryFormatError("WKB truncated at byte \(offset): \(n) more bytes needed, \(buffer.count - offset) left")
        }
    }

    public mutating func byte() throws -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return buffer[offset]
    }

    public mutating func uint32() throws -> UInt32 {
        try need(4)
        let v = buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset += 4
        return littleEndian ? UInt32(littleEndian: v) : UInt32(bigEndian: v)
    }

    public mutating func double() throws -> Double {
        try need(8)
        let v = buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        offset += 8
        return Double(bitPattern: littleEndian ? UInt64(littleEndian: v) : UInt64(bigEndian: v))
    }

    /// A count of items that each take at least `minBytes`: bounded by what is left,
    /// so a corrupt count cannot make us allocate gigabytes.
    public mutating func count(minBytes: Int) throws -> Int {
        let n = Int(try uint32())
        guard n * minBytes <= buffer.count - offset else {
            throw GeometryFormatError("WKB count \(n) at byte \(offset - 4) exceeds the data left")
        }
        return n
    }

    public mutating func coordinates(_ n: Int, stride: Int) throws -> [Coordinate] {
        try need(n * stride * 8)
        var out = [Coordinate]()
        out.reserveCapacity(n)
        for _ in 0..<n {
            let x = try double(), y = try double()
            offset += (stride - 2) * 8
            out.append(Coordinate(x, y))
        }
        return out
    }

    mutating func geometry(depth: Int) throws -> Geometry {
        guard depth < 32 else { throw GeometryFormatError("WKB nested deeper than 32 levels") }
        let order = try byte()
        guard order <= 1 else { throw GeometryFormatError("WKB byte order \(order) at byte \(offset - 1) is neither 0 nor 1") }
        littleEndian = order == 1
        var type = try uint32()
        // EWKB flags (PostGIS) and ISO thousands both mark Z and M.
        var stride = 2
        if type & 0x8000_0000 != 0 { stride += 1 }
        if type & 0x4000_0000 != 0 { stride += 1 }
        let hasSRID = type & 0x2000_0000 != 0
        type &= 0x0FFF_FFFF
        switch type / 1000 {
        case 1, 2: stride += 1
        case 3: stride += 2
        default: break
        }
        type %= 1000
        if hasSRID { _ = try uint32() }
        switch type {
        case 1:
            let c = try coordinates(1, stride: stride)[0]
            if c.x.isNaN && c.y.isNaN { return .multiPoint([]) }  // POINT EMPTY
            return .point(c)
        case 2:
            return .lineString(try coordinates(try count(minBytes: stride * 8), stride: stride))
        case 3:
            return .polygon(try polygonBody(stride: stride))
        case 4, 5, 6, 7:
            let n = try count(minBytes: 5)
            var parts = [Geometry]()
            parts.reserveCapacity(n)
            for _ in 0..<n { parts.append(try geometry(depth: depth + 1)) }
            switch type {
            case 4:
                return .multiPoint(
                    try parts.map {
                        guard case .point(let c) = $0 else { throw GeometryFormatError("MultiPoint holds a \($0.typeName)") }; return c
                    })
            case 5:
                return .multiLineString(
                    try parts.map {
                        guard case .lineString(let l) = $0 else { throw GeometryFormatError("MultiLineString holds a \($0.typeName)") };
                        return l
                    })
            case 6:
                return .multiPolygon(
                    try parts.map {
                        guard case .polygon(let p) = $0 else { throw GeometryFormatError("MultiPolygon holds a \($0.typeName)") }; return p
                    })
            default: return .collection(parts)
            }
        default:
            throw GeometryFormatError("WKB geometry type \(type) is not supported (curves must be linearised first)")
        }
    }

    public mutating func polygonBody(stride: Int) throws -> Polygon {
        let nr = try count(minBytes: 4)
        var rings = [[Coordinate]]()
        rings.reserveCapacity(nr)
        for _ in 0..<nr { rings.append(try coordinates(try count(minBytes: stride * 8), stride: stride)) }
        return Polygon(rings)
    }
}

/// Little-endian writing of binary geometry formats.
public struct BinaryWriter {
    public init() {}
    public var bytes: [UInt8] = []

    public mutating func uint32(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    public mutating func double(_ v: Double) {
        withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }
    public mutating func coordinates(_ cs: [Coordinate]) {
        uint32(UInt32(cs.count))
        for c in cs { double(c.x); double(c.y) }
    }
    /// Written into the next header only (extended WKB's outer geometry), then cleared.
    var sridOfNextHeader: UInt32? = nil

    mutating func header(_ type: UInt32) {
        bytes.append(1)
        guard let srid = sridOfNextHeader else { return uint32(type) }
        uint32(type | 0x2000_0000)
        uint32(srid)
        sridOfNextHeader = nil
    }

    public mutating func geometry(_ g: Geometry) {
        switch g {
        case .point(let c): header(1); double(c.x); double(c.y)
        case .lineString(let l): header(2); coordinates(l)
        case .polygon(let p): header(3); polygon(p)
        case .multiPoint(let cs):
            header(4); uint32(UInt32(cs.count))
            for c in cs { geometry(.point(c)) }
        case .multiLineString(let ls):
            header(5); uint32(UInt32(ls.count))
            for l in ls { geometry(.lineString(l)) }
        case .multiPolygon(let ps):
            header(6); uint32(UInt32(ps.count))
            for p in ps { geometry(.polygon(p)) }
        case .collection(let gs):
            header(7); uint32(UInt32(gs.count))
            for part in gs { geometry(part) }
        }
    }
    public mutating func polygon(_ p: Polygon) {
        uint32(UInt32(p.rings.count))
        for r in p.rings { coordinates(r) }
    }
}

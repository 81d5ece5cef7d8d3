import Foundation
import GeoCore

/// SpatiaLite's own geometry BLOB (what `GeomFromText` stores and QGIS reads), encoded and
/// decoded in Swift so that import and queries skip a SQL function call per feature.
///
/// Layout (little-endian, XY): 0x00, 0x01, SRID:int32, MBR minX minY maxX maxY:double,
/// 0x7C, class:int32, body, 0xFE. In collections each part is 0x69 + class:int32 + body.
public enum SpatiaLiteGeometry {
    public static func encode(_ g: Geometry, srid: Int32, box: BoundingBox) -> Data {
        var w = BinaryWriter()
        w.bytes.reserveCapacity(64 + g.coordinateCount * 16)
        w.bytes.append(0x00)
        w.bytes.append(0x01)
        w.uint32(UInt32(bitPattern: srid))
        w.double(box.minX); w.double(box.minY); w.double(box.maxX); w.double(box.maxY)
        w.bytes.append(0x7C)
        body(g, &w)
        w.bytes.append(0xFE)
        return Data(w.bytes)
    }

    /// The blob of a multi-geometry given as little-endian 2D WKB or PostGIS extended WKB (its
    /// SRID dropped, `srid` written instead), rewritten byte for byte: the two formats lay out
    /// coordinates alike, and differ in the header and in each part's first byte (0x69 here,
    /// the byte order in WKB). Nil for anything else (big-endian, Z or M, not a multi-geometry,
    /// or cut short), which `encode(WKB.decode(…))` then handles. A replica copying a layer from
    /// PostGIS spent a third of its time building geometries only to write them again.
    public static func fromWKB(_ wkb: UnsafeRawBufferPointer, srid: Int32, box: BoundingBox) -> Data? {
        func u32(_ at: Int) -> UInt32? {
            at + 4 <= wkb.count ? UInt32(littleEndian: wkb.loadUnaligned(fromByteOffset: at, as: UInt32.self)) : nil
        }
        guard wkb.count >= 9, wkb[0] == 1, let rawType = u32(1), rawType & 0xDFFF_FFFF <= 6, (4...6).contains(rawType & 0xFF) else {
            return nil
        }
        let type = rawType & 0xFF
        let partType = type - 3
        var at = 5 + (rawType & 0x2000_0000 != 0 ? 4 : 0)
        guard let parts = u32(at) else { return nil }
        at += 4
        let bodyStart = at
        var starts: [Int] = []
        starts.reserveCapacity(Int(min(parts, 1 << 16)))
        for _ in 0..<parts {
            guard at + 5 <= wkb.count, wkb[at] == 1, u32(at + 1) == partType else { return nil }
            starts.append(at)
            at += 5
            switch partType {
            case 1: at += 16
            case 2:
                guard let n = u32(at) else { return nil }
                at += 4 + 16 * Int(n)
            default:
                guard let rings = u32(at) else { return nil }
                at += 4
                for _ in 0..<rings {
                    guard let n = u32(at) else { return nil }
                    at += 4 + 16 * Int(n)
                }
            }
            guard at <= wkb.count else { return nil }
        }
        guard at == wkb.count else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(43 + 8 + (wkb.count - bodyStart) + 1)
        var w = BinaryWriter()
        w.bytes = out
        w.bytes.append(0x00)
        w.bytes.append(0x01)
        w.uint32(UInt32(bitPattern: srid))
        w.double(box.minX); w.double(box.minY); w.double(box.maxX); w.double(box.maxY)
        w.bytes.append(0x7C)
        w.uint32(type)
        w.uint32(parts)
        let first = w.bytes.count
        w.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: wkb[bodyStart..<wkb.count]))
        for s in starts { w.bytes[first + s - bodyStart] = 0x69 }
        w.bytes.append(0xFE)
        return Data(w.bytes)
    }

    static func classCode(_ g: Geometry) -> UInt32 {
        switch g {
        case .point: return 1
        case .lineString: return 2
        case .polygon: return 3
        case .multiPoint: return 4
        case .multiLineString: return 5
        case .multiPolygon: return 6
        case .collection: return 7
        }
    }

    static func body(_ g: Geometry, _ w: inout BinaryWriter) {
        w.uint32(classCode(g))
        switch g {
        case .point(let c): w.double(c.x); w.double(c.y)
        case .lineString(let l): w.coordinates(l)
        case .polygon(let p): w.polygon(p)
        case .multiPoint(let cs): entities(cs.map { .point($0) }, &w)
        case .multiLineString(let ls): entities(ls.map { .lineString($0) }, &w)
        case .multiPolygon(let ps): entities(ps.map { .polygon($0) }, &w)
        case .collection(let gs): entities(gs, &w)
        }
    }

    static func entities(_ parts: [Geometry], _ w: inout BinaryWriter) {
        w.uint32(UInt32(parts.count))
        for p in parts {
            w.bytes.append(0x69)
            body(p, &w)
        }
    }

    public static func decode(_ data: Data) throws -> Geometry {
        try data.withUnsafeBytes { try decode($0) }
    }

    /// Decodes straight from memory SQLite owns, without copying the blob first.
    public static func decode(_ raw: UnsafeRawBufferPointer) throws -> Geometry {
        var r = BinaryReader(raw)
        guard raw.count >= 44, try r.byte() == 0x00 else { throw GeometryFormatError("not a SpatiaLite geometry blob") }
        let order = try r.byte()
        guard order <= 1 else { throw GeometryFormatError("bad SpatiaLite byte order \(order)") }
        r.littleEndian = order == 1
        r.offset = 38
        guard try r.byte() == 0x7C else { throw GeometryFormatError("bad SpatiaLite MBR marker") }
        let g = try decodeBody(&r, depth: 0)
        guard try r.byte() == 0xFE else { throw GeometryFormatError("bad SpatiaLite end marker") }
        return g
    }

    /// Just the MBR from the header, without decoding the geometry.
    public static func boundingBox(_ data: Data) -> BoundingBox? {
        guard data.count >= 44 else { return nil }
        return data.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            r.littleEndian = raw[1] == 1
            r.offset = 6
            guard let a = try? r.double(), let b = try? r.double(), let c = try? r.double(), let d = try? r.double() else { return nil }
            return BoundingBox(a, b, c, d)
        }
    }

    static func decodeBody(_ r: inout BinaryReader, depth: Int) throws -> Geometry {
        guard depth < 32 else { throw GeometryFormatError("SpatiaLite geometry nested too deep") }
        let cls = try r.uint32()
        switch cls {
        case 1: return .point(try r.coordinates(1, stride: 2)[0])
        case 2: return .lineString(try r.coordinates(try r.count(minBytes: 16), stride: 2))
        case 3: return .polygon(try r.polygonBody(stride: 2))
        case 4, 5, 6, 7:
            let n = try r.count(minBytes: 5)
            var parts = [Geometry]()
            parts.reserveCapacity(n)
            for _ in 0..<n {
                guard try r.byte() == 0x69 else { throw GeometryFormatError("bad SpatiaLite entity marker") }
                parts.append(try decodeBody(&r, depth: depth + 1))
            }
            switch cls {
            case 4: return .multiPoint(parts.flatMap(\.points))
            case 5: return .multiLineString(parts.flatMap(\.lineStrings))
            case 6: return .multiPolygon(parts.flatMap(\.polygons))
            default: return .collection(parts)
            }
        default:
            throw GeometryFormatError("SpatiaLite geometry class \(cls) is not supported (only XY)")
        }
    }
}

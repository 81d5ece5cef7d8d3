import Foundation

/// A small MVT 2.1 decoder written for the tests, from the spec, sharing no code with the
/// encoder: protobuf wire format, layers, features, properties and geometry commands.
struct DecodedTile {
    var layers: [DecodedLayer] = []
    func layer(_ name: String) -> DecodedLayer? { layers.first { $0.name == name } }
}

struct DecodedLayer {
    var name = ""
    var version = 1
    var extent = 4096
    var keys: [String] = []
    var values: [DecodedValue] = []
    var features: [DecodedFeature] = []
}

enum DecodedValue: Hashable {
    case string(String), float(Float), double(Double), int(Int64), uint(UInt64), sint(Int64), bool(Bool)
}

struct DecodedFeature {
    var id: UInt64?
    var type = 0
    var tags: [UInt32] = []
    var commands: [UInt32] = []
    var properties: [String: DecodedValue] = [:]
    /// Points, lines or rings (rings open: the first point not repeated), in tile coordinates.
    var parts: [[(x: Int64, y: Int64)]] = []
}

struct DecodeError: Error, CustomStringConvertible { let description: String }

struct ProtoReader {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init<S: Sequence>(slice: S) where S.Element == UInt8 { self.bytes = Array(slice) }
    var atEnd: Bool { offset >= bytes.count }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw DecodeError(description: "truncated varint") }
            let b = bytes[offset]
            offset += 1
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw DecodeError(description: "varint too long") }
        }
    }

    mutating func field() throws -> (number: Int, wire: Int) {
        let k = try varint()
        return (Int(k >> 3), Int(k & 7))
    }

    mutating func lengthDelimited() throws -> [UInt8] {
        let n = Int(try varint())
        guard offset + n <= bytes.count else { throw DecodeError(description: "truncated field") }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    mutating func fixed64() throws -> UInt64 {
        guard offset + 8 <= bytes.count else { throw DecodeError(description: "truncated fixed64") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return v
    }

    mutating func fixed32() throws -> UInt32 {
        guard offset + 4 <= bytes.count else { throw DecodeError(description: "truncated fixed32") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        offset += 4
        return v
    }

    mutating func skip(_ wire: Int) throws {
        switch wire {
        case 0: _ = try varint()
        case 1: offset += 8
        case 2: _ = try lengthDelimited()
        case 5: offset += 4
        default: throw DecodeError(description: "unknown wire type \(wire)")
        }
    }

    mutating func packed() throws -> [UInt32] {
        var r = ProtoReader(try lengthDelimited())
        var out: [UInt32] = []
        while !r.atEnd { out.append(UInt32(truncatingIfNeeded: try r.varint())) }
        return out
    }
}

func decodeTile(_ bytes: [UInt8]) throws -> DecodedTile {
    var tile = DecodedTile()
    var r = ProtoReader(bytes)
    while !r.atEnd {
        let (n, w) = try r.field()
        if n == 3 && w == 2 { tile.layers.append(try decodeLayer(try r.lengthDelimited())) } else { try r.skip(w) }
    }
    return tile
}

func decodeLayer(_ bytes: [UInt8]) throws -> DecodedLayer {
    var layer = DecodedLayer()
    var r = ProtoReader(bytes)
    var rawFeatures: [[UInt8]] = []
    while !r.atEnd {
        let (n, w) = try r.field()
        switch (n, w) {
        case (15, 0): layer.version = Int(try r.varint())
        case (1, 2): layer.name = String(decoding: try r.lengthDelimited(), as: UTF8.self)
        case (2, 2): rawFeatures.append(try r.lengthDelimited())
        case (3, 2): layer.keys.append(String(decoding: try r.lengthDelimited(), as: UTF8.self))
        case (4, 2): layer.values.append(try decodeValue(try r.lengthDelimited()))
        case (5, 0): layer.extent = Int(try r.varint())
        default: try r.skip(w)
        }
    }
    for raw in rawFeatures {
        var f = DecodedFeature()
        var fr = ProtoReader(raw)
        while !fr.atEnd {
            let (n, w) = try fr.field()
            switch (n, w) {
            case (1, 0): f.id = try fr.varint()
            case (2, 2): f.tags = try fr.packed()
            case (3, 0): f.type = Int(try fr.varint())
            case (4, 2): f.commands = try fr.packed()
            default: try fr.skip(w)
            }
        }
        guard f.tags.count % 2 == 0 else { throw DecodeError(description: "odd tag count") }
        for i in stride(from: 0, to: f.tags.count, by: 2) {
            let k = Int(f.tags[i]), v = Int(f.tags[i + 1])
            guard k < layer.keys.count, v < layer.values.count else { throw DecodeError(description: "tag out of range") }
            f.properties[layer.keys[k]] = layer.values[v]
        }
        f.parts = try decodeGeometry(f.commands, type: f.type)
        layer.features.append(f)
    }
    return layer
}

func decodeValue(_ bytes: [UInt8]) throws -> DecodedValue {
    var r = ProtoReader(bytes)
    var value: DecodedValue?
    while !r.atEnd {
        let (n, w) = try r.field()
        switch (n, w) {
        case (1, 2): value = .string(String(decoding: try r.lengthDelimited(), as: UTF8.self))
        case (2, 5): value = .float(Float(bitPattern: try r.fixed32()))
        case (3, 1): value = .double(Double(bitPattern: try r.fixed64()))
        case (4, 0): value = .int(Int64(bitPattern: try r.varint()))
        case (5, 0): value = .uint(try r.varint())
        case (6, 0): let u = try r.varint(); value = .sint(Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1))))
        case (7, 0): value = .bool(try r.varint() != 0)
        default: try r.skip(w)
        }
    }
    guard let value else { throw DecodeError(description: "empty value") }
    return value
}

/// Runs the command stream, checking the grammar the spec demands for each type.
func decodeGeometry(_ commands: [UInt32], type: Int) throws -> [[(x: Int64, y: Int64)]] {
    var parts: [[(x: Int64, y: Int64)]] = []
    var x: Int64 = 0, y: Int64 = 0
    var i = 0
    func zz(_ v: UInt32) -> Int64 { Int64(Int32(bitPattern: (v >> 1) ^ (0 &- (v & 1)))) }
    while i < commands.count {
        let id = commands[i] & 7, count = Int(commands[i] >> 3)
        i += 1
        switch id {
        case 1:
            guard count > 0 else { throw DecodeError(description: "MoveTo with count 0") }
            if type != 1 && count != 1 { throw DecodeError(description: "MoveTo count \(count) in a line or polygon") }
            for _ in 0..<count {
                guard i + 1 < commands.count else { throw DecodeError(description: "truncated MoveTo") }
                x += zz(commands[i]); y += zz(commands[i + 1]); i += 2
                if type == 1 { parts.append([(x, y)]) } else { parts.append([(x, y)]) }
            }
        case 2:
            guard type == 2 || type == 3, !parts.isEmpty, count > 0 else { throw DecodeError(description: "misplaced LineTo") }
            for _ in 0..<count {
                guard i + 1 < commands.count else { throw DecodeError(description: "truncated LineTo") }
                let dx = zz(commands[i]), dy = zz(commands[i + 1]); i += 2
                guard dx != 0 || dy != 0 else { throw DecodeError(description: "zero-length LineTo") }
                x += dx; y += dy
                parts[parts.count - 1].append((x, y))
            }
        case 7:
            guard type == 3, count == 1, let last = parts.last, last.count >= 3 else {
                throw DecodeError(description: "misplaced ClosePath")
            }
            guard last.last! != last.first! else { throw DecodeError(description: "ring repeats its first point before ClosePath") }
        default:
            throw DecodeError(description: "unknown command \(id)")
        }
    }
    return parts
}

/// Twice the surveyor's-formula area of an open ring in tile coordinates.
func twiceArea(_ ring: [(x: Int64, y: Int64)]) -> Int64 {
    var s: Int64 = 0
    for i in ring.indices {
        let a = ring[i], b = ring[(i + 1) % ring.count]
        s += a.x * b.y - b.x * a.y
    }
    return s
}

/// Polygons of a polygon feature: a new one at every positive-area ring.
func polygons(_ f: DecodedFeature) -> [[[(x: Int64, y: Int64)]]] {
    var out: [[[(x: Int64, y: Int64)]]] = []
    for ring in f.parts {
        if twiceArea(ring) > 0 { out.append([ring]) } else if !out.isEmpty { out[out.count - 1].append(ring) }
    }
    return out
}

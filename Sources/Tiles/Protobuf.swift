/// The few pieces of the protocol buffer wire format an MVT needs, written by hand:
/// varints, zigzag, fixed 64-bit doubles and length-delimited fields.
struct ProtobufWriter {
    enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
    }

    var bytes: [UInt8] = []

    @inline(__always) mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    @inline(__always) mutating func key(_ field: UInt64, _ type: WireType) {
        varint(field << 3 | type.rawValue)
    }

    mutating func varintField(_ field: UInt64, _ value: UInt64) {
        key(field, .varint)
        varint(value)
    }

    mutating func bytesField(_ field: UInt64, _ payload: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    mutating func stringField(_ field: UInt64, _ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            key(field, .lengthDelimited)
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func doubleField(_ field: UInt64, _ d: Double) {
        key(field, .fixed64)
        let bits = d.bitPattern
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))) }
    }

    /// A packed repeated uint32 field.
    mutating func packedField(_ field: UInt64, _ values: [UInt32]) {
        var size = 0
        for v in values { size += Self.varintSize(UInt64(v)) }
        packedField(field, values, size: size)
    }

    /// A packed repeated uint32 field whose payload size the caller already knows.
    mutating func packedField(_ field: UInt64, _ values: [UInt32], size: Int) {
        key(field, .lengthDelimited)
        varint(UInt64(size))
        for v in values { varint(UInt64(v)) }
    }

    @inline(__always) static func varintSize(_ value: UInt64) -> Int {
        var n = 1
        var v = value
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }

    @inline(__always) static func zigzag(_ n: Int32) -> UInt32 {
        UInt32(bitPattern: (n << 1) ^ (n >> 31))
    }

    /// `zigzag`'s inverse, for reading back commands this writer wrote.
    @inline(__always) static func unzigzag(_ n: UInt32) -> Int32 {
        Int32(bitPattern: (n >> 1) ^ (0 &- (n & 1)))
    }

    @inline(__always) static func zigzag64(_ n: Int64) -> UInt64 {
        UInt64(bitPattern: (n << 1) ^ (n >> 63))
    }
}

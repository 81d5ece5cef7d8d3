import Foundation
import GeoCore
import NIOCore

/// Rows in the text format of PostgreSQL's `COPY … FROM STDIN`: tab between columns, a newline
/// after each row, `\N` for null, and backslash, tab, newline and carriage return escaped.
/// Text, not binary: postgres-nio's `copyFrom` speaks only this format, and PostGIS reads a
/// geometry in it as hex extended WKB.
struct CopyText {
    private(set) var buffer: ByteBuffer
    private var first = true

    init(capacity: Int) { buffer = ByteBufferAllocator().buffer(capacity: capacity) }

    private mutating func separate() {
        if !first { buffer.writeInteger(UInt8(ascii: "\t")) }
        first = false
    }

    mutating func null() {
        separate()
        buffer.writeStaticString("\\N")
    }

    mutating func integer(_ v: Int64) {
        separate()
        buffer.writeString(String(v))
    }

    /// A double as Swift prints it: the shortest text that reads back to the same value, which
    /// PostgreSQL's float8 input reads exactly (`inf` and `nan` included).
    mutating func real(_ v: Double) {
        separate()
        buffer.writeString(v.description)
    }

    mutating func text(_ s: String) {
        separate()
        var s = s
        s.withUTF8 { utf8 in
            let special = utf8.contains {
                $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r")
            }
            guard special else {
                buffer.writeBytes(utf8)
                return
            }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        }
    }

    mutating func attribute(_ value: AttributeValue) {
        switch value {
        case .null: null()
        case .integer(let i): integer(i)
        case .real(let d): real(d)
        case .text(let s): text(s)
        }
    }

    /// Bytes as hex digits (a geometry's extended WKB), written straight into the buffer: byte
    /// by byte through ByteBuffer's checks it was a tenth of a load.
    mutating func hex(_ bytes: Data) {
        separate()
        let n = bytes.count * 2
        bytes.withUnsafeBytes { src in
            _ = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: n) { dst in
                Self.hexPairs.withUnsafeBufferPointer { pairs in
                    for (i, b) in src.enumerated() { dst.storeBytes(of: pairs[Int(b)], toByteOffset: 2 * i, as: UInt16.self) }
                }
                return n
            }
        }
    }

    /// Each byte's two hex digits, as they lie in memory (little-endian: the first digit low).
    private static let hexPairs: [UInt16] = (0..<256).map { b in
        let digits = Array("0123456789ABCDEF".utf8)
        return UInt16(digits[b >> 4]) | UInt16(digits[b & 15]) << 8
    }

    mutating func endRow() {
        buffer.writeInteger(UInt8(ascii: "\n"))
        first = true
    }

    /// Hands the rows so far over, leaving the buffer empty for the next.
    mutating func take() -> ByteBuffer {
        let out = buffer
        buffer = ByteBufferAllocator().buffer(capacity: out.capacity)
        return out
    }
}

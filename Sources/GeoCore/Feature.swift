import Foundation

/// An attribute value as layers carry it. Dates and times arrive as ISO 8601 text.
public enum AttributeValue: Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    /// The value as a number: integers and reals as they are, text parsed (a number a source
    /// stored as text, as 三调 databases sometimes do), nil for null or text that is no number.
    public var doubleValue: Double? {
        switch self {
        case .null: return nil
        case .integer(let i): return Double(i)
        case .real(let d): return d
        case .text(let s): return Double(s.trimmingCharacters(in: .whitespaces))
        }
    }

    public var stringValue: String? {
        switch self {
        case .null: return nil
        case .integer(let i): return String(i)
        case .real(let d): return d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .text(let s): return s
        }
    }
}

/// The storage type of an attribute column.
public enum AttributeType: String, Codable, Sendable {
    case integer, real, text
}

public struct FieldDefinition: Hashable, Codable, Sendable {
    public var name: String
    public var type: AttributeType
    public init(name: String, type: AttributeType) { self.name = name; self.type = type }
}

extension AttributeValue: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let i = try? c.decode(Int64.self) {
            self = .integer(i)
        } else if let d = try? c.decode(Double.self) {
            self = .real(d)
        } else if let b = try? c.decode(Bool.self) {
            self = .integer(b ? 1 : 0)
        } else {
            self = .text(try c.decode(String.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .integer(let i): try c.encode(i)
        case .real(let d): try c.encode(d)
        case .text(let s): try c.encode(s)
        }
    }

    /// The value as Foundation JSON (for JSONSerialization).
    public var jsonObject: Any {
        switch self {
        case .null: return NSNull()
        case .integer(let i): return i
        case .real(let d): return d
        case .text(let s): return s
        }
    }
}

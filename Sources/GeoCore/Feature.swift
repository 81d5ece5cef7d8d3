/// An attribute value as layers carry it. Dates and times arrive as ISO 8601 text.
public enum AttributeValue: Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

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

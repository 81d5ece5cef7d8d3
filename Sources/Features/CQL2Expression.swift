import GeoCore

/// A CQL2 filter (OGC 21-065, the text encoding), as parsed: what `filter=` asks for,
/// before any property is looked up. `FilterSQL` turns it into SQL with bound values.
public indirect enum CQL2Expression: Equatable, Sendable {
    case and([CQL2Expression])
    case or([CQL2Expression])
    case not(CQL2Expression)
    case literal(Bool)
    case compare(CQL2Comparison, CQL2Scalar, CQL2Scalar)
    case like(CQL2Scalar, pattern: String, negated: Bool)
    case between(CQL2Scalar, CQL2Scalar, CQL2Scalar, negated: Bool)
    case inList(CQL2Scalar, [CQL2Scalar], negated: Bool)
    case isNull(CQL2Scalar, negated: Bool)
    case spatial(CQL2Spatial, CQL2GeometryOperand, CQL2GeometryOperand)
}

public enum CQL2Comparison: String, Sendable {
    case equal = "=", notEqual = "<>", less = "<", greater = ">", lessOrEqual = "<=", greaterOrEqual = ">="
}

public enum CQL2Scalar: Equatable, Sendable {
    case property(String)
    case string(String)
    case number(Double)
    case boolean(Bool)
    /// `DATE('2024-01-31')` and `TIMESTAMP('2024-01-31T08:00:00Z')`: compared as ISO 8601 text,
    /// which is how layers store dates.
    case date(String)
    case timestamp(String)
}

/// The spatial functions of CQL2. Those whose exact test OneMap cannot make with the GEOS
/// predicates it has (touches, overlaps, crosses) are parsed, then refused by `FilterSQL`.
public enum CQL2Spatial: String, CaseIterable, Sendable {
    case intersects = "S_INTERSECTS", disjoint = "S_DISJOINT", within = "S_WITHIN", contains = "S_CONTAINS"
    case equals = "S_EQUALS", touches = "S_TOUCHES", overlaps = "S_OVERLAPS", crosses = "S_CROSSES"
}

public enum CQL2GeometryOperand: Equatable, Sendable {
    case property(String)
    /// A WKT or BBOX literal, in the axis order of the filter's CRS, as written.
    case literal(Geometry, isBox: Bool)
}

/// A malformed filter: what was expected and at which character (1-based), so a person can fix it.
public struct CQL2SyntaxError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let position: Int
    public var description: String { "malformed CQL2 at character \(position): \(message)" }
}

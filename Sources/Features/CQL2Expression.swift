import GeoCore

/// A CQL2 filter (OGC 21-065, text or JSON encoding), as parsed: what `filter=` asks for,
/// before any property is looked up. `FilterSQL` turns it into SQL with bound values.
public indirect enum CQL2Expression: Equatable, Sendable {
    case and([CQL2Expression])
    case or([CQL2Expression])
    case not(CQL2Expression)
    case literal(Bool)
    case compare(CQL2Comparison, CQL2Scalar, CQL2Scalar)
    /// The pattern is a string literal, possibly inside CASEI or ACCENTI (nothing else is a pattern in CQL2).
    case like(CQL2Scalar, pattern: CQL2Scalar, negated: Bool)
    case between(CQL2Scalar, CQL2Scalar, CQL2Scalar, negated: Bool)
    case inList(CQL2Scalar, [CQL2Scalar], negated: Bool)
    case isNull(CQL2Scalar, negated: Bool)
    case spatial(CQL2Spatial, CQL2GeometryOperand, CQL2GeometryOperand)
}

public enum CQL2Comparison: String, Sendable {
    case equal = "=", notEqual = "<>", less = "<", greater = ">", lessOrEqual = "<=", greaterOrEqual = ">="
}

public indirect enum CQL2Scalar: Equatable, Sendable {
    case property(String)
    case string(String)
    case number(Double)
    case boolean(Bool)
    /// `DATE('2024-01-31')` and `TIMESTAMP('2024-01-31T08:00:00Z')`: compared as ISO 8601 text,
    /// which is how layers store dates.
    case date(String)
    case timestamp(String)
    case arithmetic(CQL2Arithmetic, CQL2Scalar, CQL2Scalar)
    /// CASEI(…) and ACCENTI(…): the text with its case, or its accents, folded away.
    case casei(CQL2Scalar)
    case accenti(CQL2Scalar)
}

/// The arithmetic operators of CQL2: `/` divides exactly, `div` keeps the whole part, `%` is
/// the remainder with the sign of the dividend. Dividing by zero gives no value (NULL).
public enum CQL2Arithmetic: String, CaseIterable, Sendable {
    case plus = "+", minus = "-", times = "*", divide = "/", remainder = "%", wholeDivide = "div", power = "^"
}

/// The spatial functions of CQL2, each the DE-9IM relation of the same name (OGC 06-103r4).
public enum CQL2Spatial: String, CaseIterable, Sendable {
    case intersects = "S_INTERSECTS", disjoint = "S_DISJOINT", within = "S_WITHIN", contains = "S_CONTAINS"
    case equals = "S_EQUALS", touches = "S_TOUCHES", overlaps = "S_OVERLAPS", crosses = "S_CROSSES"
}

public enum CQL2GeometryOperand: Equatable, Sendable {
    case property(String)
    /// A WKT or BBOX literal, in the axis order of the filter's CRS, as written.
    case literal(Geometry, isBox: Bool)
}

/// A parsed filter and where its parts were written, so that an error found later (an unknown
/// property, a type that does not fit) still names the character where it went wrong.
public struct CQL2Filter: Sendable {
    public var expression: CQL2Expression
    /// The 1-based character of each predicate (comparison, LIKE, S_…), in the order written.
    public var predicatePositions: [Int]
    /// Where each property name is first written.
    public var propertyPositions: [String: Int]

    public init(_ expression: CQL2Expression, predicatePositions: [Int] = [], propertyPositions: [String: Int] = [:]) {
        self.expression = expression
        self.predicatePositions = predicatePositions
        self.propertyPositions = propertyPositions
    }
}

/// A malformed filter: what was expected and at which character (1-based), so a person can fix it.
public struct CQL2SyntaxError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let position: Int
    public var description: String { "malformed CQL2 at character \(position): \(message)" }
}

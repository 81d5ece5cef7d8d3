import Foundation
import GRDB
import GeoCore
import LayerStore

/// A piece of a WHERE clause. Every value is a bound argument; the only names in `sql` are
/// column names checked against the layer's fields and then quoted.
struct SQLFragment {
    var sql: String
    var arguments: [DatabaseValue]
}

/// Turns a parsed CQL2 filter into SQL for one collection.
///
/// Property names must be queryables of the collection; a literal must have the type of the
/// property it is compared with (quoting `'0101'` for a text code is the usual fix); spatial
/// functions become exact tests through `om_spatial`, and those at the top level of the
/// filter also narrow the candidates through the R*Tree.
struct FilterSQL {
    let layer: FeatureLayer
    /// The CRS of geometry literals (`filter-crs`).
    let crs: FeatureCRS
    /// Spatial tests already taken by the query (the bbox), so indexes continue after them.
    var tests: [SpatialTest]
    /// Boxes every result must intersect (storage lon/lat), for the R*Tree.
    var prefilter: [BoundingBox] = []

    init(layer: FeatureLayer, crs: FeatureCRS, tests: [SpatialTest]) {
        self.layer = layer
        self.crs = crs
        self.tests = tests
    }

    static func bad(_ message: String) -> FeatureError { FeatureError.invalidParameter("filter", message) }

    mutating func translate(_ e: CQL2Expression, topLevel: Bool = true) throws -> SQLFragment {
        switch e {
        case .and(let terms):
            let parts = try terms.map { try translate($0, topLevel: topLevel) }
            return SQLFragment(sql: "(" + parts.map(\.sql).joined(separator: " AND ") + ")", arguments: parts.flatMap(\.arguments))
        case .or(let terms):
            let parts = try terms.map { try translate($0, topLevel: false) }
            return SQLFragment(sql: "(" + parts.map(\.sql).joined(separator: " OR ") + ")", arguments: parts.flatMap(\.arguments))
        case .not(let inner):
            let part = try translate(inner, topLevel: false)
            return SQLFragment(sql: "(NOT " + part.sql + ")", arguments: part.arguments)
        case .literal(let b):
            return SQLFragment(sql: b ? "1" : "0", arguments: [])
        case .compare(let op, let a, let b):
            try checkTypes(a, b)
            let (l, r) = (try operand(a), try operand(b))
            return SQLFragment(sql: "(\(l.sql) \(op.rawValue) \(r.sql))", arguments: l.arguments + r.arguments)
        case .like(let a, let pattern, let negated):
            let l = try operand(a)
            if case .property(let name) = a, layer.fieldsByName[name]?.type != .text {
                throw Self.bad("LIKE needs a text property; '\(name)' is a number")
            }
            // CQL2's LIKE is case-sensitive and SQLite's is not: GLOB is, so translate the pattern.
            return SQLFragment(
                sql: "(\(l.sql) \(negated ? "NOT GLOB" : "GLOB") ?)", arguments: l.arguments + [Self.glob(pattern).databaseValue])
        case .between(let a, let low, let high, let negated):
            try checkTypes(a, low)
            try checkTypes(a, high)
            let (x, l, h) = (try operand(a), try operand(low), try operand(high))
            return SQLFragment(
                sql: "(\(x.sql) \(negated ? "NOT BETWEEN" : "BETWEEN") \(l.sql) AND \(h.sql))",
                arguments: x.arguments + l.arguments + h.arguments)
        case .inList(let a, let items, let negated):
            for item in items { try checkTypes(a, item) }
            let x = try operand(a)
            let list = try items.map { try operand($0) }
            return SQLFragment(
                sql: "(\(x.sql) \(negated ? "NOT IN" : "IN") (" + list.map(\.sql).joined(separator: ", ") + "))",
                arguments: x.arguments + list.flatMap(\.arguments))
        case .isNull(let a, let negated):
            if case .property(let name) = a, name == FeatureLayer.geometryProperty {
                let geometry = layer.table.columns([.geometry])
                return SQLFragment(sql: negated ? "(\(geometry) IS NOT NULL)" : "(\(geometry) IS NULL)", arguments: [])
            }
            let x = try operand(a)
            return SQLFragment(sql: "(\(x.sql) \(negated ? "IS NOT NULL" : "IS NULL"))", arguments: x.arguments)
        case .spatial(let op, let a, let b):
            return try spatial(op, a, b, topLevel: topLevel)
        }
    }

    func property(_ name: String) throws -> FieldDefinition {
        if name == FeatureLayer.geometryProperty { throw Self.bad("'\(name)' can only be used in spatial functions and IS NULL") }
        guard let f = layer.fieldsByName[name] else {
            throw Self.bad(
                "unknown property '\(name)'; the queryables of '\(layer.id)' are \((layer.fields.map(\.name) + [FeatureLayer.geometryProperty]).joined(separator: ", "))"
            )
        }
        return f
    }

    func operand(_ s: CQL2Scalar) throws -> SQLFragment {
        switch s {
        case .property(let name):
            _ = try property(name)
            return SQLFragment(sql: FeatureTable.quote(name), arguments: [])
        case .string(let v), .date(let v), .timestamp(let v): return SQLFragment(sql: "?", arguments: [v.databaseValue])
        case .number(let n): return SQLFragment(sql: "?", arguments: [Self.bind(n)])
        case .boolean(let b): return SQLFragment(sql: "?", arguments: [(b ? 1 : 0).databaseValue])
        }
    }

    static func bind(_ n: Double) -> DatabaseValue {
        if n == n.rounded(), abs(n) < 9e15 { return Int64(n).databaseValue }
        return n.databaseValue
    }

    enum Kind: String { case text, number, boolean }

    func kind(_ s: CQL2Scalar) throws -> Kind? {
        switch s {
        case .property(let name):
            switch try property(name).type {
            case .text: return .text
            case .integer, .real: return .number
            }
        case .string, .date, .timestamp: return .text
        case .number: return .number
        case .boolean: return .boolean
        }
    }

    /// A property compared with a literal of another type would silently match nothing.
    func checkTypes(_ a: CQL2Scalar, _ b: CQL2Scalar) throws {
        guard let ka = try kind(a), let kb = try kind(b), ka != kb else { return }
        let name: String? = {
            if case .property(let n) = a { return n }; if case .property(let n) = b { return n }; return nil
        }()
        let hint =
            (ka == .text || kb == .text) && (ka == .number || kb == .number) && name.map { layer.fieldsByName[$0]?.type == .text } == true
            ? " (quote the value, e.g. '0101', to compare it as text)" : ""
        throw Self.bad("cannot compare \(describe(a)) (\(ka.rawValue)) with \(describe(b)) (\(kb.rawValue))\(hint)")
    }

    func describe(_ s: CQL2Scalar) -> String {
        switch s {
        case .property(let n): return "property '\(n)'"
        case .string(let v): return "'\(v)'"
        case .number(let n): return FilterSQL.bind(n).description
        case .boolean(let b): return b ? "TRUE" : "FALSE"
        case .date(let d): return "DATE('\(d)')"
        case .timestamp(let t): return "TIMESTAMP('\(t)')"
        }
    }

    /// CQL2 LIKE (% any, _ one, \ escapes) as a SQLite GLOB pattern, where every other
    /// GLOB special character is bracketed to stand for itself.
    static func glob(_ pattern: String) -> String {
        var out = ""
        var escaped = false
        for c in pattern {
            if escaped {
                out += (c == "*" || c == "?" || c == "[") ? "[\(c)]" : String(c)
                escaped = false
                continue
            }
            switch c {
            case "\\": escaped = true
            case "%": out += "*"
            case "_": out += "?"
            case "*", "?", "[": out += "[\(c)]"
            default: out.append(c)
            }
        }
        if escaped { out += "\\" }
        return out
    }

    mutating func spatial(_ op: CQL2Spatial, _ a: CQL2GeometryOperand, _ b: CQL2GeometryOperand, topLevel: Bool) throws -> SQLFragment {
        func isGeometryProperty(_ o: CQL2GeometryOperand) throws -> Bool {
            guard case .property(let name) = o else { return false }
            guard name == FeatureLayer.geometryProperty else {
                throw Self.bad(
                    "\(op.rawValue): '\(name)' is not a geometry; the spatial queryable of '\(layer.id)' is '\(FeatureLayer.geometryProperty)'"
                )
            }
            return true
        }
        let aIsProperty = try isGeometryProperty(a), bIsProperty = try isGeometryProperty(b)
        guard aIsProperty != bIsProperty else {
            throw Self.bad("\(op.rawValue) needs the property '\(FeatureLayer.geometryProperty)' and one geometry literal")
        }
        guard case .literal(let written, let isBox) = aIsProperty ? b : a else { fatalError("checked above") }
        let relation: SpatialTest.Relation
        switch op {
        case .intersects: relation = .intersects
        case .disjoint: relation = .disjoint
        case .equals: relation = .equals
        // S_WITHIN(literal, geometry) is the feature containing the literal, and so on.
        case .within: relation = aIsProperty ? .within : .contains
        case .contains: relation = aIsProperty ? .contains : .within
        case .touches, .overlaps, .crosses:
            throw Self.bad("\(op.rawValue) is not supported; use S_INTERSECTS, S_DISJOINT, S_WITHIN, S_CONTAINS or S_EQUALS")
        }
        let literal: Geometry
        do {
            if isBox, let box = written.boundingBox {
                literal = try CRSTransforms.shared.boxToStorage(box, from: crs)
            } else {
                literal = try CRSTransforms.shared.toStorage(written, from: crs)
            }
        } catch let e as FeatureError {
            throw e
        } catch {
            throw Self.bad("the geometry cannot be transformed from \(crs.uri): \(error)")
        }
        if !literal.polygons.isEmpty {
            let engine = GeometryEngine()
            let reason: String?
            do { reason = try engine.invalidityReason(try engine.make(literal)) } catch { reason = "\(error)" }
            if let reason { throw Self.bad("\(op.rawValue): the polygon is not valid: \(reason)") }
        }
        let test = try SpatialTest(relation, literal: literal, isRectangle: isBox && crs.isGeographic)
        if topLevel && relation != .disjoint { prefilter.append(test.box) }
        tests.append(test)
        return SQLFragment(sql: "(\(SpatialFunction.name)(\(layer.table.columns([.geometry])), \(tests.count - 1)) = 1)", arguments: [])
    }
}

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
/// filter that imply an intersection also narrow the candidates through the R*Tree. Each
/// error names the character of the filter where the predicate or property was written.
struct FilterSQL {
    let layer: FeatureLayer
    /// The CRS of geometry literals (`filter-crs`).
    let crs: FeatureCRS
    /// Spatial tests already taken by the query (the bbox), so indexes continue after them.
    var tests: [SpatialTest]
    /// Boxes every result must intersect (storage lon/lat), for the R*Tree.
    var prefilter: [BoundingBox] = []

    /// Where the parts of the filter were written, and which predicate is being translated.
    let written: CQL2Filter
    var predicateIndex = 0
    var position: Int?

    init(layer: FeatureLayer, crs: FeatureCRS, tests: [SpatialTest], written: CQL2Filter? = nil) {
        self.layer = layer
        self.crs = crs
        self.tests = tests
        self.written = written ?? CQL2Filter(.literal(true))
    }

    static func bad(_ message: String) -> FeatureError { FeatureError.invalidParameter("filter", message) }

    /// An error in the predicate being translated, at the character where it was written; an
    /// unknown property, where it is first written (it is wrong everywhere).
    func bad(_ message: String, property: String? = nil) -> FeatureError {
        guard let at = property.flatMap({ written.propertyPositions[$0] }) ?? position else { return Self.bad(message) }
        return Self.bad("at character \(at): \(message)")
    }

    /// Moves to the next predicate, in the order the parser met them.
    mutating func enterPredicate() {
        position = predicateIndex < written.predicatePositions.count ? written.predicatePositions[predicateIndex] : nil
        predicateIndex += 1
    }

    mutating func translate(_ e: CQL2Expression, topLevel: Bool = true) throws -> SQLFragment {
        switch e {
        case .literal, .compare, .like, .between, .inList, .isNull, .spatial: enterPredicate()
        case .and, .or, .not: break
        }
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
            guard try kind(a) == .text else { throw bad("LIKE needs text; \(describe(a)) is not text") }
            let l = try operand(a)
            // CQL2's LIKE is case-sensitive and SQLite's is not: GLOB is, so translate the pattern.
            // CASEI and ACCENTI around the pattern fold it here, as SQL folds the other side.
            return SQLFragment(
                sql: "(\(l.sql) \(negated ? "NOT GLOB" : "GLOB") ?)",
                arguments: l.arguments + [Self.glob(Self.folded(pattern)).databaseValue])
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
        if name == FeatureLayer.geometryProperty {
            throw bad("'\(name)' can only be used in spatial functions and IS NULL")
        }
        guard let f = layer.fieldsByName[name] else {
            throw bad(
                "unknown property '\(name)'; the queryables of '\(layer.id)' are \((layer.fields.map(\.name) + [FeatureLayer.geometryProperty]).joined(separator: ", "))",
                property: name)
        }
        return f
    }

    /// A LIKE pattern's text, folded as the CASEI and ACCENTI around it say.
    static func folded(_ pattern: CQL2Scalar) -> String {
        switch pattern {
        case .casei(let inner): return FilterFunctions.foldCase(folded(inner))
        case .accenti(let inner): return FilterFunctions.foldAccents(folded(inner))
        case .string(let s): return s
        default: return ""  // the parsers accept nothing else as a pattern
        }
    }

    func operand(_ s: CQL2Scalar) throws -> SQLFragment {
        switch s {
        case .property(let name):
            _ = try property(name)
            return SQLFragment(sql: FeatureTable.quote(name), arguments: [])
        case .string(let v), .date(let v), .timestamp(let v): return SQLFragment(sql: "?", arguments: [v.databaseValue])
        case .number(let n): return SQLFragment(sql: "?", arguments: [Self.bind(n)])
        case .boolean(let b): return SQLFragment(sql: "?", arguments: [(b ? 1 : 0).databaseValue])
        case .casei(let inner), .accenti(let inner):
            _ = try kind(s)  // checks that the inner value is text
            let isCase: Bool = { if case .casei = s { return true } else { return false } }()
            let x = try operand(inner)
            return SQLFragment(sql: "\(isCase ? FilterFunctions.casei : FilterFunctions.accenti)(\(x.sql))", arguments: x.arguments)
        case .arithmetic(let op, let a, let b):
            _ = try kind(s)  // checks that both sides are numbers
            let (l, r) = (try operand(a), try operand(b))
            let sql: String
            switch op {
            case .plus, .minus, .times: sql = "(\(l.sql) \(op.rawValue) \(r.sql))"
            // SQLite divides integers as integers; CQL2's / is exact. x/0 is NULL in SQLite.
            case .divide: sql = "(CAST(\(l.sql) AS REAL) / \(r.sql))"
            case .remainder: sql = "\(FilterFunctions.remainder)(\(l.sql), \(r.sql))"
            case .wholeDivide: sql = "\(FilterFunctions.wholeDivide)(\(l.sql), \(r.sql))"
            case .power: sql = "\(FilterFunctions.power)(\(l.sql), \(r.sql))"
            }
            return SQLFragment(sql: sql, arguments: l.arguments + r.arguments)
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
        case .arithmetic(let op, let a, let b):
            for side in [a, b] where try kind(side) != .number {
                throw bad("'\(op.rawValue)' needs numbers; \(describe(side)) is not a number")
            }
            return .number
        case .casei(let inner), .accenti(let inner):
            guard try kind(inner) == .text else {
                let name = { if case .casei = s { return "CASEI" } else { return "ACCENTI" } }()
                throw bad("\(name) needs text; \(describe(inner)) is not text")
            }
            return .text
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
        throw bad("cannot compare \(describe(a)) (\(ka.rawValue)) with \(describe(b)) (\(kb.rawValue))\(hint)")
    }

    func describe(_ s: CQL2Scalar) -> String {
        switch s {
        case .property(let n): return "property '\(n)'"
        case .string(let v): return "'\(v)'"
        case .number(let n): return FilterSQL.bind(n).description
        case .boolean(let b): return b ? "TRUE" : "FALSE"
        case .date(let d): return "DATE('\(d)')"
        case .timestamp(let t): return "TIMESTAMP('\(t)')"
        case .casei(let inner): return "CASEI(\(describe(inner)))"
        case .accenti(let inner): return "ACCENTI(\(describe(inner)))"
        case .arithmetic(let op, let a, let b): return "(\(describe(a)) \(op.rawValue) \(describe(b)))"
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
                throw bad(
                    "\(op.rawValue): '\(name)' is not a geometry; the spatial queryable of '\(layer.id)' is '\(FeatureLayer.geometryProperty)'"
                )
            }
            return true
        }
        let aIsProperty = try isGeometryProperty(a), bIsProperty = try isGeometryProperty(b)
        let geometry = layer.table.columns([.geometry])
        if aIsProperty && bIsProperty {
            // A geometry against itself: equal, within, containing and meeting itself; never
            // apart, touching, overlapping or crossing itself (no part of it is outside it).
            switch op {
            case .intersects, .within, .contains, .equals: return SQLFragment(sql: "(\(geometry) IS NOT NULL)", arguments: [])
            case .disjoint, .touches, .overlaps, .crosses: return SQLFragment(sql: "0", arguments: [])
            }
        }
        // S_WITHIN(literal, geometry) is the feature containing the literal, and so on; the
        // other relations are symmetric.
        let relation: SpatialTest.Relation
        switch op {
        case .intersects: relation = .intersects
        case .disjoint: relation = .disjoint
        case .equals: relation = .equals
        case .within: relation = bIsProperty ? .contains : .within
        case .contains: relation = bIsProperty ? .within : .contains
        case .touches: relation = .touches
        case .overlaps: relation = .overlaps
        case .crosses: relation = .crosses
        }
        if !aIsProperty && !bIsProperty {
            // Two literals: the answer is the same for every feature, so it is found here.
            let test = try SpatialTest(relation, literal: try storage(b, op), isRectangle: false)
            let first = try storage(a, op)
            guard let box = first.boundingBox else { throw bad("\(op.rawValue): empty geometry") }
            let blob = SpatiaLiteGeometry.encode(first, srid: LayerImporter.storageSRID, box: box)
            let holds: Bool
            do { holds = try test.evaluate(blob, try SpatialTest.Prepared(test, engine: GeometryEngine())) } catch {
                throw bad("\(op.rawValue) cannot compare these geometries: \(error)")
            }
            return SQLFragment(sql: holds ? "1" : "0", arguments: [])
        }
        let literalOperand = aIsProperty ? b : a
        let test = try SpatialTest(relation, literal: try storage(literalOperand, op), isRectangle: literalOperand.isRectangle(in: crs))
        if topLevel && relation != .disjoint { prefilter.append(test.box) }
        tests.append(test)
        return SQLFragment(sql: "(\(SpatialFunction.name)(\(geometry), \(tests.count - 1)) = 1)", arguments: [])
    }

    /// A geometry literal in storage lon/lat, checked valid (GEOS answers nonsense for an
    /// invalid polygon rather than failing).
    func storage(_ operand: CQL2GeometryOperand, _ op: CQL2Spatial) throws -> Geometry {
        guard case .literal(let written, let isBox) = operand else { throw bad("\(op.rawValue): expected a geometry literal") }
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
            throw bad("the geometry cannot be transformed from \(crs.uri): \(error)")
        }
        if !literal.polygons.isEmpty {
            let engine = GeometryEngine()
            let reason: String?
            do { reason = try engine.invalidityReason(try engine.make(literal)) } catch { reason = "\(error)" }
            if let reason { throw bad("\(op.rawValue): the polygon is not valid: \(reason)") }
        }
        return literal
    }
}

extension CQL2GeometryOperand {
    /// A BBOX in a lon/lat CRS: a rectangle in storage too, so a feature inside its box is inside it.
    func isRectangle(in crs: FeatureCRS) -> Bool {
        if case .literal(_, true) = self { return crs.isGeographic }
        return false
    }
}

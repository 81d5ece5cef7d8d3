import GeoCore

/// The JSON encoding of CQL2 (`filter-lang=cql2-json`): `{"op": …, "args": […]}` for every
/// operator and function, `{"property": …}`, `{"date": …}`, `{"timestamp": …}`, GeoJSON
/// geometries and `{"bbox": […]}`. It reads to the same `CQL2Expression` as the text encoding,
/// under the same bounds; errors give the character where the offending value starts.
public struct CQL2JSONParser {
    public static func parse(_ text: String) throws -> CQL2Expression { try parseFilter(text).expression }

    public static func parseFilter(_ text: String) throws -> CQL2Filter {
        guard text.utf8.count <= CQL2Parser.maxLength else {
            throw CQL2SyntaxError(message: "the filter is longer than \(CQL2Parser.maxLength) bytes", position: 1)
        }
        // Geometry coordinates add up to four levels of arrays under each operator.
        let json = try LocatedJSON.parse(text, maxDepth: 2 * CQL2Parser.maxDepth + 8)
        var parser = CQL2JSONParser()
        let expression = try parser.condition(json)
        return CQL2Filter(expression, predicatePositions: parser.predicatePositions, propertyPositions: parser.propertyPositions)
    }

    static let geometryTypes = ["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"]

    var predicates = 0
    var values = 0
    var vertices = 0
    var predicatePositions: [Int] = []
    var propertyPositions: [String: Int] = [:]

    static let comparisons: [String: CQL2Comparison] = [
        "=": .equal, "<>": .notEqual, "<": .less, ">": .greater, "<=": .lessOrEqual, ">=": .greaterOrEqual
    ]
    static let spatial: [String: CQL2Spatial] = Dictionary(
        uniqueKeysWithValues: CQL2Spatial.allCases.map { ($0.rawValue.lowercased(), $0) })
    static let arithmetic: [String: CQL2Arithmetic] = Dictionary(uniqueKeysWithValues: CQL2Arithmetic.allCases.map { ($0.rawValue, $0) })

    func error(_ message: String, at node: LocatedJSON) -> CQL2SyntaxError {
        CQL2SyntaxError(message: message, position: node.position)
    }

    /// `{"op": name, "args": [...]}`: the operator's name (lower-cased) and its arguments.
    func operation(_ node: LocatedJSON) throws -> (op: String, args: [LocatedJSON], opNode: LocatedJSON)? {
        guard let opNode = node.member("op") else { return nil }
        guard case .string(let op) = opNode.value else { throw error("\"op\" must be a string, found \(opNode.kind)", at: opNode) }
        guard let argsNode = node.member("args") else { throw error("the operation \"\(op)\" has no \"args\" array", at: node) }
        guard case .array(let args) = argsNode.value else {
            throw error("\"args\" of \"\(op)\" must be an array, found \(argsNode.kind)", at: argsNode)
        }
        return (op.lowercased(), args, opNode)
    }

    func count(_ args: [LocatedJSON], _ n: Int, _ op: String, _ node: LocatedJSON) throws {
        guard args.count == n else {
            throw error("\"\(op)\" takes \(n) argument\(n == 1 ? "" : "s"), found \(args.count)", at: node)
        }
    }

    // MARK: Conditions

    mutating func condition(_ node: LocatedJSON, depth: Int = 0) throws -> CQL2Expression {
        guard depth <= CQL2Parser.maxDepth else { throw error("the filter nests deeper than \(CQL2Parser.maxDepth) levels", at: node) }
        if case .bool(let b) = node.value {
            try notePredicate(node)
            return .literal(b)
        }
        guard let (op, args, opNode) = try operation(node) else {
            throw error("expected a condition ({\"op\": …, \"args\": […]} or true/false), found \(node.kind)", at: node)
        }
        let e: CQL2Expression
        switch op {
        case "and", "or":
            guard args.count >= 2 else { throw error("\"\(op)\" needs at least 2 arguments, found \(args.count)", at: node) }
            let terms = try args.map { try condition($0, depth: depth + 1) }
            e = op == "and" ? .and(terms) : .or(terms)
        case "not":
            try count(args, 1, op, node)
            e = .not(try condition(args[0], depth: depth + 1))
        default:
            try notePredicate(node)
            e = try predicate(op, args, node: node, opNode: opNode)
        }
        guard CQL2Parser.nesting(e) <= CQL2Parser.maxNesting else {
            throw error(
                "not, and and or nest more than \(CQL2Parser.maxNesting) deep here; simplify the filter (not of not cancels out)", at: node)
        }
        return e
    }

    mutating func notePredicate(_ node: LocatedJSON) throws {
        predicates += 1
        guard predicates <= CQL2Parser.maxPredicates else {
            throw error(
                "the filter has more than \(CQL2Parser.maxPredicates) conditions; combine values with in or ask in several requests",
                at: node)
        }
        predicatePositions.append(node.position)
    }

    mutating func predicate(_ op: String, _ args: [LocatedJSON], node: LocatedJSON, opNode: LocatedJSON) throws -> CQL2Expression {
        if let c = Self.comparisons[op] {
            try count(args, 2, op, node)
            return .compare(c, try scalar(args[0]), try scalar(args[1]))
        }
        if let s = Self.spatial[op] {
            try count(args, 2, op, node)
            return .spatial(s, try geometry(args[0]), try geometry(args[1]))
        }
        switch op {
        case "like":
            try count(args, 2, op, node)
            let pattern = try scalar(args[1])
            guard CQL2Parser.isPattern(pattern) else {
                throw error("the pattern of \"like\" must be a string, or one inside casei or accenti", at: args[1])
            }
            return .like(try scalar(args[0]), pattern: pattern, negated: false)
        case "between":
            try count(args, 3, op, node)
            return .between(try scalar(args[0]), try scalar(args[1]), try scalar(args[2]), negated: false)
        case "in":
            try count(args, 2, op, node)
            guard case .array(let items) = args[1].value, !items.isEmpty else {
                throw error("the second argument of \"in\" must be a non-empty array of values", at: args[1])
            }
            return .inList(try scalar(args[0]), try items.map { try scalar($0) }, negated: false)
        case "isnull":
            try count(args, 1, op, node)
            return .isNull(try scalar(args[0]), negated: false)
        case "casei", "accenti", "+", "-", "*", "/", "%", "div", "^":
            throw error("\"\(op)\" gives a value, not a condition; compare it with something", at: opNode)
        default:
            if op.hasPrefix("t_") || op.hasPrefix("a_") {
                throw error("\"\(op)\": temporal and array functions are not supported by this server", at: opNode)
            }
            throw error(
                "unknown operator \"\(op)\"; the conditions are and, or, not, =, <>, <, >, <=, >=, like, between, in, isNull and the s_ spatial functions",
                at: opNode)
        }
    }

    // MARK: Values

    mutating func scalar(_ node: LocatedJSON, depth: Int = 0) throws -> CQL2Scalar {
        guard depth <= CQL2Parser.maxDepth else { throw error("the filter nests deeper than \(CQL2Parser.maxDepth) levels", at: node) }
        values += 1
        guard values <= CQL2Parser.maxValues else {
            throw error("the filter has more than \(CQL2Parser.maxValues) values and properties; ask in several requests", at: node)
        }
        switch node.value {
        case .string(let s): return .string(s)
        case .number(let n): return .number(n)
        case .bool(let b): return .boolean(b)
        case .null: throw error("null is not a value here; test for it with {\"op\": \"isNull\", …}", at: node)
        case .array: throw error("expected a value, found an array (only \"in\" takes a list)", at: node)
        case .object:
            if let name = node.member("property") { return .property(try propertyName(name)) }
            if let d = node.member("date") {
                guard case .string(let s) = d.value, CQL2Parser.isDate(s) else {
                    throw error("\"date\" must be a string YYYY-MM-DD", at: d)
                }
                return .date(s)
            }
            if let t = node.member("timestamp") {
                guard case .string(let s) = t.value, CQL2Parser.isTimestamp(s) else {
                    throw error("\"timestamp\" must be a string YYYY-MM-DDThh:mm:ss[.f]Z", at: t)
                }
                return .timestamp(s)
            }
            if node.member("interval") != nil { throw error("intervals are not supported (no layer of this server has time)", at: node) }
            guard let (op, args, opNode) = try operation(node) else {
                throw error(
                    "expected a value: a string, a number, a boolean, {\"property\": …}, {\"date\": …}, {\"timestamp\": …} or {\"op\": …}",
                    at: node)
            }
            if op == "casei" || op == "accenti" {
                try count(args, 1, op, node)
                let inner = try scalar(args[0], depth: depth + 1)
                return op == "casei" ? .casei(inner) : .accenti(inner)
            }
            if let a = Self.arithmetic[op] {
                try count(args, 2, op, node)
                return .arithmetic(a, try scalar(args[0], depth: depth + 1), try scalar(args[1], depth: depth + 1))
            }
            if Self.comparisons[op] != nil || Self.spatial[op] != nil
                || ["and", "or", "not", "like", "between", "in", "isnull"].contains(op)
            {
                throw error("\"\(op)\" is a condition, not a value", at: opNode)
            }
            throw error(
                "unknown function \"\(op)\"; the value functions are casei, accenti and + - * / % div ^", at: opNode)
        }
    }

    mutating func propertyName(_ node: LocatedJSON) throws -> String {
        guard case .string(let name) = node.value, !name.isEmpty else {
            throw error("\"property\" must be a non-empty string", at: node)
        }
        if propertyPositions[name] == nil { propertyPositions[name] = node.position }
        return name
    }

    mutating func geometry(_ node: LocatedJSON) throws -> CQL2GeometryOperand {
        if let name = node.member("property") { return .property(try propertyName(name)) }
        if let b = node.member("bbox") {
            guard case .array(let items) = b.value else { throw error("\"bbox\" must be an array of 4 (or 6) numbers", at: b) }
            let numbers = items.compactMap { item -> Double? in if case .number(let n) = item.value { return n } else { return nil } }
            guard numbers.count == items.count, numbers.count == 4 || numbers.count == 6 else {
                throw error("\"bbox\" must be an array of 4 (or 6) numbers", at: b)
            }
            let (x0, y0, x1, y1) =
                numbers.count == 4 ? (numbers[0], numbers[1], numbers[2], numbers[3]) : (numbers[0], numbers[1], numbers[3], numbers[4])
            guard x0 <= x1, y0 <= y1 else { throw error("bbox corners must be lower-left then upper-right", at: b) }
            let ring = [Coordinate(x0, y0), Coordinate(x1, y0), Coordinate(x1, y1), Coordinate(x0, y1), Coordinate(x0, y0)]
            return .literal(.polygon(Polygon([ring])), isBox: true)
        }
        guard let type = node.member("type") else {
            throw error("expected a geometry: GeoJSON, {\"bbox\": […]} or {\"property\": …}, found \(node.kind)", at: node)
        }
        guard case .string(let name) = type.value, Self.geometryTypes.contains(name) else {
            throw error("\"type\" must be a GeoJSON geometry type: \(Self.geometryTypes.joined(separator: ", "))", at: type)
        }
        let g: Geometry
        do {
            let left = CQL2Parser.maxVertices - vertices
            guard let item = try GeoJSON.read(json: node.foundation, limits: .init(maxVertices: left)).items.first else {
                throw error("the geometry has no parts", at: node)
            }
            g = item.geometry
        } catch let e as CQL2SyntaxError {
            throw e
        } catch {
            throw self.error("not a GeoJSON geometry: \(error)", at: node)
        }
        guard !g.isEmpty else { throw error("empty geometries are not supported in filters", at: node) }
        g.forEachSequence { vertices += $0.count }
        return .literal(g, isBox: false)
    }
}

import Foundation

/// Reading and writing GeoJSON (RFC 7946). Reading is strict and says where a problem is,
/// as a JSON path ("features[2].geometry.coordinates[0][3]"), because the people sending
/// sites are other systems whose developers need to fix their output.
public enum GeoJSON {
    public struct Item {
        public var geometry: Geometry
        public var properties: [String: Any]
        /// Where the geometry sits in the document, e.g. "features[1].geometry".
        public var path: String
    }

    public struct Document {
        public var items: [Item]
        /// A legacy `crs` member ("EPSG:4528"), if the document has one.
        public var crs: String?
        public var members: [String: Any]
    }

    /// Limits that keep a hostile document from exhausting the machine.
    public struct Limits: Sendable {
        public var maxVertices: Int
        public init(maxVertices: Int = 1_000_000) { self.maxVertices = maxVertices }
    }

    public struct VertexLimitExceeded: Error, CustomStringConvertible {
        public let limit: Int
        public var description: String { "more than \(limit) vertices" }
    }

    /// Parses JSON text, reporting syntax errors by line and column.
    public static func parseJSON(_ data: Data) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let ns = error as NSError
            let debug = (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
            if let offset = errorOffset(debug, data) {
                let (line, column) = lineAndColumn(data, offset)
                throw GeometryFormatError("malformed JSON at line \(line), column \(column): \(debug)")
            }
            throw GeometryFormatError("malformed JSON: \(debug)")
        }
    }

    /// Where Foundation's message puts the problem, as a byte offset: it says "around character N",
    /// "at N", or names a number it cannot represent; an unexpected end is at the end.
    static func errorOffset(_ debug: String, _ data: Data) -> Int? {
        for pattern in [#"character (\d+)"#, #" at (\d+)\.?$"#] {
            if let r = debug.range(of: pattern, options: .regularExpression),
                let n = Int(debug[r].drop { !$0.isNumber }.prefix { $0.isNumber })
            {
                return min(n, data.count)
            }
        }
        if debug.contains("Unexpected end of file") { return data.count }
        if let r = debug.range(of: #"Number \S+ is not representable"#, options: .regularExpression) {
            let number = debug[r].dropFirst("Number ".count).prefix { $0 != " " }
            if let found = data.range(of: Data(number.utf8)) { return found.lowerBound - data.startIndex }
        }
        return nil
    }

    /// Line and column (in characters) of a byte offset, both from 1.
    static func lineAndColumn(_ data: Data, _ offset: Int) -> (Int, Int) {
        var line = 1, column = 1
        for (i, b) in data.enumerated() {
            if i >= offset { break }
            if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        return (line, column)
    }

    public static func read(_ data: Data, limits: Limits = Limits()) throws -> Document {
        try read(json: try parseJSON(data), limits: limits)
    }

    public static func read(json: Any, limits: Limits = Limits()) throws -> Document {
        guard let obj = json as? [String: Any] else { throw GeometryFormatError("GeoJSON must be an object with a \"type\"") }
        var reader = Reader(limits: limits)
        let items = try reader.object(obj, path: "")
        return Document(items: items, crs: try crs(obj), members: obj)
    }

    /// The legacy (2008) `crs` member: {"type": "name", "properties": {"name": "EPSG:4528"}}
    /// or "urn:ogc:def:crs:EPSG::4528". RFC 7946 dropped it, but Chinese systems still send it.
    static func crs(_ obj: [String: Any]) throws -> String? {
        guard let crs = obj["crs"] else { return nil }
        guard let c = crs as? [String: Any], let props = c["properties"] as? [String: Any], let name = props["name"] as? String else {
            throw GeometryFormatError("crs: expected {\"type\": \"name\", \"properties\": {\"name\": \"EPSG:n\"}}")
        }
        if name.hasPrefix("urn:ogc:def:crs:") {
            let parts = name.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count >= 7 {
                let auth = String(parts[4]), code = String(parts[parts.count - 1])
                if auth == "OGC" && (code == "CRS84" || code == "84") { return "OGC:CRS84" }
                return "\(auth):\(code)"
            }
        }
        return name
    }

    struct Reader {
        let limits: Limits
        var vertices = 0

        mutating func object(_ obj: [String: Any], path: String) throws -> [Item] {
            guard let type = obj["type"] as? String else { throw GeometryFormatError("\(at(path))\"type\" is missing or not a string") }
            switch type {
            case "FeatureCollection":
                guard let features = obj["features"] as? [Any] else {
                    throw GeometryFormatError("\(at(path))\"features\" must be an array")
                }
                var items: [Item] = []
                for (i, f) in features.enumerated() {
                    let p = join(path, "features[\(i)]")
                    guard let fo = f as? [String: Any], fo["type"] as? String == "Feature" else {
                        throw GeometryFormatError("\(p): expected a Feature")
                    }
                    items += try object(fo, path: p)
                }
                return items
            case "Feature":
                let props = obj["properties"] as? [String: Any] ?? [:]
                if let p = obj["properties"], !(p is [String: Any]) && !(p is NSNull) {
                    throw GeometryFormatError("\(join(path, "properties")): must be an object or null")
                }
                guard let g = obj["geometry"], !(g is NSNull) else {
                    throw GeometryFormatError("\(join(path, "geometry")): the feature has no geometry")
                }
                guard let go = g as? [String: Any] else { throw GeometryFormatError("\(join(path, "geometry")): must be an object") }
                let gp = join(path, "geometry")
                return [Item(geometry: try geometry(go, path: gp), properties: props, path: gp)]
            default:
                return [Item(geometry: try geometry(obj, path: path), properties: [:], path: path.isEmpty ? "geometry" : path)]
            }
        }

        func at(_ path: String) -> String { path.isEmpty ? "" : "\(path): " }
        func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : "\(a).\(b)" }

        mutating func geometry(_ obj: [String: Any], path: String) throws -> Geometry {
            guard let type = obj["type"] as? String else { throw GeometryFormatError("\(at(path))\"type\" is missing") }
            if type == "GeometryCollection" {
                guard let gs = obj["geometries"] as? [Any] else {
                    throw GeometryFormatError("\(join(path, "geometries")): must be an array")
                }
                return .collection(
                    try gs.enumerated().map { i, g in
                        guard let go = g as? [String: Any] else {
                            throw GeometryFormatError("\(join(path, "geometries[\(i)]")): must be an object")
                        }
                        return try geometry(go, path: join(path, "geometries[\(i)]"))
                    })
            }
            let cp = join(path, "coordinates")
            guard let coords = obj["coordinates"] else { throw GeometryFormatError("\(cp): missing") }
            switch type {
            case "Point": return .point(try position(coords, path: cp))
            case "MultiPoint": return .multiPoint(try array(coords, cp).enumerated().map { try position($1, path: "\(cp)[\($0)]") })
            case "LineString": return .lineString(try line(coords, path: cp))
            case "MultiLineString": return .multiLineString(try array(coords, cp).enumerated().map { try line($1, path: "\(cp)[\($0)]") })
            case "Polygon": return .polygon(try polygon(coords, path: cp))
            case "MultiPolygon": return .multiPolygon(try array(coords, cp).enumerated().map { try polygon($1, path: "\(cp)[\($0)]") })
            default: throw GeometryFormatError("\(join(path, "type")): unknown geometry type \"\(type)\"")
            }
        }

        func array(_ v: Any, _ path: String) throws -> [Any] {
            guard let a = v as? [Any] else { throw GeometryFormatError("\(path): expected an array") }
            return a
        }

        mutating func position(_ v: Any, path: String) throws -> Coordinate {
            guard let a = v as? [Any], a.count >= 2 else { throw GeometryFormatError("\(path): expected a position [x, y]") }
            guard let x = number(a[0]), let y = number(a[1]) else { throw GeometryFormatError("\(path): coordinates must be numbers") }
            guard x.isFinite, y.isFinite else { throw GeometryFormatError("\(path): coordinates must be finite numbers") }
            vertices += 1
            if vertices > limits.maxVertices { throw VertexLimitExceeded(limit: limits.maxVertices) }
            return Coordinate(x, y)
        }

        func number(_ v: Any) -> Double? {
            if v is Bool { return nil }
            if let d = v as? Double { return d }
            if let i = v as? Int { return Double(i) }
            if let n = v as? NSNumber { return n.doubleValue }
            return nil
        }

        mutating func line(_ v: Any, path: String) throws -> [Coordinate] {
            let pts = try array(v, path).enumerated().map { try position($1, path: "\(path)[\($0)]") }
            guard pts.count >= 2 else { throw GeometryFormatError("\(path): a line needs at least 2 positions") }
            return pts
        }

        mutating func polygon(_ v: Any, path: String) throws -> Polygon {
            let rings = try array(v, path)
            guard !rings.isEmpty else { throw GeometryFormatError("\(path): a polygon needs at least one ring") }
            return Polygon(
                try rings.enumerated().map { i, r in
                    let rp = "\(path)[\(i)]"
                    let ring = try array(r, rp).enumerated().map { try position($1, path: "\(rp)[\($0)]") }
                    guard ring.count >= 4 else {
                        throw GeometryFormatError("\(rp): a ring needs at least 4 positions, it has \(ring.count)")
                    }
                    guard ring.first == ring.last else {
                        throw GeometryFormatError(
                            "\(rp): the ring is not closed (the first position \(fmt(ring[0])) differs from the last \(fmt(ring[ring.count - 1])))"
                        )
                    }
                    return ring
                })
        }

        func fmt(_ c: Coordinate) -> String { "[\(c.x), \(c.y)]" }
    }

    // MARK: Writing

    /// The geometry as a GeoJSON object (lon/lat as stored).
    public static func object(_ g: Geometry) -> [String: Any] {
        func pos(_ c: Coordinate) -> [Double] { [c.x, c.y] }
        func ring(_ r: [Coordinate]) -> [[Double]] { r.map(pos) }
        func poly(_ p: Polygon) -> [[[Double]]] { p.rings.map(ring) }
        switch g {
        case .point(let c): return ["type": "Point", "coordinates": pos(c)]
        case .lineString(let l): return ["type": "LineString", "coordinates": ring(l)]
        case .polygon(let p): return ["type": "Polygon", "coordinates": poly(p)]
        case .multiPoint(let cs): return ["type": "MultiPoint", "coordinates": cs.map(pos)]
        case .multiLineString(let ls): return ["type": "MultiLineString", "coordinates": ls.map(ring)]
        case .multiPolygon(let ps): return ["type": "MultiPolygon", "coordinates": ps.map(poly)]
        case .collection(let gs): return ["type": "GeometryCollection", "geometries": gs.map(object)]
        }
    }
}

/// Writes GeoJSON text directly: Foundation's JSONSerialization bridges every number and
/// array through Objective-C-style objects on Linux, which made writing a check's geometry
/// cost ten times the check itself.
public struct GeoJSONWriter {
    public private(set) var text = ""

    public init() { text.reserveCapacity(4096) }

    public mutating func raw(_ s: String) { text += s }

    public mutating func number(_ x: Double) {
        if x.isFinite, x == x.rounded(), abs(x) < 1e15 {
            text += String(Int64(x))
        } else if x.isFinite {
            text += String(x)
        } else {
            text += "null"
        }
    }

    public mutating func string(_ s: String) {
        // Ids and names almost never need escaping: append them whole, not scalar by scalar
        // (which would be most of the time of writing an audit of tens of thousands of pairs).
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            text += "\""
            text += s
            text += "\""
            return
        }
        text += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            default:
                if u.value < 0x20 { text += String(format: "\\u%04x", u.value) } else { text.unicodeScalars.append(u) }
            }
        }
        text += "\""
    }

    mutating func position(_ c: Coordinate) {
        text += "["; number(c.x); text += ","; number(c.y); text += "]"
    }

    mutating func positions(_ cs: [Coordinate]) {
        text += "["
        for (i, c) in cs.enumerated() { if i > 0 { text += "," }; position(c) }
        text += "]"
    }

    mutating func rings(_ p: Polygon) {
        text += "["
        for (i, r) in p.rings.enumerated() { if i > 0 { text += "," }; positions(r) }
        text += "]"
    }

    public mutating func geometry(_ g: Geometry) {
        switch g {
        case .point(let c): text += "{\"type\":\"Point\",\"coordinates\":"; position(c)
        case .lineString(let l): text += "{\"type\":\"LineString\",\"coordinates\":"; positions(l)
        case .polygon(let p): text += "{\"type\":\"Polygon\",\"coordinates\":"; rings(p)
        case .multiPoint(let cs): text += "{\"type\":\"MultiPoint\",\"coordinates\":"; positions(cs)
        case .multiLineString(let ls):
            text += "{\"type\":\"MultiLineString\",\"coordinates\":["
            for (i, l) in ls.enumerated() { if i > 0 { text += "," }; positions(l) }
            text += "]"
        case .multiPolygon(let ps):
            text += "{\"type\":\"MultiPolygon\",\"coordinates\":["
            for (i, p) in ps.enumerated() { if i > 0 { text += "," }; rings(p) }
            text += "]"
        case .collection(let gs):
            text += "{\"type\":\"GeometryCollection\",\"geometries\":["
            for (i, part) in gs.enumerated() { if i > 0 { text += "," }; geometry(part) }
            text += "]"
        }
        text += "}"
    }

    /// A Feature with flat properties (text, numbers).
    public mutating func feature(_ g: Geometry, properties: [(String, Any)]) {
        text += "{\"type\":\"Feature\",\"geometry\":"
        geometry(g)
        text += ",\"properties\":{"
        for (i, (k, v)) in properties.enumerated() {
            if i > 0 { text += "," }
            string(k); text += ":"
            switch v {
            case let d as Double: number(d)
            case let n as Int: text += String(n)
            case let s as String: string(s)
            default: string("\(v)")
            }
        }
        text += "}}"
    }
}

import Foundation
import GRDB
import GeoCore
import LayerStore

/// The query string of a request, decoded: `+` is a space and `%XX` a byte, in keys and values
/// alike, as browsers, GDAL and Python's requests send them.
public struct QueryParameters: Sendable {
    public var pairs: [(name: String, value: String)]

    public init(_ pairs: [(String, String)]) { self.pairs = pairs.map { (name: $0.0, value: $0.1) } }

    public init(query: String?) {
        guard let query, !query.isEmpty else { pairs = []; return }
        pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (name: Self.decode(kv[0]), value: kv.count > 1 ? Self.decode(kv[1]) : "")
        }
    }

    static func decode(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count)
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "+") { bytes.append(0x20); continue }
            if b == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
                continue
            }
            bytes.append(b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public subscript(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// The one value of a parameter; a repeated parameter is ambiguous, so an error.
    func single(_ name: String) throws -> String? {
        let values = pairs.filter { $0.name == name }
        guard values.count <= 1 else { throw FeatureError.invalidParameter(name, "given \(values.count) times; give it once") }
        return values.first?.value
    }

    /// The query string again, with some parameters replaced (for paging links).
    func encoded(replacing changes: [String: String?]) -> String {
        var out = pairs.filter { changes[$0.name] == nil }.map { ($0.name, $0.value) }
        for (k, v) in changes.sorted(by: { $0.key < $1.key }) { if let v = v { out.append((k, v)) } }
        return out.map { Self.encode($0.0) + "=" + Self.encode($0.1) }.joined(separator: "&")
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~,:")
    static func encode(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? s }
}

/// What an items request asks for, checked against the collection: every name is a known
/// field, every number in range, every CRS supported. Anything else is a 400 that says why.
struct ItemsQuery {
    static let defaultLimit = 10
    static let maxLimit = 10_000
    static let reserved: Set<String> = [
        "f", "bbox", "bbox-crs", "crs", "limit", "offset", "properties", "sortby",
        "filter", "filter-lang", "filter-crs", "datetime"
    ]

    var limit = defaultLimit
    /// The caller asked for more than the maximum: the links name the limit served.
    var limitCapped = false
    var offset = 0
    var crs = FeatureCRS.default
    /// The fields to return, in layer order; nil for all.
    var properties: [FieldDefinition]?
    var sortby: [(field: String, ascending: Bool)] = []
    var whereSQL: [String] = []
    var arguments: [DatabaseValue] = []
    var tests: [SpatialTest] = []
    var prefilter: [BoundingBox] = []

    init(_ q: QueryParameters, layer: FeatureLayer, maxLimit: Int = ItemsQuery.maxLimit) throws {
        let pageLimit = try PageLimit.parse(q.single("limit"), default: Self.defaultLimit, maximum: maxLimit)
        (limit, limitCapped) = (pageLimit.value, pageLimit.capped)
        offset = try Self.integer(q.single("offset"), "offset", default: 0, range: 0...Int(Int32.max))
        if let c = try q.single("crs") { crs = try FeatureCRS.parse(c, parameter: "crs") }
        if let dt = try q.single("datetime") { try Self.checkDatetime(dt) }

        try readBbox(q, layer: layer)
        try readProperties(q, layer: layer)
        try readSortby(q, layer: layer)
        try readEqualities(q, layer: layer)
        try readFilter(q, layer: layer)
    }

    /// `bbox` (and `bbox-crs`): a spatial test and the box that prefilters it.
    private mutating func readBbox(_ q: QueryParameters, layer: FeatureLayer) throws {
        if let b = try q.single("bbox") {
            let bboxCRS = try q.single("bbox-crs").map { try FeatureCRS.parse($0, parameter: "bbox-crs") } ?? .default
            let box = try Self.bbox(b, crs: bboxCRS)
            let region: Geometry
            do { region = try CRSTransforms.shared.boxToStorage(box, from: bboxCRS) } catch {
                throw FeatureError.invalidParameter("bbox", "cannot be transformed from \(bboxCRS.uri): \(error)")
            }
            let test = try SpatialTest(.intersects, literal: region, isRectangle: bboxCRS.isGeographic)
            tests.append(test)
            prefilter.append(test.box)
            whereSQL.append("(\(SpatialFunction.name)(\(layer.table.columns([.geometry])), 0) = 1)")
        } else if try q.single("bbox-crs") != nil {
            throw FeatureError.invalidParameter("bbox-crs", "given without bbox")
        }
    }

    /// `properties`: which fields to return.
    private mutating func readProperties(_ q: QueryParameters, layer: FeatureLayer) throws {
        if let p = try q.single("properties") {
            let names = p.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for n in names where layer.fieldsByName[n] == nil {
                throw FeatureError.invalidParameter(
                    "properties", "unknown property '\(n)'; '\(layer.id)' has \(layer.fields.map(\.name).joined(separator: ", "))")
            }
            properties = layer.fields.filter { names.contains($0.name) }
        }
    }

    /// `sortby`: fields, each ascending unless marked with - or DESC.
    private mutating func readSortby(_ q: QueryParameters, layer: FeatureLayer) throws {
        if let s = try q.single("sortby") {
            for item in s.split(separator: ",") {
                // "+DLBM" arrives as " DLBM" when the + was not percent-encoded.
                var name = item.trimmingCharacters(in: .whitespaces)
                var ascending = true
                if name.hasPrefix("-") { ascending = false; name.removeFirst() } else if name.hasPrefix("+") { name.removeFirst() }
                if name.hasSuffix(" DESC") || name.hasSuffix(" desc") {
                    ascending = false; name = String(name.dropLast(5))
                } else if name.hasSuffix(" ASC") || name.hasSuffix(" asc") {
                    name = String(name.dropLast(4))
                }
                name = name.trimmingCharacters(in: .whitespaces)
                guard layer.fieldsByName[name] != nil else {
                    throw FeatureError.invalidParameter(
                        "sortby",
                        "unknown property '\(name)'; '\(layer.id)' can be sorted by \(layer.fields.map(\.name).joined(separator: ", "))")
                }
                sortby.append((name, ascending))
            }
        }
    }

    private mutating func readEqualities(_ q: QueryParameters, layer: FeatureLayer) throws {
        // Equality filters on properties (?DLBM=0101); any other name is a mistake worth a 400.
        for (name, value) in q.pairs where !Self.reserved.contains(name) {
            guard let field = layer.fieldsByName[name] else {
                throw FeatureError.invalidParameter(
                    name,
                    "unknown parameter; the parameters are \(Self.reserved.sorted().joined(separator: ", ")) and the properties of '\(layer.id)': \(layer.fields.map(\.name).joined(separator: ", "))"
                )
            }
            let bound: DatabaseValue
            switch field.type {
            case .text: bound = value.databaseValue
            case .integer:
                guard let i = Int64(value) else { throw FeatureError.invalidParameter(name, "'\(value)' is not a whole number") }
                bound = i.databaseValue
            case .real:
                guard let d = Double(value), d.isFinite else { throw FeatureError.invalidParameter(name, "'\(value)' is not a number") }
                bound = d.databaseValue
            }
            whereSQL.append(layer.table.equals(name))
            arguments.append(bound)
        }
    }

    /// `filter` (CQL2 text or JSON, as `filter-lang` says, with `filter-crs`).
    private mutating func readFilter(_ q: QueryParameters, layer: FeatureLayer) throws {
        if let filter = try q.single("filter") {
            let lang = try q.single("filter-lang") ?? "cql2-text"
            guard lang == "cql2-text" || lang == "cql2-json" else {
                throw FeatureError.invalidParameter("filter-lang", "'\(lang)' is not supported; use cql2-text or cql2-json")
            }
            let filterCRS = try q.single("filter-crs").map { try FeatureCRS.parse($0, parameter: "filter-crs") } ?? .default
            let written: CQL2Filter
            do {
                written = lang == "cql2-json" ? try CQL2JSONParser.parseFilter(filter) : try CQL2Parser.parseFilter(filter)
            } catch let e as CQL2SyntaxError {
                throw FeatureError.invalidParameter(
                    "filter", lang == "cql2-json" ? "malformed cql2-json at character \(e.position): \(e.message)" : e.description)
            }
            let expression = written.expression
            var translator = FilterSQL(layer: layer, crs: filterCRS, tests: tests, written: written)
            let fragment = try translator.translate(expression)
            tests = translator.tests
            prefilter += translator.prefilter
            whereSQL.append(fragment.sql)
            arguments += fragment.arguments
        } else {
            if try q.single("filter-lang") != nil { throw FeatureError.invalidParameter("filter-lang", "given without filter") }
            if try q.single("filter-crs") != nil { throw FeatureError.invalidParameter("filter-crs", "given without filter") }
        }
    }

    static func integer(_ raw: String?, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw else { return value }
        guard let n = Int(raw), range.contains(n) else {
            throw FeatureError.invalidParameter(name, "'\(raw)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    /// `minx,miny,maxx,maxy` (or six numbers with heights), in the axis order of `crs`.
    static func bbox(_ raw: String, crs: FeatureCRS) throws -> BoundingBox {
        let parts = raw.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 4 || parts.count == 6, parts.allSatisfy({ $0 != nil && $0!.isFinite }) else {
            throw FeatureError.invalidParameter(
                "bbox", "'\(raw)' must be 4 (or 6) comma-separated numbers: lower corner, then upper corner")
        }
        let v = parts.map { $0! }
        let (a0, a1, b0, b1) = v.count == 4 ? (v[0], v[1], v[2], v[3]) : (v[0], v[1], v[3], v[4])
        guard a0 <= b0, a1 <= b1 else {
            throw FeatureError.invalidParameter("bbox", "'\(raw)': the lower corner must come first and not exceed the upper one")
        }
        if crs.isGeographic {
            let (lon0, lat0, lon1, lat1) = crs.northFirst ? (a1, a0, b1, b0) : (a0, a1, b0, b1)
            guard (-180...180).contains(lon0), (-180...180).contains(lon1), (-90...90).contains(lat0), (-90...90).contains(lat1) else {
                throw FeatureError.invalidParameter(
                    "bbox",
                    "'\(raw)' is outside longitude -180…180, latitude -90…90 (in \(crs.northFirst ? "latitude, longitude" : "longitude, latitude") order for \(crs.uri))"
                )
            }
        }
        return BoundingBox(a0, a1, b0, b1)
    }

    /// RFC 3339 instants or intervals (`a/b`, `../b`, `a/..`). Layers carry no time, so a valid
    /// datetime selects every feature; an invalid one is still an error.
    static func checkDatetime(_ raw: String) throws {
        let parts = raw.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count),
            parts.allSatisfy({ p in
                (parts.count == 2 && (p == ".." || p.isEmpty)) || CQL2Parser.isDate(p) || CQL2Parser.isTimestamp(p)
                    || (p.count >= 20 && CQL2Parser.isDate(String(p.prefix(10))) && p.dropFirst(10).first == "T")
            })
        else {
            throw FeatureError.invalidParameter("datetime", "'\(raw)' is not an RFC 3339 date-time or interval")
        }
    }
}

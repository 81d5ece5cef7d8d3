import Foundation
import GRDB
import GeoCore
import LayerStore

/// A request to the feature API, free of any HTTP framework: the decoded query, the
/// `Accept` header and the URL the client reached us by (for links).
public struct FeatureRequest: Sendable {
    public var query: QueryParameters
    public var accept: String?
    /// e.g. `http://127.0.0.1:8080`, without a trailing slash.
    public var baseURL: String
    /// Who asks: restricted layers are collections only for a viewer key.
    public var caller: Caller

    public init(query: QueryParameters, accept: String? = nil, baseURL: String, caller: Caller = .anonymous) {
        self.caller = caller
        self.query = query
        self.accept = accept
        self.baseURL = baseURL
    }
}

/// What the feature API answers: status, media type, extra headers and the body.
public struct FeatureResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// The features of a restricted layer the answer holds: their layer, what was asked and how
    /// many, for the access record (全留痕). nil when it holds none.
    public var restrictedRead: (layer: String, what: String, returned: Int)?

    public init(status: Int = 200, contentType: String, headers: [(String, String)] = [], body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    static func json(_ object: [String: Any], type: String = "application/json", headers: [(String, String)] = []) -> FeatureResponse {
        var w = JSONWriter()
        w.any(object)
        return FeatureResponse(contentType: type, headers: headers, body: w.bytes)
    }

    static func html(_ page: String) -> FeatureResponse {
        FeatureResponse(contentType: "text/html; charset=utf-8", body: Array(page.utf8))
    }
}

/// The representation a client wants: `?f=` decides, else the `Accept` header; JSON unless
/// HTML is clearly preferred (a browser), since most callers are programs.
public enum FeatureFormat: Sendable {
    case json, html
    /// The API definition's other form (`/api`), when the caller offers it.
    case yaml

    /// What an Accept header names YAML by: OGC's media type of an OpenAPI document in YAML, and YAML's.
    static let yamlTypes = ["application/vnd.oai.openapi", "application/yaml"]

    public static func negotiate(_ r: FeatureRequest, offeringYAML: Bool = false) throws -> FeatureFormat {
        if let f = try r.query.single("f") {
            switch f.lowercased() {
            case "json", "geojson", "application/json", "application/geo+json", "application/schema+json": return .json
            case "html", "text/html": return .html
            case "yaml" where offeringYAML: return .yaml
            default:
                throw FeatureError.invalidParameter(
                    "f", "'\(f)' is not a format of this server; use json\(offeringYAML ? ", yaml" : "") or html")
            }
        }
        guard let accept = r.accept, !accept.isEmpty else { return .json }
        var ranges: [(type: String, q: Double)] = []
        for item in accept.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let type = parts.first, !type.isEmpty else { continue }
            var q = 1.0
            for p in parts.dropFirst() where p.hasPrefix("q=") { q = Double(p.dropFirst(2)) ?? 1 }
            ranges.append((type, q))
        }
        func quality(_ mime: String) -> Double {
            if let exact = ranges.filter({ $0.type == mime }).map(\.q).max() { return exact }
            let major = mime.split(separator: "/")[0] + "/*"
            if let partial = ranges.filter({ $0.type == major }).map(\.q).max() { return partial }
            return ranges.filter { $0.type == "*/*" }.map(\.q).max() ?? 0
        }
        let html = quality("text/html")
        let json =
            ["application/json", "application/geo+json", "application/schema+json", "application/vnd.oai.openapi+json"].map(quality).max()
            ?? 0
        // YAML only when asked for more than both (*/* and application/* still get JSON).
        if offeringYAML, (yamlTypes.map(quality).max() ?? 0) > max(html, json) { return .yaml }
        return html > json ? .html : .json
    }
}

/// OGC API – Features (Parts 1–3) over the layer store: landing page, conformance,
/// collections, items, single features and queryables, in JSON and HTML.
public final class FeatureService: Sendable {
    public let store: Store
    public let catalog: FeatureCatalog
    public let maxLimit: Int

    /// Classes the server passes besides these (OGC API – Tiles); with any, the landing page
    /// and every collection link to their tiles too.
    public let alsoConformsTo: [String]

    public init(store: Store, maxLimit: Int = 10_000, alsoConformsTo: [String] = []) {
        self.store = store
        catalog = FeatureCatalog(store: store)
        self.maxLimit = maxLimit
        self.alsoConformsTo = alsoConformsTo
    }

    var servesTiles: Bool { !alsoConformsTo.isEmpty }

    /// Exactly the classes this implementation passes, each backed by tests in FeaturesTests.
    public static let conformance: [String] = [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
        "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
        "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
        "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
        "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
        "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic"
        // Not temporal-functions, array-functions, property-property or functions: no layer
        // has a time or an array, and no custom functions are offered.
    ]

    static let geoJSON = "application/geo+json"

    // MARK: Landing page and conformance

    public func landing(_ r: FeatureRequest) throws -> FeatureResponse {
        let format = try FeatureFormat.negotiate(r)
        try Self.allowOnly(["f"], in: r.query)
        let b = r.baseURL
        let links: [[String: Any]] = [
            Self.link(b + "/?f=json", "self", "application/json", "this document"),
            Self.link(b + "/?f=html", "alternate", "text/html", "this document as HTML"),
            Self.link(b + "/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API definition (OpenAPI 3.0)"),
            Self.link(
                b + "/api?f=yaml", "service-desc", "application/vnd.oai.openapi;version=3.0", "the API definition (OpenAPI 3.0) in YAML"),
            Self.link(b + "/api?f=html", "service-doc", "text/html", "the API documentation"),
            Self.link(b + "/conformance", "conformance", "application/json", "conformance classes"),
            Self.link(b + "/conformance", "http://www.opengis.net/def/rel/ogc/1.0/conformance", "application/json", "conformance classes"),
            Self.link(b + "/collections", "data", "application/json", "the layers, as feature collections"),
            Self.link(
                b + "/collections", "http://www.opengis.net/def/rel/ogc/1.0/data", "application/json", "the layers, as feature collections")
        ]
        let tileLinks =
            servesTiles
            ? [
                Self.link(
                    b + "/tileMatrixSets", "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", "application/json", "tile matrix sets"),
                Self.link(
                    b + "/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "application/json",
                    "every layer as vector tiles")
            ] : []
        let doc: [String: Any] = [
            "title": "OneMap 一张图",
            "description":
                "国土空间\"一张图\" of Lishui (丽水): the planning control layers as OGC API – Features, vector tiles, identify and conflict checks (合规性审查).",
            "links": links + tileLinks
        ]
        if format == .html { return .html(FeatureHTML.landing(doc, base: b)) }
        return .json(doc)
    }

    public func conformance(_ r: FeatureRequest) throws -> FeatureResponse {
        let format = try FeatureFormat.negotiate(r)
        try Self.allowOnly(["f"], in: r.query)
        let classes = Self.conformance + alsoConformsTo
        if format == .html { return .html(FeatureHTML.conformance(classes, base: r.baseURL)) }
        return .json([
            "conformsTo": classes, "links": [Self.link(r.baseURL + "/conformance", "self", "application/json", "this document")]
        ])
    }

    // MARK: Collections

    public func collections(_ r: FeatureRequest) async throws -> FeatureResponse {
        let format = try FeatureFormat.negotiate(r)
        try Self.allowOnly(["f"], in: r.query)
        let catalog = self.catalog
        let caller = r.caller
        let layers = try await store.read { db in try catalog.layers(db, for: caller) }
        let b = r.baseURL
        let doc: [String: Any] = [
            "links": [
                Self.link(b + "/collections?f=json", "self", "application/json", "this document"),
                Self.link(b + "/collections?f=html", "alternate", "text/html", "this document as HTML")
            ],
            "collections": layers.map { Self.collectionDocument($0, base: b, tiles: servesTiles) }
        ]
        if format == .html { return .html(FeatureHTML.collections(layers, base: b)) }
        return .json(doc)
    }

    public func collection(_ id: String, _ r: FeatureRequest) async throws -> FeatureResponse {
        let format = try FeatureFormat.negotiate(r)
        try Self.allowOnly(["f"], in: r.query)
        let layer = try await layer(id, for: r.caller)
        let doc = Self.collectionDocument(layer, base: r.baseURL, tiles: servesTiles)
        if format == .html { return .html(FeatureHTML.collection(layer, doc: doc, base: r.baseURL)) }
        return .json(doc)
    }

    func layer(_ id: String, for caller: Caller) async throws -> FeatureLayer {
        let catalog = self.catalog
        return try await store.read { db in try catalog.layer(id, db, for: caller) }
    }

    static func collectionDocument(_ l: FeatureLayer, base: String, tiles: Bool = false) -> [String: Any] {
        let c = base + "/collections/" + QueryParameters.encode(l.id)
        var doc: [String: Any] = [
            "id": l.id,
            "title": l.title,
            "description":
                "\(l.title) (\(l.layer.spec.kind.rawValue)): \(l.count) \(l.layer.version.geometryType) features, version \(l.layer.version.label) (#\(l.layer.version.number)), loaded \(l.layer.version.loadedAt)",
            "itemType": "feature",
            "crs": FeatureCRS.supported.map(\.uri),
            "storageCrs": FeatureCRS.storage.uri,
            "links": [
                link(c + "?f=json", "self", "application/json", "this collection"),
                link(c + "?f=html", "alternate", "text/html", "this collection as HTML"),
                link(c + "/items?f=json", "items", geoJSON, "the features as GeoJSON"),
                link(c + "/items?f=html", "items", "text/html", "the features as HTML"),
                link(
                    c + "/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json",
                    "the queryable properties")
            ]
                + (tiles
                    ? [
                        link(
                            c + "/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "application/json",
                            "the layer as vector tiles")
                    ]
                    : [])
        ]
        if let bbox = l.bbox {
            doc["extent"] = ["spatial": ["bbox": [bbox.array], "crs": FeatureCRS.crs84.uri]]
        }
        return doc
    }

    // MARK: Queryables

    public func queryables(_ id: String, _ r: FeatureRequest) async throws -> FeatureResponse {
        let format = try FeatureFormat.negotiate(r)
        try Self.allowOnly(["f"], in: r.query)
        let layer = try await layer(id, for: r.caller)
        var properties: [String: Any] = [
            FeatureLayer.geometryProperty: [
                "title": "geometry", "x-ogc-role": "primary-geometry",
                "format": "geometry-" + layer.geometryTypeName.lowercased()
            ] as [String: Any]
        ]
        for f in layer.fields {
            let type: String
            switch f.type {
            case .text: type = "string"
            case .integer: type = "integer"
            case .real: type = "number"
            }
            properties[f.name] = ["title": f.name, "type": type]
        }
        let doc: [String: Any] = [
            "$schema": "https://json-schema.org/draft/2019-09/schema",
            "$id": r.baseURL + "/collections/" + QueryParameters.encode(layer.id) + "/queryables",
            "type": "object",
            "title": layer.title,
            "properties": properties,
            "additionalProperties": false
        ]
        if format == .html { return .html(FeatureHTML.queryables(layer, properties: properties, base: r.baseURL)) }
        return .json(doc, type: "application/schema+json")
    }

    // MARK: Items

    public func items(_ id: String, _ r: FeatureRequest) async throws -> FeatureResponse {
        let format = try FeatureFormat.negotiate(r)
        let layer = try await layer(id, for: r.caller)
        let query = try ItemsQuery(r.query, layer: layer, maxLimit: maxLimit)
        let (rows, matched) = try await store.read { db in try FeatureReader.page(query, layer: layer, db: db) }
        let output = try CRSTransforms.shared.output(query.crs)
        let fields = query.properties ?? layer.fields
        let c = r.baseURL + "/collections/" + QueryParameters.encode(layer.id)
        func pageLink(_ offset: Int?, format f: String) -> String {
            var changes: [String: String?] = ["offset": offset.map(String.init), "f": f]
            if query.limitCapped { changes["limit"] = String(query.limit) }
            let q = r.query.encoded(replacing: changes)
            return c + "/items" + (q.isEmpty ? "" : "?" + q)
        }
        var links: [[String: Any]] = [
            Self.link(pageLink(query.offset == 0 ? nil : query.offset, format: "json"), "self", Self.geoJSON, "this page"),
            Self.link(pageLink(query.offset == 0 ? nil : query.offset, format: "html"), "alternate", "text/html", "this page as HTML"),
            Self.link(c, "collection", "application/json", layer.title)
        ]
        if query.offset + rows.count < matched {
            links.append(
                Self.link(
                    pageLink(query.offset + rows.count, format: format == .html ? "html" : "json"), "next",
                    format == .html ? "text/html" : Self.geoJSON, "the next page"))
        }
        if query.offset > 0 {
            let prev = max(0, query.offset - query.limit)
            links.append(
                Self.link(
                    pageLink(prev == 0 ? nil : prev, format: format == .html ? "html" : "json"), "prev",
                    format == .html ? "text/html" : Self.geoJSON, "the previous page"))
        }
        let headers = [("Content-Crs", query.crs.header)]
        let read = layer.layer.spec.access == .public ? nil : (layer.id, "items?" + r.query.encoded(replacing: [:]), rows.count)
        if format == .html {
            let features = try rows.map { row -> (FeatureRow, Geometry?) in (row, try row.blob.map { try SpatiaLiteGeometry.decode($0) }) }
            var resp = FeatureResponse.html(
                FeatureHTML.items(
                    layer, features: features, fields: fields, matched: matched,
                    offset: query.offset, links: links, base: r.baseURL))
            resp.headers = headers
            resp.restrictedRead = read
            return resp
        }
        var w = JSONWriter(capacity: 256 + rows.count * 600)
        w.raw(#"{"type":"FeatureCollection","numberMatched":"#)
        w.number(matched)
        w.raw(#","numberReturned":"#)
        w.number(rows.count)
        w.raw(#","timeStamp":"#)
        w.string(Self.timestamp())
        w.raw(#","links":"#)
        w.any(links)
        w.raw(#","features":["#)
        for (i, row) in rows.enumerated() {
            if i > 0 { w.raw(",") }
            try Self.writeFeature(row, fields: fields, output: output, into: &w, links: nil)
        }
        w.raw("]}")
        var resp = FeatureResponse(contentType: Self.geoJSON, headers: headers, body: w.bytes)
        resp.restrictedRead = read
        return resp
    }

    public func item(_ id: String, featureId: String, _ r: FeatureRequest) async throws -> FeatureResponse {
        let format = try FeatureFormat.negotiate(r)
        try Self.allowOnly(["f", "crs"], in: r.query)
        let crs = try r.query.single("crs").map { try FeatureCRS.parse($0, parameter: "crs") } ?? .default
        let layer = try await layer(id, for: r.caller)
        guard let row = try await store.read({ db in try FeatureReader.feature(featureId, layer: layer, db: db) }) else {
            throw FeatureError.notFound("no feature '\(featureId)' in collection '\(id)'")
        }
        let c = r.baseURL + "/collections/" + QueryParameters.encode(layer.id)
        let f = c + "/items/" + QueryParameters.encode(featureId)
        let links: [[String: Any]] = [
            Self.link(f + "?f=json", "self", Self.geoJSON, "this feature"),
            Self.link(f + "?f=html", "alternate", "text/html", "this feature as HTML"),
            Self.link(c, "collection", "application/json", layer.title)
        ]
        let headers = [("Content-Crs", crs.header)]
        var resp: FeatureResponse
        if format == .html {
            resp = FeatureResponse.html(
                FeatureHTML.item(layer, row: row, geometry: try row.blob.map { try SpatiaLiteGeometry.decode($0) }, base: r.baseURL))
            resp.headers = headers
        } else {
            var w = JSONWriter()
            try Self.writeFeature(row, fields: layer.fields, output: try CRSTransforms.shared.output(crs), into: &w, links: links)
            resp = FeatureResponse(contentType: Self.geoJSON, headers: headers, body: w.bytes)
        }
        if layer.layer.spec.access != .public { resp.restrictedRead = (layer.id, "item " + featureId, 1) }
        return resp
    }

    static func writeFeature(
        _ row: FeatureRow, fields: [FieldDefinition], output: CRSTransforms.Output,
        into w: inout JSONWriter, links: [[String: Any]]?
    ) throws {
        w.raw(#"{"type":"Feature","id":"#)
        w.string(row.id)
        w.raw(#","geometry":"#)
        if let blob = row.blob {
            w.geometry(try output.project(try SpatiaLiteGeometry.decode(blob)), northFirst: output.crs.northFirst)
        } else {
            w.raw("null")
        }
        w.raw(#","properties":{"#)
        for (i, f) in fields.enumerated() {
            if i > 0 { w.raw(",") }
            w.key(f.name)
            w.value(row.values[i])
        }
        w.raw("}")
        if let links {
            w.raw(#","links":"#)
            w.any(links)
        }
        w.raw("}")
    }

    // MARK: Helpers

    static func link(_ href: String, _ rel: String, _ type: String, _ title: String) -> [String: Any] {
        ["href": href, "rel": rel, "type": type, "title": title]
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }

    /// Part 1 asks for a 400 on parameters the API does not define.
    static func allowOnly(_ names: Set<String>, in q: QueryParameters) throws {
        if let unknown = q.pairs.first(where: { !names.contains($0.name) }) {
            throw FeatureError.invalidParameter(
                unknown.name, "unknown parameter; this resource takes \(names.sorted().joined(separator: ", "))")
        }
    }
}

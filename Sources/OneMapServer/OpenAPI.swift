import Features
import Foundation

/// The OpenAPI 3.0 definition of every OneMap endpoint, served at `/api`. OGC clients (GDAL,
/// QGIS) read it for the limits of the feature API, and the fuzzing tests generate requests
/// from it, so every route, parameter, body and response is described here, errors included.
enum OpenAPI {
    static func document(serverURL: String) -> [String: Any] {
        [
            "openapi": "3.0.3",
            "info": [
                "title": "OneMap 一张图 API",
                "version": "1.0.0",
                "description": """
                    国土空间"一张图" of Lishui (丽水): the planning control layers as OGC API – Features (Parts 1–3, \
                    CQL2 text filters, CRS by reference), vector tiles and styles, identify, and conflict checks (合规性审查) \
                    with their records (全留痕). Feature-API errors are OGC exceptions {"code", "description"}; \
                    the /v1 API's errors are {"error", "detail"}.
                    """,
                "license": ["name": "See the repository"],
            ] as [String: Any],
            "servers": [["url": serverURL]],
            "tags": [
                tag("Features", "OGC API – Features: collections of the public layers and their features"),
                tag("Checks", "Conflict checks of project sites (合规性审查) and their records"),
                tag("Identify", "The features at a point"),
                tag("Tiles", "Mapbox Vector Tiles and TileJSON (Web Mercator and the CGCS2000 geographic grid)"),
                tag("Styles", "MapLibre styles"),
                tag("Ledger", "The natural-resources ledger, the cross-layer audit and layer versions"),
                tag("Service", "Landing page, conformance, API definition, health"),
            ],
            "paths": paths,
            "components": components,
            // Anonymous callers read public layers; a key (Authorization: Bearer om_…) adds what its role allows.
            "security": [[:] as [String: Any], ["bearer": [] as [Any]]],
        ]
    }

    static func tag(_ name: String, _ description: String) -> [String: Any] { ["name": name, "description": description] }
    /// Layer names are [a-z0-9_]+; lists of them are comma-separated.
    static let layerListPattern = "^([a-z0-9_]+(,[a-z0-9_]+)*|\\{[a-z0-9_]+(,[a-z0-9_]+)*\\})$"
    /// In a tile's path each layer may carry its version (`farmland@3`), and every layer the
    /// digest of theirs (`onemap@…`), as TileJSON writes them.
    static let tileLayersPattern = "^(\\{?[a-z0-9_]+(@[0-9]{1,9})?(,[a-z0-9_]+(@[0-9]{1,9})?)*\\}?|onemap@[0-9a-f]{1,16})$"
    static let layerList: [String: Any] = ["type": "string", "pattern": "^[a-z0-9_]+(,[a-z0-9_]+)*$"]
    static func ref(_ schema: String) -> [String: Any] { ["$ref": "#/components/schemas/\(schema)"] }
    static func parameterRef(_ name: String) -> [String: Any] { ["$ref": "#/components/parameters/\(name)"] }
    static func responseRef(_ name: String) -> [String: Any] { ["$ref": "#/components/responses/\(name)"] }

    /// An error answer that says when to come back (`Retry-After`, in seconds).
    static func retryLater(_ description: String) -> [String: Any] {
        ["description": description,
         "headers": ["Retry-After": ["description": "seconds to wait before trying again", "schema": ["type": "integer"]]],
         "content": content(["application/json": ref("Error")])]
    }

    static func content(_ types: [String: [String: Any]]) -> [String: Any] {
        types.mapValues { ["schema": $0] }
    }

    static func ok(_ description: String, _ types: [String: [String: Any]], headers: [String: Any]? = nil) -> [String: Any] {
        var r: [String: Any] = ["description": description, "content": content(types)]
        if let headers { r["headers"] = headers }
        return r
    }

    /// An operation. Every one may answer 401: a bad, unknown or revoked key is refused on any
    /// route. `role` adds 403 (a key of a lower role); `limited` adds 503 (the work slots are
    /// full or the request ran past its time limit, with Retry-After).
    static func operation(_ id: String, _ tag: String, _ summary: String, parameters: [[String: Any]] = [],
                          body: [String: Any]? = nil, role: String? = nil, limited: Bool = false, responses: [String: Any]) -> [String: Any] {
        var responses = responses
        responses["401"] = responses["401"] ?? responseRef("Unauthorized")
        if role != nil { responses["403"] = responseRef("Forbidden") }
        if limited { responses["503"] = responseRef("Unavailable") }
        var o: [String: Any] = ["operationId": id, "tags": [tag], "summary": summary, "responses": responses]
        if let role { o["description"] = "Needs \(role == "viewer" ? "a" : "an") \(role) key (Authorization: Bearer …)\(role == "approver" ? ", unless the server runs with --open" : "")." }
        if !parameters.isEmpty { o["parameters"] = parameters }
        if let body { o["requestBody"] = body }
        return o
    }

    static let html: [String: Any] = ["type": "string"]
    static let contentCrsHeader: [String: Any] = [
        "Content-Crs": ["description": "The CRS of the coordinates in the response, as <URI>.", "schema": ["type": "string"]] as [String: Any],
    ]

    // MARK: Paths

    static var paths: [String: Any] {
        let ogcErrors: [String: Any] = ["400": responseRef("OGCBadRequest"), "404": responseRef("OGCNotFound"), "500": responseRef("ServerError")]
        let ogcBad: [String: Any] = ["400": responseRef("OGCBadRequest"), "500": responseRef("ServerError")]
        func merging(_ a: [String: Any], _ b: [String: Any]) -> [String: Any] { a.merging(b) { x, _ in x } }
        let tileParameters: [[String: Any]] = [
            ["name": "z", "in": "path", "required": true, "description": "zoom level", "schema": ["type": "integer", "minimum": 0, "maximum": 24]],
            ["name": "x", "in": "path", "required": true, "description": "tile column (past the grid's width: 404)", "schema": ["type": "integer", "minimum": 0, "maximum": 999_999_999]],
            ["name": "y", "in": "path", "required": true, "description": "tile row from the top (past the grid's height: 404)", "schema": ["type": "integer", "minimum": 0, "maximum": 999_999_999]],
        ]
        let layerPath: [String: Any] = ["name": "layer", "in": "path", "required": true,
                                        "description": "a public layer name, or several joined by commas for a composite tile (braces allowed: {a,b})",
                                        "schema": ["type": "string", "pattern": layerListPattern]]
        let tileLayersPath: [String: Any] = ["name": "layer", "in": "path", "required": true,
                                             "description": "a public layer name, or several joined by commas for a composite tile (braces allowed: {a,b}); "
                                                 + "each with its version (farmland@3) as TileJSON gives them, for a tile cached for a year, "
                                                 + "or onemap@<digest> for every layer",
                                             "schema": ["type": "string", "pattern": tileLayersPattern]]
        let tileResponses: [String: Any] = [
            "200": ok("a Mapbox Vector Tile (MVT 2.1), gzip-encoded when the client accepts it",
                      ["application/vnd.mapbox-vector-tile": ["type": "string", "format": "binary"]]),
            "302": ["description": "the versions in the path are not current: Location is the tile at the current ones"],
            "204": ["description": "the tile is empty"],
            "304": ["description": "not modified (If-None-Match matched the ETag)"],
            "400": responseRef("BadRequest"), "404": responseRef("NotFound"), "500": responseRef("ServerError"),
        ]
        let tileJSONResponses: [String: Any] = [
            "200": ok("TileJSON 3.0.0", ["application/json": ref("TileJSON")]),
            "400": responseRef("BadRequest"), "404": responseRef("NotFound"), "500": responseRef("ServerError"),
        ]
        return [
            "/": ["get": operation("getLandingPage", "Service", "Landing page (the web viewer for a browser asking for HTML)",
                                   parameters: [parameterRef("f")],
                                   responses: merging(["200": ok("the landing page", ["application/json": ref("LandingPage"), "text/html": html])], ogcBad))],
            "/conformance": ["get": operation("getConformance", "Service", "The conformance classes this server passes",
                                              parameters: [parameterRef("f")],
                                              responses: merging(["200": ok("conformance classes", ["application/json": ref("Conformance"), "text/html": html])], ogcBad))],
            "/api": ["get": operation("getAPI", "Service", "This API definition (OpenAPI 3.0)",
                                      parameters: [parameterRef("f")],
                                      responses: merging(["200": ok("the API definition", ["application/vnd.oai.openapi+json;version=3.0": ["type": "object"], "text/html": html])], ogcBad))],
            "/collections": ["get": operation("getCollections", "Features", "The public layers as feature collections",
                                              parameters: [parameterRef("f")],
                                              responses: merging(["200": ok("the collections", ["application/json": ref("Collections"), "text/html": html])], ogcBad))],
            "/collections/{collectionId}": ["get": operation("describeCollection", "Features", "One collection",
                                                             parameters: [parameterRef("collectionId"), parameterRef("f")],
                                                             responses: merging(["200": ok("the collection", ["application/json": ref("Collection"), "text/html": html])], ogcErrors))],
            "/collections/{collectionId}/queryables": ["get": operation("getQueryables", "Features", "The properties a filter may use (JSON Schema)",
                                                                        parameters: [parameterRef("collectionId"), parameterRef("f")],
                                                                        responses: merging(["200": ok("the queryables", ["application/schema+json": ref("Queryables"), "text/html": html])], ogcErrors))],
            "/collections/{collectionId}/items": ["get": operation(
                "getFeatures", "Features",
                "Features of a collection: bbox, paging, equality filters on properties, CQL2 text filters, sorting, CRS",
                parameters: [parameterRef("collectionId"), parameterRef("f"), parameterRef("bbox"), parameterRef("bbox-crs"),
                             parameterRef("crs"), parameterRef("limit"), parameterRef("offset"), parameterRef("properties"),
                             parameterRef("sortby"), parameterRef("filter"), parameterRef("filter-lang"), parameterRef("filter-crs"),
                             parameterRef("datetime"), parameterRef("propertyFilters")],
                limited: true,
                responses: merging(["200": ok("a page of features", ["application/geo+json": ref("FeatureCollection"), "text/html": html],
                                              headers: contentCrsHeader)], ogcErrors))],
            "/collections/{collectionId}/items/{featureId}": ["get": operation(
                "getFeature", "Features", "One feature, by the layer's id field",
                parameters: [parameterRef("collectionId"), parameterRef("featureId"), parameterRef("f"), parameterRef("crs")],
                responses: merging(["200": ok("the feature", ["application/geo+json": ref("Feature"), "text/html": html],
                                              headers: contentCrsHeader)], ogcErrors))],
            "/v1/identify": ["get": operation(
                "identify", "Identify", "The features of every public layer at a point: polygons containing it, lines and points within the tolerance",
                parameters: [
                    ["name": "lon", "in": "query", "required": true, "description": "longitude (CGCS2000 / WGS 84)", "schema": ["type": "number", "minimum": -180, "maximum": 180]],
                    ["name": "lat", "in": "query", "required": true, "description": "latitude", "schema": ["type": "number", "minimum": -90, "maximum": 90]],
                    ["name": "layers", "in": "query", "description": "only these layers, comma-separated", "schema": layerList],
                    ["name": "tolerance", "in": "query", "description": "metres within which lines and points count (default 5)", "schema": ["type": "number", "minimum": 0, "maximum": 1000, "default": 5]],
                    ["name": "geometry", "in": "query", "description": "include the geometries (default true)", "schema": ["type": "boolean", "default": true]],
                ],
                responses: ["200": ok("the features at the point, as GeoJSON", ["application/geo+json": ref("IdentifyResult")]),
                            "400": responseRef("BadRequest"), "404": responseRef("NotFound"), "500": responseRef("ServerError")])],
            "/v1/checks": [
                "post": operation(
                    "createCheck", "Checks", "Check a project site against every layer with a rule, and keep the record",
                    parameters: [
                        ["name": "layers", "in": "query", "description": "only these layers, comma-separated", "schema": layerList],
                        ["name": "crs", "in": "query", "description": "the CRS of a WKT or TXT site that declares none, e.g. EPSG:4528", "schema": ["type": "string", "minLength": 1]],
                    ],
                    body: [
                        "required": true,
                        "description": "{projectCode, projectName, geometry | feature | txt}, raw GeoJSON (Geometry, Feature or FeatureCollection), or a 部标准格式 coordinate TXT (UTF-8 or GBK)",
                        "content": [
                            "application/json": ["schema": ref("CheckRequest")],
                            "application/geo+json": ["schema": ref("GeoJSONObject")],
                            "text/plain": ["schema": ["type": "string", "minLength": 1]],
                        ],
                    ] as [String: Any],
                    role: "approver", limited: true,
                    responses: [
                        "201": ok("the check result, stored", ["application/json": ref("CheckResult")],
                                  headers: ["Location": ["description": "the stored check", "schema": ["type": "string"]]]),
                        "400": responseRef("BadRequest"), "401": responseRef("Unauthorized"), "404": responseRef("NotFound"),
                        "413": responseRef("TooLarge"), "422": responseRef("Unprocessable"), "429": responseRef("TooManyRequests"),
                        "500": responseRef("ServerError"),
                    ]),
                "get": operation(
                    "listChecks", "Checks", "The stored checks, newest first, optionally of one project",
                    parameters: [
                        ["name": "projectCode", "in": "query", "schema": ["type": "string"]],
                        ["name": "limit", "in": "query", "schema": ["type": "integer", "minimum": 1, "maximum": 10000, "default": 100]],
                        ["name": "offset", "in": "query", "schema": ["type": "integer", "minimum": 0, "default": 0]],
                    ],
                    limited: true,
                    responses: ["200": ok("a page of checks", ["application/json": ref("CheckList")]),
                                "400": responseRef("BadRequest"), "500": responseRef("ServerError")]),
            ],
            "/v1/checks/{id}": ["get": operation(
                "getCheck", "Checks", "A stored check, byte for byte as first returned",
                parameters: [["name": "id", "in": "path", "required": true, "schema": ["type": "string"]]],
                limited: true,
                responses: ["200": ok("the check result", ["application/json": ref("CheckResult")]),
                            "404": responseRef("NotFound"), "500": responseRef("ServerError")])],
            "/v1/checks/{id}/report": ["get": operation(
                "getCheckReport", "Checks", "The 合规性分析报告 of a check: verdict, map and tables (prints well)",
                parameters: [["name": "id", "in": "path", "required": true, "schema": ["type": "string"]]],
                limited: true,
                responses: ["200": ok("the report", ["text/html": html]), "404": responseRef("NotFound"), "500": responseRef("ServerError")])],
            "/v1/checks/{id}/rerun": ["post": operation(
                "rerunCheck", "Checks", "The recorded site checked again against the current layer versions, as a new record, with what changed",
                parameters: [["name": "id", "in": "path", "required": true, "schema": ["type": "string"]]],
                role: "approver", limited: true,
                responses: ["201": ok("the new check result with its changes", ["application/json": ref("CheckResult")]),
                            "404": responseRef("NotFound"), "413": responseRef("TooLarge"), "429": responseRef("TooManyRequests"),
                            "500": responseRef("ServerError")])],
            "/v1/checks/{id}/geojson": ["get": operation(
                "getCheckGeoJSON", "Checks", "The site, the conflicting features and the overlap pieces of a check, for QGIS",
                parameters: [["name": "id", "in": "path", "required": true, "schema": ["type": "string"]]],
                limited: true,
                responses: ["200": ok("a FeatureCollection", ["application/geo+json": ref("GeoJSONObject")]),
                            "404": responseRef("NotFound"), "500": responseRef("ServerError")])],
            "/v1/layers": ["get": operation(
                "listLayers", "Features", "The public layers with titles, versions, counts, extents and rules (for the viewer)",
                responses: ["200": ok("the layers", ["application/json": ["type": "array", "items": ref("Layer")]]), "500": responseRef("ServerError")])],
            "/viewer": ["get": operation("getViewer", "Service", "The one-map web viewer (一张图)",
                                         responses: ["200": ok("the page", ["text/html": html]), "404": responseRef("NotFound")])],
            "/viewer/{file}": ["get": operation(
                "getViewerFile", "Service", "A file of the viewer (index.html, app.js, app.css)",
                parameters: [["name": "file", "in": "path", "required": true, "schema": ["type": "string"]]],
                responses: ["200": ok("the file", ["text/html": html, "text/javascript": html, "text/css": html]), "404": responseRef("NotFound")])],
            "/static/maplibre/{file}": ["get": operation(
                "getMapLibre", "Service", "MapLibre GL JS, served locally (maplibre-gl.js, maplibre-gl.css)",
                parameters: [["name": "file", "in": "path", "required": true, "schema": ["type": "string"]]],
                responses: ["200": ok("the file", ["text/javascript": html, "text/css": html]), "404": responseRef("NotFound"),
                            "503": ok("MapLibre has not been unpacked (make vendor)", ["application/json": ref("Error")])])],
            "/v1/ledger": ["get": operation(
                "getLedger", "Ledger", "The natural-resources ledger (一本账): areas per layer and administrative unit",
                parameters: [
                    ["name": "layers", "in": "query", "description": "only these layers, comma-separated", "schema": layerList],
                    ["name": "by", "in": "query", "description": "the administrative level to group by (default county)", "schema": ["type": "string", "minLength": 1, "default": "county"]],
                ],
                limited: true,
                responses: ["200": ok("the ledger", ["application/json": ["type": "object"]]), "400": responseRef("BadRequest"),
                            "404": responseRef("NotFound"), "422": responseRef("Unprocessable"), "500": responseRef("ServerError")])],
            "/v1/audit": ["get": operation(
                "getAudit", "Ledger", "The cross-layer conflict audit (三线矛盾图斑): overlaps between layers that must not overlap",
                parameters: [
                    ["name": "pairs", "in": "query", "description": "layer pairs a:b, comma-separated (default: the standard pairs)",
                     "schema": ["type": "string", "pattern": "^[a-z0-9_]+:[a-z0-9_]+(,[a-z0-9_]+:[a-z0-9_]+)*$"]],
                    ["name": "minArea", "in": "query", "description": "smallest overlap reported, m² (default 1)", "schema": ["type": "number", "minimum": 0]],
                    ["name": "format", "in": "query", "schema": ["type": "string", "enum": ["json", "geojson"], "default": "json"]],
                ],
                limited: true,
                responses: ["200": ok("the overlaps", ["application/json": ["type": "object"], "application/geo+json": ref("GeoJSONObject")]),
                            "400": responseRef("BadRequest"), "404": responseRef("NotFound"), "422": responseRef("Unprocessable"), "500": responseRef("ServerError")])],
            "/v1/layers/{name}/versions": ["get": operation(
                "getLayerVersions", "Ledger", "Every loaded version of a public layer",
                parameters: [["name": "name", "in": "path", "required": true, "schema": ["type": "string"]]],
                responses: ["200": ok("the versions", ["application/json": ["type": "array", "items": ["type": "object"]]]),
                            "404": responseRef("NotFound"), "500": responseRef("ServerError")])],
            "/v1/layers/{name}/diff": ["get": operation(
                "getLayerDiff", "Ledger", "What changed between two versions of a public layer (default: the last two)",
                parameters: [
                    ["name": "name", "in": "path", "required": true, "schema": ["type": "string"]],
                    ["name": "from", "in": "query", "description": "version number or label", "schema": ["type": "string"]],
                    ["name": "to", "in": "query", "description": "version number or label", "schema": ["type": "string"]],
                ],
                limited: true,
                responses: ["200": ok("the change summary", ["application/json": ["type": "object"]]), "400": responseRef("BadRequest"),
                            "404": responseRef("NotFound"), "422": responseRef("Unprocessable"), "500": responseRef("ServerError")])],
            "/health": ["get": operation("health", "Service", "Liveness",
                                         responses: ["200": ok("alive", ["application/json": ref("Health")])])],
            "/ready": ["get": operation("ready", "Service", "Readiness: the database answers a read",
                                        responses: ["200": ok("ready", ["application/json": ref("Ready")]), "503": responseRef("Unavailable")])],
            "/metrics": ["get": operation("metrics", "Service", "Prometheus metrics: requests and latency per route, tile cache, check durations, layer versions, work slots",
                                          responses: ["200": ok("the metrics in Prometheus's text format 0.0.4", ["text/plain": ["type": "string"]])])],
            "/v1/keys": [
                "get": operation("listKeys", "Service", "The API keys, without their secrets", role: "admin",
                                 responses: ["200": ok("the keys", ["application/json": ["type": "array", "items": ref("Key")]])]),
                "post": operation("createKey", "Service", "A new API key; its secret is shown once", body: [
                    "required": true,
                    "content": ["application/json": ["schema": [
                        "type": "object", "required": ["role"], "additionalProperties": false,
                        "properties": ["role": ["type": "string", "enum": ["viewer", "approver", "admin"]], "name": ["type": "string"]],
                    ] as [String: Any]]],
                ] as [String: Any], role: "admin",
                                  responses: ["201": ok("the key and its secret", ["application/json": ref("Key")]), "400": responseRef("BadRequest"),
                                              "409": responseRef("Conflict"), "413": responseRef("TooLarge"), "422": responseRef("Unprocessable")]),
            ],
            "/v1/keys/{key}": ["delete": operation(
                "revokeKey", "Service", "Revokes a key, by id or name",
                parameters: [["name": "key", "in": "path", "required": true, "schema": ["type": "string"]]], role: "admin",
                responses: ["200": ok("the revoked key", ["application/json": ref("Key")]), "404": responseRef("NotFound"),
                            "409": responseRef("Conflict")])],
            "/v1/layers/{name}/reload": ["post": operation(
                "reloadLayer", "Ledger", "Loads a layer again from its catalog file, as a new version",
                parameters: [["name": "name", "in": "path", "required": true, "schema": ["type": "string"]],
                             ["name": "version", "in": "query", "description": "the label of the new version (default: the load time)", "schema": ["type": "string"]]],
                role: "admin", limited: true,
                responses: ["201": ok("the import report", ["application/json": ["type": "object"]]), "404": responseRef("NotFound"),
                            "409": responseRef("Conflict"), "422": responseRef("Unprocessable"), "500": responseRef("ServerError")])],
            "/tiles/{layer}/{z}/{x}/{y}.mvt": ["get": operation("getTile", "Tiles", "A vector tile of one layer (or several, comma-separated) in Web Mercator (EPSG:3857)",
                                                              parameters: [tileLayersPath] + tileParameters, limited: true, responses: tileResponses)],
            "/tiles/{layer}/{z}/{x}/{y}.pbf": ["get": operation("getTilePBF", "Tiles", "The same tile with the .pbf suffix",
                                                              parameters: [tileLayersPath] + tileParameters, limited: true, responses: tileResponses)],
            "/tiles/onemap/{z}/{x}/{y}.mvt": ["get": operation("getOneMapTile", "Tiles", "A composite tile of every public layer",
                                                             parameters: tileParameters, limited: true, responses: tileResponses)],
            "/tiles/{layer}.json": ["get": operation("getTileJSON", "Tiles", "TileJSON of a layer (Web Mercator tiles)",
                                                   parameters: [layerPath], responses: tileJSONResponses)],
            "/tiles/onemap.json": ["get": operation("getOneMapTileJSON", "Tiles", "TileJSON of the composite of every public layer",
                                                  responses: tileJSONResponses)],
            "/tiles/4490/{layer}/{z}/{x}/{y}.mvt": ["get": operation("getTile4490", "Tiles", "A vector tile in the CGCS2000 geographic tile matrix set (EPSG:4490, as 天地图)",
                                                                   parameters: [tileLayersPath] + tileParameters, limited: true, responses: tileResponses)],
            "/tiles/4490/{layer}.json": ["get": operation("getTileJSON4490", "Tiles", "TileJSON of a layer in the CGCS2000 geographic grid",
                                                        parameters: [layerPath], responses: tileJSONResponses)],
            "/styles/{name}.json": ["get": operation(
                "getStyle", "Styles", "A MapLibre style (one per layer, and onemap for all), with sources pointing at this host",
                parameters: [["name": "name", "in": "path", "required": true, "schema": ["type": "string", "pattern": "^[a-z0-9_]+$"]]],
                responses: ["200": ok("the style", ["application/json": ref("Style")]), "400": responseRef("BadRequest"),
                            "404": responseRef("NotFound"), "500": responseRef("ServerError")])],
        ]
    }

    // MARK: Components

    static var components: [String: Any] {
        ["parameters": parameters, "responses": responses, "schemas": schemas,
         "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer",
                                        "description": "an API key made by `onemap keys create --role viewer|approver|admin` or POST /v1/keys"]]]
    }

    static var parameters: [String: Any] {
        let crsSchema: [String: Any] = ["type": "string", "format": "uri", "enum": FeatureCRS.supported.map(\.uri)]
        let crsList = "one of http://www.opengis.net/def/crs/OGC/1.3/CRS84 (default, lon/lat), http://www.opengis.net/def/crs/EPSG/0/4490 (storage, lat/lon), .../EPSG/0/4326 (lat/lon), .../EPSG/0/3857, .../EPSG/0/4528 and .../EPSG/0/4549 (northing, easting)"
        return [
            "f": ["name": "f", "in": "query", "description": "the representation: json or html (else the Accept header decides)",
                  "schema": ["type": "string", "enum": ["json", "html"]]],
            "collectionId": ["name": "collectionId", "in": "path", "required": true, "description": "a public layer name", "schema": ["type": "string"]],
            "featureId": ["name": "featureId", "in": "path", "required": true, "description": "the value of the layer's id field", "schema": ["type": "string"]],
            "bbox": ["name": "bbox", "in": "query", "style": "form", "explode": false,
                     "description": "lower corner then upper corner, in the axis order of bbox-crs (CRS84: minLon,minLat,maxLon,maxLat); features whose geometry intersects it",
                     "schema": ["type": "array", "minItems": 4, "maxItems": 6, "items": ["type": "number"]]],
            "bbox-crs": ["name": "bbox-crs", "in": "query", "description": "the CRS of bbox (EPSG:n is accepted too): \(crsList)", "schema": crsSchema],
            "crs": ["name": "crs", "in": "query", "description": "the CRS of the returned coordinates (Content-Crs says which; EPSG:n is accepted too): \(crsList)",
                    "schema": crsSchema],
            "limit": ["name": "limit", "in": "query", "style": "form", "explode": false, "description": "features per page",
                      "schema": ["type": "integer", "minimum": 1, "maximum": 10000, "default": 10]],
            "offset": ["name": "offset", "in": "query", "description": "features to skip (the next and prev links carry it)",
                       "schema": ["type": "integer", "minimum": 0, "maximum": 2147483647, "default": 0]],
            "properties": ["name": "properties", "in": "query", "style": "form", "explode": false,
                           "description": "the properties to return, comma-separated", "schema": ["type": "array", "items": ["type": "string"]]],
            "sortby": ["name": "sortby", "in": "query", "style": "form", "explode": false,
                       "description": "properties to sort by, comma-separated, each with an optional + (ascending) or - (descending)",
                       "schema": ["type": "array", "items": ["type": "string", "pattern": "^[+-]?[^,]+$"]]],
            "filter": ["name": "filter", "in": "query",
                       "description": "a CQL2 text filter: comparisons, AND/OR/NOT, LIKE, IN, BETWEEN, IS NULL, DATE/TIMESTAMP literals, S_INTERSECTS/S_DISJOINT/S_WITHIN/S_CONTAINS/S_EQUALS with WKT or BBOX(...) on the property 'geometry'",
                       "schema": ["type": "string", "minLength": 1]],
            "filter-lang": ["name": "filter-lang", "in": "query", "description": "the filter language", "schema": ["type": "string", "enum": ["cql2-text"], "default": "cql2-text"]],
            "filter-crs": ["name": "filter-crs", "in": "query", "description": "the CRS of geometry literals in the filter (EPSG:n is accepted too): \(crsList)", "schema": crsSchema],
            "datetime": ["name": "datetime", "in": "query", "description": "an RFC 3339 instant or interval; the layers carry no time, so every feature matches a valid one",
                         "schema": ["type": "string", "minLength": 1]],
            "propertyFilters": ["name": "propertyFilters", "in": "query", "style": "form", "explode": true,
                                "description": "equality filters on properties, e.g. DLBM=0101 (see the queryables); any other name is a 400",
                                "schema": ["type": "object", "additionalProperties": ["type": "string"]]],
        ]
    }

    static var responses: [String: Any] {
        [
            "OGCBadRequest": ok("a parameter is invalid (bad bbox, unknown CRS, malformed CQL2, unknown property, limit out of range)", ["application/json": ref("Exception")]),
            "OGCNotFound": ok("no such collection or feature", ["application/json": ref("Exception")]),
            "BadRequest": ok("the request is malformed", ["application/json": ref("Error")]),
            "NotFound": ok("no such resource, or a layer the caller may not see (answered alike)", ["application/json": ref("Error")]),
            "Conflict": ok("it exists already (a key name, a version label) or was already done (a revoked key)", ["application/json": ref("Error")]),
            "Unauthorized": [
                "description": "a key is needed and none was sent, or the Authorization header holds a bad, unknown or revoked key",
                "headers": ["WWW-Authenticate": ["description": "Bearer realm=\"OneMap\"", "schema": ["type": "string"]]],
                "content": content(["application/json": ref("Error")]),
            ] as [String: Any],
            "Forbidden": ok("the key's role is too low for this", ["application/json": ref("Error")]),
            "Unavailable": retryLater("the server is busy (every work slot taken and the queue full), the request ran past its time limit, or the database is not ready"),
            "TooLarge": ok("the body or the site is too large, or the check's answer passes the server's cap (--max-answer; nothing is stored)", ["application/json": ref("Error")]),
            "TooManyRequests": retryLater("anonymous checks under --open past the client's rate (--open-rate)"),
            "Unprocessable": ok("the input is invalid (a site's unclosed ring, coordinates out of range, zone mismatch, a CRS that is not an EPSG code; a key name or version label out of form)", ["application/json": ref("Error")]),
            "ServerError": ok("an unexpected error, logged by the server", ["application/json": ["oneOf": [ref("Error"), ref("Exception")]]]),
        ]
    }

    static var schemas: [String: Any] {
        let string: [String: Any] = ["type": "string"]
        let number: [String: Any] = ["type": "number"]
        let integer: [String: Any] = ["type": "integer"]
        let links: [String: Any] = ["type": "array", "items": ref("Link")]
        let bbox: [String: Any] = ["type": "array", "minItems": 4, "maxItems": 4, "items": number]
        return [
            "Error": ["type": "object", "required": ["error", "detail"],
                      "properties": ["error": string, "detail": string]],
            "Exception": ["type": "object", "required": ["code"],
                          "properties": ["code": string, "description": string]],
            "Link": ["type": "object", "required": ["href", "rel"],
                     "properties": ["href": string, "rel": string, "type": string, "title": string]],
            "LandingPage": ["type": "object", "required": ["links"],
                            "properties": ["title": string, "description": string, "links": links]],
            "Conformance": ["type": "object", "required": ["conformsTo"],
                            "properties": ["conformsTo": ["type": "array", "items": string], "links": links]],
            "Collection": [
                "type": "object", "required": ["id", "links"],
                "properties": [
                    "id": string, "title": string, "description": string, "links": links,
                    "itemType": string,
                    "crs": ["type": "array", "items": string], "storageCrs": string,
                    "extent": ["type": "object", "properties": [
                        "spatial": ["type": "object", "properties": ["bbox": ["type": "array", "items": bbox], "crs": string]],
                    ]],
                ] as [String: Any],
            ],
            "Collections": ["type": "object", "required": ["links", "collections"],
                            "properties": ["links": links, "collections": ["type": "array", "items": ref("Collection")]]],
            "Queryables": ["type": "object", "required": ["type", "properties"],
                           "properties": ["$schema": string, "$id": string, "type": string, "title": string,
                                          "properties": ["type": "object"], "additionalProperties": ["type": "boolean"]]],
            "Geometry": [
                "type": "object", "required": ["type"], "nullable": true,
                "description": "a GeoJSON geometry, in the axis order of the response CRS",
                "properties": [
                    "type": ["type": "string", "enum": ["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"]],
                    "coordinates": ["type": "array", "items": [:] as [String: Any]],
                    "geometries": ["type": "array", "items": ["type": "object"]],
                ] as [String: Any],
            ],
            "Feature": [
                "type": "object", "required": ["type", "geometry", "properties"],
                "properties": [
                    "type": ["type": "string", "enum": ["Feature"]],
                    "id": ["oneOf": [string, integer]],
                    "geometry": ref("Geometry"),
                    "properties": ["type": "object", "nullable": true],
                    "links": links,
                ] as [String: Any],
            ],
            "FeatureCollection": [
                "type": "object", "required": ["type", "features"],
                "properties": [
                    "type": ["type": "string", "enum": ["FeatureCollection"]],
                    "features": ["type": "array", "items": ref("Feature")],
                    "links": links,
                    "timeStamp": ["type": "string", "format": "date-time"],
                    "numberMatched": ["type": "integer", "minimum": 0],
                    "numberReturned": ["type": "integer", "minimum": 0],
                ] as [String: Any],
            ],
            "IdentifyResult": [
                "type": "object", "required": ["type", "features"],
                "properties": [
                    "type": ["type": "string", "enum": ["FeatureCollection"]],
                    "point": ["type": "array", "items": number, "minItems": 2, "maxItems": 2],
                    "numberReturned": integer,
                    "features": ["type": "array", "items": [
                        "type": "object", "required": ["type", "id", "layer", "properties"],
                        "properties": [
                            "type": ["type": "string", "enum": ["Feature"]], "id": string, "layer": string, "layerTitle": string,
                            "distanceM": number, "areaM2": number, "geometry": ref("Geometry"), "properties": ["type": "object"],
                        ] as [String: Any],
                    ] as [String: Any]],
                ] as [String: Any],
            ],
            "GeoJSONObject": ["type": "object", "required": ["type"], "description": "a GeoJSON Geometry, Feature or FeatureCollection (a legacy crs member is honoured)",
                              "properties": ["type": string]],
            "CheckRequest": [
                "type": "object", "additionalProperties": false,
                "description": "exactly one of geometry, feature or txt",
                "properties": [
                    "projectCode": string, "projectName": string,
                    "crs": ["description": "the CRS of geometry or feature when they carry none, e.g. EPSG:4528, or a legacy GeoJSON crs object; not with txt",
                            "oneOf": [string, ["type": "object"]]] as [String: Any],
                    "geometry": ref("GeoJSONObject"), "feature": ref("GeoJSONObject"),
                    "txt": ["type": "string", "description": "a 部标准格式 coordinate TXT"],
                ] as [String: Any],
            ],
            "CheckResult": [
                "type": "object", "required": ["verdict", "site", "layers"],
                "properties": [
                    "id": string, "createdAt": string, "projectCode": string, "projectName": string,
                    "verdict": ["type": "string", "enum": ["clear", "notice", "restricted", "forbidden"]],
                    "site": ["type": "object", "properties": ["areaM2": number, "areaMu": number, "areaHa": number, "bbox": bbox]],
                    "layers": ["type": "array", "items": [
                        "type": "object",
                        "properties": [
                            "layer": string, "title": string, "version": integer, "versionLabel": string,
                            "severity": string, "conflict": ["type": "boolean"],
                            "overlapAreaM2": number, "overlapRatio": number, "outsideAreaM2": number,
                            "features": ["type": "array", "items": [
                                "type": "object",
                                "properties": ["id": string, "severity": string, "overlapAreaM2": number, "minDistanceM": number,
                                               "lengthM": number, "properties": ["type": "object"]] as [String: Any],
                            ] as [String: Any]],
                        ] as [String: Any],
                    ] as [String: Any]],
                    "warnings": ["type": "array", "items": [:] as [String: Any]],
                ] as [String: Any],
            ],
            "CheckList": [
                "type": "object", "required": ["items", "total", "limit", "offset"],
                "properties": [
                    "items": ["type": "array", "items": [
                        "type": "object", "required": ["id", "createdAt", "verdict"],
                        "properties": ["id": string, "createdAt": string, "verdict": string, "projectCode": string,
                                       "projectName": string, "links": links] as [String: Any],
                    ] as [String: Any]],
                    "total": integer, "limit": integer, "offset": integer,
                ] as [String: Any],
            ],
            "Layer": [
                "type": "object", "required": ["name", "title"],
                "properties": [
                    "name": string, "title": string, "kind": string, "geometryType": string, "count": integer,
                    "version": string, "versionNumber": integer, "loadedAt": string, "bbox": bbox,
                    "rule": ["type": "object", "properties": [
                        "severity": string, "when": string, "bufferM": number, "summary": string,
                        "byField": ["type": "object", "properties": [
                            "field": string, "values": ["type": "object", "additionalProperties": string], "otherwise": string,
                        ] as [String: Any]],
                    ] as [String: Any]],
                ] as [String: Any],
            ],
            "Health": ["type": "object", "required": ["status"], "properties": ["status": string]],
            "Key": ["type": "object", "required": ["id", "name", "role", "prefix", "createdAt"],
                    "properties": ["id": integer, "name": string, "role": ["type": "string", "enum": ["viewer", "approver", "admin"]], "prefix": string,
                                   "createdAt": string, "revokedAt": string, "secret": ["type": "string", "description": "only when the key is created"]] as [String: Any]],
            "Ready": ["type": "object", "required": ["status"], "properties": ["status": string, "layers": integer]],
            "TileJSON": [
                "type": "object", "required": ["tilejson", "tiles"],
                "properties": [
                    "tilejson": string, "name": string, "tiles": ["type": "array", "items": string],
                    "vector_layers": ["type": "array", "items": ["type": "object"]],
                    "bounds": ["type": "array", "items": number], "center": ["type": "array", "items": number],
                    "minzoom": integer, "maxzoom": integer,
                ] as [String: Any],
            ],
            "Style": ["type": "object", "required": ["version", "sources", "layers"],
                      "properties": ["version": integer, "name": string, "sources": ["type": "object"],
                                     "layers": ["type": "array", "items": ["type": "object"]]] as [String: Any]],
        ]
    }
}

import Conflicts
import Foundation
import GeoCore
import Hummingbird
import LayerStore

/// The conflict-check API the approval system (工程建设项目审批) calls:
/// POST a site, get the verdict; read any past check and its report.
struct CheckRoutes {
    let store: Store
    let configuration: ServerConfiguration
    let checker: ConflictChecker
    let records: CheckRecords

    init(store: Store, configuration: ServerConfiguration) {
        self.store = store
        self.configuration = configuration
        checker = ConflictChecker(store: store)
        records = CheckRecords(store: store)
    }

    func register(on group: RouterGroup<BasicRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get(":id", use: get)
        group.get(":id/report", use: report)
        group.get(":id/geojson", use: geojson)
        group.post(":id/rerun", use: rerun)
    }

    /// What the caller sent: the site, where it came from, and the project it is for.
    struct Submission {
        var site: Site
        var format: SiteReader.Format
        var projectCode: String?
        var projectName: String?
    }

    @Sendable func create(request: Request, context: BasicRequestContext) async throws -> Response {
        guard configuration.open else {
            throw APIError(.unauthorized, "approver key required",
                           "posting checks needs an approver key; this server was started without --open")
        }
        let body = try await request.body.collect(upTo: configuration.limits.maxBodyBytes)
        let data = Data(buffer: body)
        guard !data.isEmpty else { throw APIError(.badRequest, "empty body", "send GeoJSON, a 部标 TXT, or {\"geometry\": …}") }
        let limits = SiteLimits(maxVertices: configuration.limits.maxSiteVertices)
        let submission = try parse(data, contentType: request.headers[.contentType] ?? "", crs: request.uri.queryParameters["crs"].map(String.init), limits: limits)
        let layers = request.uri.queryParameters["layers"].map { $0.split(separator: ",").map { String($0) } }
        let checker = self.checker
        let site = submission.site
        let outcome = try await store.pool.read { db in try checker.check(site, layers: layers, db: db) }
        let record = try records.save(outcome, request: .init(
            projectCode: submission.projectCode, projectName: submission.projectName,
            keyName: "anonymous (--open)", inputFormat: submission.format.rawValue, input: data))
        return Response.json(record.result, status: .created, headers: [.location: "/v1/checks/\(record.summary.id)"])
    }

    /// Accepts `{"projectCode", "projectName", "geometry" | "feature" | "txt"}`, raw GeoJSON,
    /// or a 部标 TXT (text/plain, UTF-8 or GBK).
    func parse(_ data: Data, contentType: String, crs: String?, limits: SiteLimits) throws -> Submission {
        let first = data.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        guard first == UInt8(ascii: "{") else {
            let (site, format) = try SiteReader.read(data, crs: crs, limits: limits)
            return Submission(site: site, format: format)
        }
        let json: Any
        do { json = try GeoJSON.parseJSON(data) } catch { throw SiteError(.malformed, "\(error)") }
        guard let object = json as? [String: Any] else { throw SiteError(.malformed, "expected a JSON object") }
        if object["type"] != nil {
            return Submission(site: try SiteReader.geoJSON(json: object, limits: limits), format: .geoJSON)
        }
        let allowed: Set<String> = ["projectCode", "projectName", "geometry", "feature", "txt", "crs"]
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError(.badRequest, "unknown key", "key '\(unknown)' is not one of: \(allowed.sorted().joined(separator: ", "))")
        }
        func text(_ key: String) throws -> String? {
            guard let v = object[key], !(v is NSNull) else { return nil }
            guard let s = v as? String else { throw APIError(.badRequest, "bad value", "key '\(key)' must be a string") }
            return s
        }
        let code = try text("projectCode"), name = try text("projectName")
        let sources = ["geometry", "feature", "txt"].filter { object[$0] != nil }
        guard sources.count == 1 else {
            throw APIError(.badRequest, "no site", "give exactly one of 'geometry', 'feature' or 'txt'" + (sources.isEmpty ? "" : "; found \(sources.joined(separator: ", "))"))
        }
        if let txt = try text("txt") {
            return Submission(site: try SurveyTXT.read(text: txt, limits: limits), format: .txt, projectCode: code, projectName: name)
        }
        guard let geo = object[sources[0]] as? [String: Any] else {
            throw APIError(.badRequest, "bad value", "key '\(sources[0])' must be a GeoJSON object")
        }
        do {
            return Submission(site: try SiteReader.geoJSON(json: geo, limits: limits), format: .geoJSON, projectCode: code, projectName: name)
        } catch let e as SiteError {
            throw SiteError(e.kind, "\(sources[0]): \(e.message)")
        }
    }

    @Sendable func get(request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let record = try records.get(id) else { throw APIError.notFound("no check '\(id)'") }
        return Response.json(record.result)
    }

    @Sendable func report(request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let record = try records.get(id) else { throw APIError.notFound("no check '\(id)'") }
        let result = try JSONDecoder().decode(CheckResult.self, from: record.result)
        let html = try CheckReport.html(result: result, geojson: record.geojson)
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// Checks a recorded site again against the current layer versions, as a new record, and
    /// says what changed since: versions, verdict, and the conflicting features per layer.
    @Sendable func rerun(request: Request, context: BasicRequestContext) async throws -> Response {
        guard configuration.open else {
            throw APIError(.unauthorized, "approver key required", "rerunning a check needs an approver key; this server was started without --open")
        }
        let id = try context.parameters.require("id")
        guard let original = try records.get(id) else { throw APIError.notFound("no check '\(id)'") }
        let site = try SiteReader.geoJSON(Data(original.site.utf8), limits: SiteLimits(maxVertices: .max))
        let checker = self.checker
        let outcome = try await store.pool.read { db in try checker.check(site, layers: nil, db: db) }
        let before = try JSONDecoder().decode(CheckResult.self, from: original.result)
        let record = try records.save(outcome, request: .init(
            projectCode: original.summary.projectCode, projectName: original.summary.projectName,
            keyName: "anonymous (--open)", inputFormat: "rerun:\(id)", input: original.input))
        var body = try JSONSerialization.jsonObject(with: record.result) as? [String: Any] ?? [:]
        var versions: [String: Any] = [:]
        for (layer, now) in outcome.versions where original.versions[layer] != now {
            versions[layer] = ["from": original.versions[layer]?.label ?? NSNull(), "to": now.label]
        }
        var layers: [[String: Any]] = []
        for after in outcome.result.layers {
            let old = before.layers.first { $0.layer == after.layer }
            let oldIDs = Set(old?.features.map(\.id) ?? []), newIDs = Set(after.features.map(\.id))
            guard oldIDs != newIDs || old?.conflict != after.conflict else { continue }
            layers.append(["layer": after.layer, "conflictBefore": old?.conflict ?? false, "conflictAfter": after.conflict,
                           "added": newIDs.subtracting(oldIDs).sorted(), "removed": oldIDs.subtracting(newIDs).sorted()])
        }
        body["changes"] = ["of": id, "verdictBefore": before.verdict.rawValue, "verdictAfter": outcome.result.verdict.rawValue,
                           "versions": versions, "layers": layers]
        return try Response.json(object: body, status: .created)
    }

    /// The site, the conflicting features and the overlap pieces, as stored with the record.
    @Sendable func geojson(request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let record = try records.get(id) else { throw APIError.notFound("no check '\(id)'") }
        return Response(status: .ok, headers: [.contentType: "application/geo+json"], body: .init(byteBuffer: ByteBuffer(bytes: record.geojson)))
    }

    @Sendable func list(request: Request, context: BasicRequestContext) async throws -> Response {
        let q = request.uri.queryParameters
        let limit = try Self.integer(q["limit"].map(String.init), name: "limit", default: 100, range: 1...configuration.limits.maxPageSize)
        let offset = try Self.integer(q["offset"].map(String.init), name: "offset", default: 0, range: 0...Int.max)
        let (items, total) = try records.list(projectCode: q["projectCode"].map(String.init), limit: limit, offset: offset)
        let body: [String: Any] = [
            "items": items.map { s -> [String: Any] in
                var o: [String: Any] = ["id": s.id, "createdAt": s.createdAt, "verdict": s.verdict,
                                        "links": [["rel": "self", "href": "/v1/checks/\(s.id)"], ["rel": "report", "href": "/v1/checks/\(s.id)/report"]]]
                if let c = s.projectCode { o["projectCode"] = c }
                if let n = s.projectName { o["projectName"] = n }
                return o
            },
            "total": total, "limit": limit, "offset": offset,
        ]
        return try Response.json(object: body)
    }

    static func integer(_ raw: String?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw else { return value }
        guard let n = Int(raw), range.contains(n) else {
            throw APIError(.badRequest, "bad parameter", "\(name)=\(raw) must be a whole number in \(range.lowerBound)…\(range.upperBound == Int.max ? "" : String(range.upperBound))")
        }
        return n
    }
}

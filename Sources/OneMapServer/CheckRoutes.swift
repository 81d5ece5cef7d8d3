import Conflicts
import Features
import Foundation
import GeoCore
import Hummingbird
import LayerStore
import Synchronization

/// The conflict-check API the approval system (工程建设项目审批) calls:
/// POST a site, get the verdict; read any past check and its report.
struct CheckRoutes {
    let server: ServerContext
    let checker: ConflictChecker
    let records: CheckRecords
    var store: Store { server.store }
    var configuration: ServerConfiguration { server.configuration }

    init(server: ServerContext) {
        self.server = server
        records = server.records
        checker = records.checker
    }

    /// Reads the site, checks it and records the check as expensive work (see `expensive`),
    /// all on one Dispatch thread: parsing, checking and storing cost one hop off the
    /// cooperative pool, not three. The check's duration goes to /metrics. Without pieces:
    /// the record's geometry is drawn after the answer is given. The site's text for the
    /// record is written on another thread meanwhile: it needs only the site, and for a
    /// corridor of a thousand vertices it is a good part of a millisecond.
    ///
    /// The answer goes out only once the record is on disk. A pruning that drops a version
    /// the check read, between the check and the record, would leave its geometry
    /// undrawable: the check is then made again (in a slot again) on what is there now.
    func checkAndRecord<Input: Sendable>(
        _ read: @escaping @Sendable () throws -> Input, site: @escaping @Sendable (Input) -> Site,
        layers: [String]?, scope: DataScope? = nil, request: @escaping @Sendable (Input) -> CheckRecords.Request
    )
        async throws -> (Input, CheckOutcome, CheckRecords.Record)
    {
        let (checker, store, metrics, records, sites) = (self.checker, server.store, server.metrics, self.records, server.siteScope)
        let parsed = Mutex<Input?>(nil)
        var read = read
        for attempt in 1...3 {
            do {
                return try await server.expensive("check") { [read] settle in
                    let input = try read()
                    parsed.withLock { $0 = input }
                    let checked = site(input)
                    let siteText = Beside { CheckRecords.siteText(checked) }
                    let clock = ContinuousClock(), started = clock.now
                    let outcome = try store.snapshot { db in
                        // A scoped caller's site, against the boundaries of the versions this check reads.
                        if let scope, let why = try sites.refusal(checked, scope: scope, db: db) {
                            throw Problem(.forbidden, "site outside scope", why)
                        }
                        return try checker.check(checked, layers: layers, db: db, keepPieces: false)
                    }
                    metrics.check(verdict: outcome.result.verdict.rawValue, duration: clock.now - started)
                    let text = siteText.value()
                    try settle()
                    let record = try records.save(withoutGeometry: outcome, siteText: text, request: request(input))
                    return (input, outcome, record)
                }
            } catch is CheckRecords.VersionsGone where attempt < 3 {
                if let input = parsed.withLock({ $0 }) { read = { input } }
            }
        }
        throw Problem(.serviceUnavailable, "layers changing", "the layers were reloaded and pruned while checking, three times; try again")
    }

    /// Anonymous checks under `--open` count against the client's rate; keys are not limited.
    func admitAnonymous(_ request: Request, _ context: OneMapRequestContext) throws {
        guard let rate = server.openRate, context.caller.role == nil else { return }
        try rate.take(server.proxy.client(request, peer: context.remoteAddress), now: server.openRateClock())
    }

    func register(on group: RouterGroup<OneMapRequestContext>) {
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

    @Sendable func create(request: Request, context: OneMapRequestContext) async throws -> Response {
        try context.require(.planner, to: "posting a check", unless: configuration.open)
        try admitAnonymous(request, context)
        let body = try await request.body.collect(upTo: configuration.limits.maxBodyBytes)
        let data = Data(buffer: body)
        guard !data.isEmpty else { throw Problem.badBody("empty body", "send GeoJSON, a 部标 TXT, or {\"geometry\": …}") }
        let limits = SiteLimits(maxVertices: configuration.limits.maxSiteVertices)
        let contentType = request.headers[.contentType] ?? "", crs = request.uri.queryParameters["crs"].map(String.init)
        let layers = try Self.layerList(request.uri.queryParameters["layers"].map(String.init))
        let routes = self, keyName = Self.recordedName(context.caller)
        // The 201 goes out only once the record is on disk (fsync).
        let (_, _, record) = try await checkAndRecord(
            { try routes.parse(data, contentType: contentType, crs: crs, limits: limits) },
            site: \.site, layers: layers, scope: context.caller.scope
        ) { submission in
            .init(
                projectCode: submission.projectCode, projectName: submission.projectName,
                keyName: keyName, inputFormat: submission.format.rawValue, input: data)
        }
        return Response.json(record.result, status: .created, headers: [.location: "/v1/checks/\(record.summary.id)"])
    }

    /// A stored record (up to the answer cap, plus the input): expensive work. Its geometry
    /// only if asked for, since it may still have to be drawn.
    func read(_ id: String, geometry: Bool) async throws -> CheckRecords.Record {
        let records = self.records
        return try await server.expensive(
            "record read",
            blocking: {
                guard let record = try records.get(id, geometry: geometry) else { throw Problem.notFound("no check '\(id)'") }
                return record
            })
    }

    /// `layers=a,b`: nil when absent (every layer). An empty list or name is refused: checking
    /// no layer would answer "clear" for a site on farmland.
    static func layerList(_ raw: String?) throws -> [String]? {
        guard let raw else { return nil }
        let names = raw.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard names.allSatisfy({ !$0.isEmpty }) else {
            throw Problem(
                .badRequest, "bad parameter", "layers='\(raw.prefix(80))' must name layers, comma-separated; leave it out for every layer")
        }
        return names
    }

    /// The name every record carries (全留痕): the key's, or what let an anonymous caller in.
    static func recordedName(_ caller: Caller) -> String { caller.keyName ?? "anonymous (--open)" }

    /// Records name restricted layers' features, so reading them needs a viewer key.
    func requireReader(_ context: OneMapRequestContext) throws {
        try context.require(.viewer, to: "reading check records", unless: configuration.open)
    }

    /// A scoped caller reads only the records it made: its checks are of sites in its scope,
    /// and another's may not be. Any other record is, to it, not there.
    func requireOwnRecord(_ context: OneMapRequestContext, _ id: String) async throws {
        guard context.caller.scope != nil else { return }
        let owner = try await server.store.read { db in try CheckRecords.summary(id, db: db)?.keyName }
        guard let owner, owner == context.caller.keyName else { throw Problem.notFound("no check '\(id)'") }
    }

    /// Accepts `{"projectCode", "projectName", "geometry" | "feature" | "txt"}`, raw GeoJSON,
    /// or a 部标 TXT (text/plain, UTF-8 or GBK).
    func parse(_ data: Data, contentType: String, crs: String?, limits: SiteLimits) throws -> Submission {
        let first = data.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        guard first == UInt8(ascii: "{") else {
            let (site, format) = try SiteReader.read(data, crs: crs, limits: limits)
            return Submission(site: site, format: format)
        }
        // The common shapes, read straight from the bytes; anything else, and every error, below.
        if crs == nil, let fast = try SiteJSON.submission(data, limits: limits) {
            return Submission(site: fast.site, format: .geoJSON, projectCode: fast.projectCode, projectName: fast.projectName)
        }
        let json: Any
        do { json = try GeoJSON.parseJSON(data) } catch { throw SiteError(.malformed, "\(error)") }
        guard let object = json as? [String: Any] else { throw SiteError(.malformed, "expected a JSON object") }
        if object["type"] != nil {
            let project = SiteJSON.project(fromProperties: object["properties"] as? [String: Any] ?? [:])
            return Submission(
                site: try SiteReader.geoJSON(json: object, limits: limits), format: .geoJSON,
                projectCode: project.code, projectName: project.name)
        }
        let allowed: Set<String> = ["projectCode", "projectName", "geometry", "feature", "txt", "crs"]
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw Problem.badBody("unknown key", "key '\(unknown)' is not one of: \(allowed.sorted().joined(separator: ", "))")
        }
        func text(_ key: String) throws -> String? {
            guard let v = object[key], !(v is NSNull) else { return nil }
            guard let s = v as? String else { throw Problem.badBody("bad value", "key '\(key)' must be a string") }
            return s
        }
        let code = try text("projectCode"), name = try text("projectName")
        let sources = ["geometry", "feature", "txt"].filter { object[$0] != nil }
        guard sources.count == 1 else {
            throw Problem.badBody(
                "no site",
                "give exactly one of 'geometry', 'feature' or 'txt'" + (sources.isEmpty ? "" : "; found \(sources.joined(separator: ", "))")
            )
        }
        if let txt = try text("txt") {
            // A 部标 TXT names its own coordinate system (坐标系, 带号); a second one would conflict.
            if object["crs"] != nil {
                throw Problem.badBody("bad value", "key 'crs' does not apply to 'txt', which declares its own 坐标系 and 带号")
            }
            return Submission(site: try SurveyTXT.read(text: txt, limits: limits), format: .txt, projectCode: code, projectName: name)
        }
        guard var geo = object[sources[0]] as? [String: Any] else {
            throw Problem.badBody("bad value", "key '\(sources[0])' must be a GeoJSON object")
        }
        // The wrapper's crs ("EPSG:4528", or the legacy GeoJSON member) is the geometry's unless
        // the geometry carries its own; two that differ are refused rather than one picked.
        if let wrapperCRS = object["crs"] {
            let member: Any
            if let name = wrapperCRS as? String {
                member = ["type": "name", "properties": ["name": name]]
            } else if wrapperCRS is [String: Any] {
                member = wrapperCRS
            } else {
                throw Problem.badBody("bad value", "key 'crs' must be a string such as \"EPSG:4528\" or a GeoJSON crs object")
            }
            if let own = geo["crs"] {
                guard NSDictionary(dictionary: ["crs": own]).isEqual(to: ["crs": member]) else {
                    throw Problem.badBody("conflicting crs", "key 'crs' and '\(sources[0]).crs' name different coordinate systems")
                }
            }
            geo["crs"] = member
        }
        // The wrapper's own project keys first, then the feature's properties.
        let project = SiteJSON.project(fromProperties: geo["properties"] as? [String: Any] ?? [:])
        do {
            return Submission(
                site: try SiteReader.geoJSON(json: geo, limits: limits), format: .geoJSON,
                projectCode: code ?? project.code, projectName: name ?? project.name)
        } catch let e as SiteError {
            throw SiteError(e.kind, "\(sources[0]): \(e.message)")
        }
    }

    @Sendable func get(request: Request, context: OneMapRequestContext) async throws -> Response {
        try requireReader(context)
        let id = try context.parameters.require("id")
        try await requireOwnRecord(context, id)
        return Response.json(try await read(id, geometry: false).result)
    }

    /// Rendered once per record and kept (see `ReportCache`), as expensive work.
    @Sendable func report(request: Request, context: OneMapRequestContext) async throws -> Response {
        try requireReader(context)
        let id = try context.parameters.require("id")
        try await requireOwnRecord(context, id)
        let (records, server) = (self.records, self.server)
        let html = try await server.reports.report(id) {
            try await server.expensive(
                "report",
                blocking: {
                    guard let record = try records.get(id) else { throw Problem.notFound("no check '\(id)'") }
                    let result = try JSONDecoder().decode(CheckResult.self, from: record.result)
                    let hash = try records.store.pool.read { try RecordChain.hash(of: id, $0) }
                    return Array(try CheckReport.html(result: result, geojson: record.geojson, recordHash: hash).utf8)
                })
        }
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: html)))
    }

    /// Checks a recorded site again against the current layer versions, as a new record, and
    /// says what changed since: versions, verdict, and the conflicting features per layer.
    @Sendable func rerun(request: Request, context: OneMapRequestContext) async throws -> Response {
        try context.require(.approver, to: "rerunning a check", unless: configuration.open)
        try admitAnonymous(request, context)
        let id = try context.parameters.require("id")
        try await requireOwnRecord(context, id)
        let original = try await read(id, geometry: false)
        let stored = Data(original.site.utf8)
        let keyName = Self.recordedName(context.caller)
        let (_, outcome, record) = try await checkAndRecord(
            { try SiteReader.geoJSON(stored, limits: SiteLimits(maxVertices: .max)) },
            site: { $0 }, layers: nil
        ) { _ in
            .init(
                projectCode: original.summary.projectCode, projectName: original.summary.projectName,
                keyName: keyName, inputFormat: "rerun:\(id)", input: original.input)
        }
        let before = try JSONDecoder().decode(CheckResult.self, from: original.result)
        var body = try JSONSerialization.jsonObject(with: record.result) as? [String: Any] ?? [:]
        var versions: [String: Any] = [:]
        for (layer, now) in outcome.versions where original.versions[layer] != now {
            versions[layer] = ["from": original.versions[layer].map { $0.label as Any } ?? NSNull(), "to": now.label]
        }
        var layers: [[String: Any]] = []
        for after in outcome.result.layers {
            let old = before.layers.first { $0.layer == after.layer }
            let oldIDs = Set(old?.features.map(\.id) ?? []), newIDs = Set(after.features.map(\.id))
            guard oldIDs != newIDs || old?.conflict != after.conflict else { continue }
            layers.append([
                "layer": after.layer, "conflictBefore": old?.conflict ?? false, "conflictAfter": after.conflict,
                "added": newIDs.subtracting(oldIDs).sorted(), "removed": oldIDs.subtracting(newIDs).sorted()
            ])
        }
        body["changes"] = [
            "of": id, "verdictBefore": before.verdict.rawValue, "verdictAfter": outcome.result.verdict.rawValue,
            "versions": versions, "layers": layers
        ]
        return try Response.json(object: body, status: .created)
    }

    /// The site, the conflicting features and the overlap pieces, as stored with the record.
    @Sendable func geojson(request: Request, context: OneMapRequestContext) async throws -> Response {
        try requireReader(context)
        let id = try context.parameters.require("id")
        try await requireOwnRecord(context, id)
        return Response(
            status: .ok, headers: [.contentType: "application/geo+json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try await read(id, geometry: true).geojson)))
    }

    @Sendable func list(request: Request, context: OneMapRequestContext) async throws -> Response {
        try requireReader(context)
        let q = request.uri.queryParameters
        // As the feature pages: a limit above --max-page is served as --max-page, and `next` goes on.
        let limit = try PageLimit.parse(q["limit"].map(String.init), default: 100, maximum: configuration.limits.maxPageSize).value
        let offset = try Self.integer(q["offset"].map(String.init), name: "offset", default: 0, range: 0...Int.max)
        let records = self.records, code = q["projectCode"].map(String.init)
        let own = context.caller.scope == nil ? nil : context.caller.keyName
        let (items, total) = try await server.expensive(
            "record list", blocking: { try records.list(projectCode: code, keyName: own, limit: limit, offset: offset) })
        let body: [String: Any] = [
            "items": items.map { s -> [String: Any] in
                var o: [String: Any] = [
                    "id": s.id, "createdAt": s.createdAt, "verdict": s.verdict,
                    "links": [["rel": "self", "href": "/v1/checks/\(s.id)"], ["rel": "report", "href": "/v1/checks/\(s.id)/report"]]
                ]
                if let c = s.projectCode { o["projectCode"] = c }
                if let n = s.projectName { o["projectName"] = n }
                if let k = s.keyName { o["keyName"] = k }
                return o
            },
            "total": total, "limit": limit, "offset": offset,
            "links": Self.pageLinks(q, limit: limit, offset: offset, count: items.count, total: total)
        ]
        return try Response.json(object: body)
    }

    /// RFC 3986's unreserved characters: `.alphanumerics` would let 中文 through unencoded.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// The list's `next` link when more records follow, with the limit served.
    static func pageLinks(_ q: Parameters, limit: Int, offset: Int, count: Int, total: Int) -> [[String: String]] {
        guard offset + count < total else { return [] }
        var query = "limit=\(limit)&offset=\(offset + count)"
        if let code = q["projectCode"].map(String.init),
            let encoded = code.addingPercentEncoding(withAllowedCharacters: Self.unreserved)
        {
            query += "&projectCode=" + encoded
        }
        return [["rel": "next", "href": "/v1/checks?" + query]]
    }

    static func integer(_ raw: String?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw else { return value }
        guard let n = Int(raw), range.contains(n) else {
            throw Problem(
                .badRequest, "bad parameter",
                "\(name)=\(raw) must be a whole number in \(range.lowerBound)…\(range.upperBound == Int.max ? "" : String(range.upperBound))"
            )
        }
        return n
    }
}

import Conflicts
import Foundation
import Hummingbird
import LandUse
import LayerStore

/// The ledger, the cross-layer audit, and layer versions and their changes, over HTTP.
struct LedgerRoutes {
    let server: ServerContext
    var store: Store { server.store }

    func register(on router: some RouterMethods<OneMapRequestContext>) {
        let store = self.store
        let server = self.server
        router.get("v1/ledger") { request, context -> Response in
            let q = request.uri.queryParameters
            let layers = try CheckRoutes.layerList(q["layers"].map(String.init))
            let by = q["by"].map(String.init) ?? "county"
            guard by.range(of: "^[A-Za-z0-9_]+$", options: .regularExpression) != nil else {
                throw Problem(.badRequest, "bad parameter", "by=\(by) must name an admin layer or a level such as county")
            }
            let caller = context.caller
            let (ledger, restricted) = try await server.expensive(
                "ledger",
                blocking: {
                    (try LedgerBuilder(store: store).build(by: by, layers: layers, for: caller), try Self.restrictedLayers(store))
                })
            // A restricted layer's figures are its data too: on record, with the features counted.
            for name in restricted.sorted() {
                guard let total = ledger.totals[name] else { continue }
                AccessNotes(records: server.access).note(
                    caller, requestID: RequestLog.id(request, context), route: "GET /v1/ledger", layer: name, what: "by=\(by)",
                    returned: total.count)
            }
            return Response.json(try CheckResult.encoder().encode(ledger))
        }
        router.get("v1/audit") { request, context -> Response in
            let q = request.uri.queryParameters
            var pairs = CrossLayerAudit.defaultPairs
            if let raw = q["pairs"] {
                guard !raw.isEmpty else {
                    throw Problem(
                        .badRequest, "bad parameter", "pairs= must name pairs a:b, comma-separated; leave it out for the default pairs")
                }
                pairs = try raw.split(separator: ",", omittingEmptySubsequences: false).map { p in
                    let parts = p.split(separator: ":").map(String.init)
                    guard parts.count == 2 else { throw Problem(.badRequest, "bad parameter", "pairs: '\(p)' is not a:b") }
                    return (parts[0], parts[1])
                }
            }
            var minimum = 1.0
            if let raw = q["minArea"] ?? q["min-area"] {
                guard let m = Double(String(raw)), m.isFinite, m >= 0 else {
                    throw Problem(.badRequest, "bad parameter", "minArea=\(raw) must be a number ≥ 0")
                }
                minimum = m
            }
            var filter: LandCodeFilter? = nil
            if let raw = q["where"] {
                do { filter = try LandCodeFilter(String(raw)) } catch let e as LandCodeFilter.SyntaxError {
                    throw Problem(.badRequest, "bad parameter", e.description)
                }
            }
            let format = q["format"].map(String.init) ?? "json"
            let caller = context.caller
            let (found, summary, restricted) = try await server.expensive(
                "audit",
                blocking: { [pairs, minimum, filter] in
                    let (found, summary) = try CrossLayerAudit(store: store).run(
                        pairs: pairs, minimumAreaM2: minimum, where: filter, for: caller)
                    return (found, summary, try Self.restrictedLayers(store))
                })
            // The pairs that hold a restricted layer's features, on record by layer.
            for name in restricted.sorted() where pairs.contains(where: { $0.0 == name || $0.1 == name }) {
                let holding = found.filter { $0.a == name || $0.b == name }.count
                AccessNotes(records: server.access).note(
                    caller, requestID: RequestLog.id(request, context), route: "GET /v1/audit", layer: name,
                    what: "pairs=" + pairs.map { "\($0.0):\($0.1)" }.joined(separator: ","), returned: holding)
            }
            switch format {
            case "json": return Response.json(try CrossLayerAudit.json(found, summary))
            case "geojson":
                return Response(
                    status: .ok, headers: [.contentType: "application/geo+json"],
                    body: .init(byteBuffer: ByteBuffer(bytes: try CrossLayerAudit.geojson(found))))
            default: throw Problem(.badRequest, "bad parameter", "format=\(format) must be json or geojson")
            }
        }
        router.get("v1/layers/:name/versions") { _, context -> Response in
            let name = try context.parameters.require("name"), caller = context.caller
            _ = try await store.read { db in try caller.visibleLayer(name, db) }
            return Response.json(try await Blocking.run { try CheckResult.encoder().encode(try store.versions(of: name)) })
        }
        router.get("v1/layers/:name/diff") { request, context -> Response in
            let name = try context.parameters.require("name"), caller = context.caller
            let q = request.uri.queryParameters
            let from = q["from"].map(String.init), to = q["to"].map(String.init)
            let (report, restricted) = try await server.expensive(
                "diff",
                blocking: {
                    (try ChangeReport.make(store: store, layer: name, from: from, to: to, for: caller), try Self.restrictedLayers(store))
                })
            // A restricted layer's changes are its data too: on record, with the features that changed.
            if restricted.contains(name) {
                let s = report.summary
                AccessNotes(records: server.access).note(
                    caller, requestID: RequestLog.id(request, context), route: "GET /v1/layers/{name}/diff", layer: name,
                    what: "diff \(s.from)..\(s.to)", returned: s.added.count + s.removed.count + s.changed.count)
            }
            return Response.json(try CheckResult.encoder().encode(report.summary))
        }
    }

    /// The names of the restricted layers now: what the ledger and the audit put on record.
    static func restrictedLayers(_ store: Store) throws -> [String] {
        try store.pool.read { db in try Store.loadedLayers(db).filter { $0.spec.access != .public }.map(\.name) }
    }
}

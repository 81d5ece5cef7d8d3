import Conflicts
import Features
import Foundation
import Hummingbird
import LayerStore

/// `GET /v1/access[?who=][&layer=][&since=][&limit=][&offset=]`: the reads of restricted data
/// on record, newest first, for admins (the same as `onemap access list`).
struct AccessRoutes {
    let server: ServerContext

    struct Page: Encodable {
        let items: [AccessRecords.Record]
        let total: Int
        let limit: Int
        let offset: Int
    }

    func register(on router: some RouterMethods<OneMapRequestContext>) {
        let server = self.server
        router.get("v1/access") { request, context -> Response in
            try context.require(.admin, to: "reading the access records")
            let q = request.uri.queryParameters
            let known: Set<String> = ["who", "layer", "since", "limit", "offset"]
            if let unknown = q.map({ String($0.key) }).sorted().first(where: { !known.contains($0) }) {
                throw Problem(
                    .badRequest, "bad parameter", "unknown parameter '\(unknown)'; this takes \(known.sorted().joined(separator: ", "))")
            }
            let since = q["since"].map(String.init)
            if let since, !AccessRecords.isTime(since) {
                throw Problem(
                    .badRequest, "bad parameter", "since=\(since) is not a date (2026-12-07) or a UTC time (2026-12-07T08:00:00Z)")
            }
            let limit = try PageLimit.parse(q["limit"].map(String.init), default: 100, maximum: server.configuration.limits.maxPageSize)
                .value
            let offset = try CheckRoutes.integer(q["offset"].map(String.init), name: "offset", default: 0, range: 0...Int.max)
            let (who, layer) = (q["who"].map(String.init), q["layer"].map(String.init))
            let access = server.access
            let (items, total) = try await server.expensive(
                "access list",
                blocking: {
                    // The reads noted up to now, this one's caller's included, are stored first.
                    try access.flush()
                    return try access.list(who: who, layer: layer, since: since, limit: limit, offset: offset)
                })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Response.json(try encoder.encode(Page(items: items, total: total, limit: limit, offset: offset)))
        }
    }
}

import Foundation
import GRDB
import Hummingbird
import LayerStore

/// Liveness, readiness and metrics, for load balancers, monitoring and `make demo`.
struct HealthRoutes {
    let server: ServerContext

    func register(on router: some RouterMethods<OneMapRequestContext>) {
        let server = self.server
        // Alive: the process answers. Nothing is read, so a stuck disk does not fail it. A
        // replica says whether it follows its database, and is 503 while it does not: it
        // cannot store check records then (it answers reads from its copy; /ready says so).
        router.get("health") { _, _ in
            guard let upstream = server.configuration.upstream else { return try Response.json(object: ["status": "ok"]) }
            guard let problem = upstream.problem() else {
                return try Response.json(object: ["status": "ok", "database": upstream.name, "following": "yes"])
            }
            return try Response.json(
                object: ["status": "cannot store checks", "database": upstream.name, "following": "no: \(problem)"],
                status: .serviceUnavailable)
        }
        // Ready: the database answers a read now. 503 otherwise, so a balancer stops sending.
        router.get("ready") { _, _ -> Response in
            do {
                let layers = try await server.store.read { db in try Store.layerCount(db) }
                return try Response.json(object: ["status": "ready", "layers": layers])
            } catch {
                throw Problem(.serviceUnavailable, "not ready", "the database cannot be read: \(error)", headers: [.retryAfter: "5"])
            }
        }
        router.get("metrics") { _, _ -> Response in
            let text = try await server.metrics.render(store: server.store, tiles: server.tiles, gate: server.gate, reports: server.reports)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
    }
}

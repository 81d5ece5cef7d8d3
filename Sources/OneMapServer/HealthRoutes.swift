import Foundation
import GRDB
import Hummingbird
import LayerStore

/// Liveness and readiness, for load balancers and for `make demo` to wait on.
struct HealthRoutes {
    let store: Store

    func register(on router: Router<BasicRequestContext>) {
        router.get("health") { _, _ in try Response.json(object: ["status": "ok"]) }
        router.get("ready") { _, _ -> Response in
            let layers = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_layers") ?? 0 }
            return try Response.json(object: ["status": "ready", "layers": layers])
        }
    }
}

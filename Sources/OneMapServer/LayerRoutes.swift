import Foundation
import Hummingbird
import LayerStore

/// The loaded layers, for the viewer's layer list and for clients that want titles and
/// versions without the OGC machinery. Restricted layers are listed only for a viewer key.
struct LayerRoutes {
    let store: Store

    func register(on router: Router<OneMapRequestContext>) {
        router.get("v1/layers") { _, context -> Response in
            let layers = try await store.pool.read { db in try Store.loadedLayers(db) }
            let list: [[String: Any]] = layers.filter(context.caller.canSee).map { l in
                var o: [String: Any] = ["name": l.name, "title": l.spec.title, "kind": l.spec.kind.rawValue,
                                        "geometryType": l.version.geometryType, "count": l.version.count,
                                        "version": l.version.label, "versionNumber": l.version.number, "loadedAt": l.version.loadedAt, "access": l.spec.access.rawValue]
                if let b = l.version.bbox { o["bbox"] = b.array }
                if let r = l.spec.rule {
                    var rule: [String: Any] = ["severity": r.severity.rawValue, "when": r.when.rawValue]
                    if let m = r.bufferM { rule["bufferM"] = m }
                    o["rule"] = rule
                }
                return o
            }
            return try Response.json(object: list)
        }
    }
}

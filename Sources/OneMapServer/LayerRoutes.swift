import Conflicts
import Foundation
import Hummingbird
import LayerStore

/// The loaded layers, for the viewer's layer list and for clients that want titles and
/// versions without the OGC machinery. Restricted layers are listed only for a viewer key.
/// Admins reload a layer from its catalog entry (`POST /v1/layers/{name}/reload`), the same
/// import as `onemap load --layers name`: a new version, committed whole or not at all, while
/// readers go on seeing the old one.
struct LayerRoutes {
    let server: ServerContext
    var store: Store { server.store }

    func register(on router: some RouterMethods<OneMapRequestContext>) {
        let store = self.store
        let gate = server.gate
        let tiles = server.tiles
        let checker = server.records.checker
        router.post("v1/layers/:name/reload") { request, context -> Response in
            try context.require(.admin, to: "reloading a layer")
            let name = try context.parameters.require("name")
            let label = request.uri.queryParameters["version"].map(String.init)
            // A land-use layer's topology comes with the report, as with `onemap load`, unless
            // asked not to (`topology=false`: it takes minutes at a city's millions of 图斑).
            let topology: Bool
            switch request.uri.queryParameters["topology"].map(String.init) ?? "true" {
            case "true", "1": topology = true
            case "false", "0": topology = false
            case let other: throw Problem(.badRequest, "bad parameter", "topology=\(other.prefix(80)) must be true or false")
            }
            let caller = context.caller
            // An import is heavy work, so it takes a slot; it has no deadline, because giving
            // up half-way would only roll it back and waste what was read.
            let report = try await gate.run("load") {
                try await Blocking.run {
                    let loaded = try store.layer(named: name)
                    // The catalog file is read again, so an edited YAML or a replaced source
                    // counts; a layer imported without one is read again under its stored definition.
                    let spec: LayerSpec
                    let authority: DefinitionAuthority
                    if let file = loaded.spec.catalogFile {
                        spec = try Catalog.parse(file: file)
                        authority = .catalog
                        guard spec.name == name else {
                            throw StoreError.invalidRequest("\(file) now names the layer '\(spec.name)', not '\(name)'")
                        }
                    } else {
                        spec = loaded.spec
                        authority = .newSource
                    }
                    var report = try LayerImporter(store: store).load(spec, label: label, authority: authority)
                    // The version is committed: a report that fails says so, it does not turn
                    // the reload into an error.
                    let (parcelLandUse, warning) = ParcelLandUse.afterLoading(spec.kind, store: store)
                    if let warning { report.warnings.append(warning) }
                    guard topology, spec.kind == .landUse else {
                        return LoadReport(report: report, topology: nil, parcelLandUse: parcelLandUse)
                    }
                    do {
                        let summary = try LandUseTopology(store: store).run(layer: name, for: caller).summary
                        return LoadReport(report: report, topology: summary, parcelLandUse: parcelLandUse)
                    } catch {
                        report.warnings.append("the topology report failed: \(error)")
                        return LoadReport(report: report, topology: nil, parcelLandUse: parcelLandUse)
                    }
                }
            }
            // The new version's tiles and check plans are made before anyone asks.
            tiles.warmInBackground()
            checker.warmInBackground()
            return Response.json(try JSONEncoder().encode(report), status: .created)
        }
        router.get("v1/layers") { _, context -> Response in
            let caller = context.caller
            let layers = try await store.read { db in try caller.browsableLayers(in: store, db) }
            // A scoped caller's restricted layer: the count and extent of its part.
            let list: [[String: Any]] = layers.map { l, part in
                var o: [String: Any] = [
                    "name": l.name, "title": l.spec.title, "kind": l.spec.kind.rawValue,
                    "geometryType": l.version.geometryType, "count": part.cut?.count ?? l.version.count,
                    "version": l.version.label, "versionNumber": l.version.number, "loadedAt": l.version.loadedAt,
                    "access": l.spec.access.rawValue
                ]
                if let b = part.cut.map(\.box) ?? l.version.bbox { o["bbox"] = b.array }
                if let r = l.spec.rule {
                    var rule: [String: Any] = ["severity": r.severity.rawValue, "when": r.when.rawValue, "summary": r.summary]
                    if let m = r.bufferM { rule["bufferM"] = m }
                    if let by = r.byField {
                        var field: [String: Any] = ["field": by.field, "values": by.values.mapValues(\.rawValue)]
                        if let o = by.otherwise { field["otherwise"] = o.rawValue }
                        rule["byField"] = field
                    }
                    o["rule"] = rule
                }
                return o
            }
            return try Response.json(object: list)
        }
    }
}

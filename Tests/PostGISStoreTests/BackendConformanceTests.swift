import Conflicts
import Features
import Foundation
import GeoCore
import LayerStore
import Testing
import Tiles

@testable import PostGISStore

/// The same suite on both backends: the sample catalog loaded into a SpatiaLite file, and
/// into PostGIS and read as a replica reads it (copied into its local store). Every sample
/// project's check, the ledger, the cross-layer audit, feature pages and vector tiles must
/// give the same answers on both, areas within 1e-6 relative; a layer's yearly diff too.
/// The version labels differ (each load stamps its own time) and are left out.
struct BackendConformanceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "onemap-backends-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    /// The sample catalog in a SpatiaLite file, and in PostGIS copied into a replica's store;
    /// both with the 地类 under the farmland worked out, as `onemap load` and a replica do.
    func sampleOnBothBackends(_ url: String) async throws -> (file: Store, replica: Store) {
        let specs = try Catalog.load(directory: Self.root + "/Layers").layers
        let file = try Store(path: dir + "/file.sqlite")
        for spec in specs { _ = try LayerImporter(store: file).load(spec) }
        _ = try ParcelLandUse.build(store: file)
        let replica = try Store(path: dir + "/replica.sqlite")
        try await PostGISDatabase.with(try PostGISLocation(url: url)) { db in
            for spec in specs { _ = try await PostGISImporter(database: db).load(spec) }
            _ = try await PostGISMirror(database: db, store: replica).sync()
        }
        _ = try ParcelLandUse.build(store: replica)
        return (file, replica)
    }

    @Test func theSampleAnswersTheSameOnEitherBackend() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        let (file, replica) = try await sampleOnBothBackends(url)
        let projects = Self.root + "/sampledata/projects"
        let sites = try FileManager.default.contentsOfDirectory(atPath: projects).filter {
            $0.hasSuffix(".geojson") || $0.hasSuffix(".txt")
        }
        .filter { $0 != "MANIFEST.txt" }.sorted()
        #expect(sites.count >= 10)
        var conflicts = 0
        for name in sites {
            let (site, _) = try SiteReader.path(projects + "/" + name)
            let answers = try [file, replica].map { store in
                try ConflictChecker(store: store).check(site, layers: nil, keepPieces: true)
            }
            conflicts += answers[0].result.layers.filter(\.conflict).count
            try Self.same(try answers[0].result.json(), try answers[1].result.json(), "check of \(name)")
            try Self.same(try CheckGeoJSON.data(answers[0]), try CheckGeoJSON.data(answers[1]), "conflict geometry of \(name)")
        }
        #expect(conflicts > 5, "the sample's sites find conflicts to compare")

        for by in ["county", "township"] {
            let ledgers = try [file, replica].map { try CheckResult.encoder().encode(try LedgerBuilder(store: $0).build(by: by)) }
            try Self.same(ledgers[0], ledgers[1], "ledger by \(by)")
        }
        let audits = try [file, replica].map { store in
            let (pairs, summary) = try CrossLayerAudit(store: store).run(
                pairs: CrossLayerAudit.defaultPairs, minimumAreaM2: 1, where: nil, for: .commandLine(user: "test"))
            return (try CrossLayerAudit.json(pairs, summary), pairs.count)
        }
        #expect(audits[0].1 > 0)
        try Self.same(audits[0].0, audits[1].0, "audit")

        for (layer, query) in [
            ("farmland", "limit=100&bbox=119.8,28.3,120.0,28.5"), ("landuse", "limit=50&offset=25"),
            ("ecological_redline", "limit=10"), ("farmland", "filter=DLBM%3D'0101'&limit=20")
        ] {
            var bodies: [Data] = []
            for store in [file, replica] {
                let response = try await FeatureService(store: store).items(
                    layer, FeatureRequest(query: QueryParameters(query: query), baseURL: "http://127.0.0.1"))
                #expect(response.status == 200, "\(layer)?\(query): \(String(decoding: response.body, as: UTF8.self).prefix(200))")
                bodies.append(Data(response.body))
            }
            try Self.same(bodies[0], bodies[1], "features \(layer)?\(query)")
        }

        let grid = TileMatrixSet.webMercatorQuad
        let city = try #require(try file.layer(named: "farmland").version.bbox)
        for z in [8, 12, 15] {
            let range = grid.tiles(covering: city, z: z)
            // A few tiles per zoom, across the farmland's extent.
            let xs = [range.x.lowerBound, (range.x.lowerBound + range.x.upperBound) / 2, range.x.upperBound]
            let ys = [range.y.lowerBound, (range.y.lowerBound + range.y.upperBound) / 2, range.y.upperBound]
            for x in xs {
                for y in ys {
                    let key = TileKey(z: z, x: x, y: y)
                    let tiles = try [file, replica].map { try TileService(store: $0).tile(.all, key, grid: grid).bytes }
                    #expect(tiles[0] == tiles[1], "tile \(z)/\(x)/\(y): \(tiles[0].count) and \(tiles[1].count) bytes")
                }
            }
        }
    }

    @Test func aYearlyDiffIsTheSameOnEitherBackend() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        let imports = try PostGISImportTests()
        let file = try Store(path: dir + "/diff.sqlite")
        let replica = try Store(path: dir + "/diff-replica.sqlite")
        for (label, count) in [("2024", 5), ("2025", 8)] {
            let spec = imports.spec(try imports.parcels("d\(label).geojson", count: count))
            _ = try LayerImporter(store: file).load(spec, label: label)
            _ = try await imports.load(url, spec, label: label)
        }
        try await PostGISDatabase.with(try PostGISLocation(url: url)) { db in
            let mirror = PostGISMirror(database: db, store: replica)
            _ = try await mirror.sync()
            _ = try await mirror.copy(layer: "farmland", versions: [1])
        }
        let reports = try [file, replica].map { try ChangeReport.make(store: $0, layer: "farmland", from: "2024", to: "2025") }
        #expect(reports[0].summary.added == ["P6", "P7", "P8"])
        try Self.same(try CheckResult.encoder().encode(reports[0].summary), try CheckResult.encoder().encode(reports[1].summary), "diff")
        try Self.same(try reports[0].geojson(), try reports[1].geojson(), "diff geometry")
    }

    /// Two JSON documents with the same structure and values: numbers within 1e-6 relative,
    /// version labels and times (each load stamps its own) aside.
    static func same(_ a: Data, _ b: Data, _ what: String) throws {
        let x = try JSONSerialization.jsonObject(with: a, options: [.fragmentsAllowed])
        let y = try JSONSerialization.jsonObject(with: b, options: [.fragmentsAllowed])
        var differences: [String] = []
        compare(x, y, path: what, into: &differences)
        #expect(differences.isEmpty, "\(differences.count) differences, first: \(differences.prefix(3).joined(separator: "; "))")
    }

    static let stamped: Set<String> = ["versionLabel", "version_label", "from", "to", "timeStamp", "loadedAt"]

    static func compare(_ x: Any, _ y: Any, path: String, into out: inout [String]) {
        switch (x, y) {
        case (let a as [String: Any], let b as [String: Any]):
            if Set(a.keys) != Set(b.keys) { out.append("\(path): keys \(a.keys.sorted()) vs \(b.keys.sorted())"); return }
            for k in a.keys.sorted() where !stamped.contains(k) { compare(a[k]!, b[k]!, path: path + "." + k, into: &out) }
        case (let a as [Any], let b as [Any]):
            if a.count != b.count { out.append("\(path): \(a.count) vs \(b.count) items"); return }
            for (i, (p, q)) in zip(a, b).enumerated() { compare(p, q, path: "\(path)[\(i)]", into: &out) }
        case (let a as NSNumber, let b as NSNumber) where !(a is Bool) || !(b is Bool):
            let (p, q) = (a.doubleValue, b.doubleValue)
            if abs(p - q) > 1e-6 * max(abs(p), abs(q)) && abs(p - q) > 1e-9 { out.append("\(path): \(p) vs \(q)") }
        case (let a as String, let b as String):
            if a != b { out.append("\(path): '\(a.prefix(80))' vs '\(b.prefix(80))'") }
        case (is NSNull, is NSNull): break
        default:
            if "\(x)" != "\(y)" { out.append("\(path): \(x) vs \(y)") }
        }
    }
}

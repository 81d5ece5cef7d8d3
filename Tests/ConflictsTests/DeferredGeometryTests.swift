import Foundation
import FuzzSupport
import GRDB
import GeoCore
import LayerStore
import Testing

@testable import Conflicts

/// Records saved without their conflict geometry (the server's way: the answer goes out
/// before the overlap pieces are drawn) must give, when read, exactly the geometry a record
/// saved with its pieces gives; pruning must draw what waits before dropping a version; and
/// records saved from many threads at once must all be kept.
struct DeferredGeometryTests {
    let box = ConflictFixtures.box

    /// `label`: the versions' label (else the load's time): two stores that stand for replicas
    /// of one database need the same, whatever second each was made in.
    func fixtures(label: String? = nil) throws -> ConflictFixtures {
        let f = try ConflictFixtures()
        try f.layer(
            "farmland", rule: Rule(severity: .forbidden), fields: ["DLMC"], label: label,
            (0..<36).map { i in
                let x = 120 + Double(i % 6) * 0.001, y = 28 + Double(i / 6) * 0.001
                return ("F\(i)", .polygon(box(x, y, x + 0.0009, y + 0.0009)), [i % 2 == 0 ? "水田" : "旱地"])
            })
        try f.layer(
            "urban", kind: .urbanBoundary, rule: Rule(severity: .restricted, when: .outside), label: label,
            [
                ("U1", .polygon(box(119.999, 27.999, 120.003, 28.003)), [])
            ])
        return f
    }

    static let request = CheckRecords.Request(
        projectCode: "P-1", projectName: "测试", keyName: "test", inputFormat: "geojson", input: Data("{}".utf8))

    /// Sites over parcels, across the urban edge, with a hole, in two parts, one invalid
    /// (repaired), and one clear of everything.
    func sites() throws -> [Site] {
        let bowtie = Polygon([
            [
                Coordinate(120.0005, 28.0005), Coordinate(120.0025, 28.0025), Coordinate(120.0025, 28.0005),
                Coordinate(120.0005, 28.0025), Coordinate(120.0005, 28.0005)
            ]
        ])
        let holed = Polygon(
            box(120.0002, 28.0002, 120.0048, 28.0048).rings + [Array(box(120.001, 28.001, 120.002, 28.002).rings[0].reversed())])
        let shapes: [[Polygon]] = [
            [box(120.0003, 28.0003, 120.0017, 28.0012)], [box(120.0021, 28.0001, 120.0043, 28.0049)], [holed],
            [box(120.0001, 28.0001, 120.0008, 28.0008), box(120.0041, 28.0041, 120.0058, 28.0052)], [bowtie],
            [box(120.02, 28.02, 120.021, 28.021)]
        ]
        return try shapes.map { ps in try Site.make(polygons: ps.enumerated().map { ($1, "p\($0)") }, crs: nil, limits: SiteLimits()) }
    }

    @Test func deferredGeometryIsTheGeometryAStoredCheckWouldHave() throws {
        let f = try fixtures()
        let records = CheckRecords(store: f.store)
        let checker = ConflictChecker(store: f.store)
        for site in try sites() {
            let eager = try checker.check(site, keepPieces: true)
            let quick = try checker.check(site, keepPieces: false)
            let record = try records.save(withoutGeometry: quick, request: Self.request)
            let expected = try CheckGeoJSON.data(eager)
            #expect(try records.get(record.summary.id, geometry: false)?.geojson.isEmpty == true, "not drawn on a plain read")
            let drawn = try #require(try records.get(record.summary.id)).geojson
            #expect(drawn == expected, "\(site.bbox)")
            // Drawn once, kept: a second read gives the stored bytes.
            #expect(try records.get(record.summary.id)?.geojson == expected)
            // The answer is the one the eager check gives (ids; areas but for roundings), pieces or not.
            var a = eager.result, b = try JSONDecoder().decode(CheckResult.self, from: record.result)
            (a.id, a.createdAt, a.projectCode, a.projectName) = (nil, nil, nil, nil)
            (b.id, b.createdAt, b.projectCode, b.projectName) = (nil, nil, nil, nil)
            #expect(
                try AnswerComparison.closeEnough(
                    String(decoding: a.json(), as: UTF8.self),
                    String(decoding: b.json(), as: UTF8.self)))
        }
        let pending = try f.store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_check_geometry_pending") }
        #expect(pending == 0)
    }

    /// A record made before a reload is drawn at the versions it names, not the current ones.
    @Test func geometryIsDrawnAtTheRecordedVersionsAfterAReload() throws {
        let f = try fixtures()
        let records = CheckRecords(store: f.store)
        let site = try sites()[1]
        let eager = try ConflictChecker(store: f.store).check(site, keepPieces: true)
        let record = try records.save(
            withoutGeometry: try ConflictChecker(store: f.store).check(site, keepPieces: false), request: Self.request)
        // Version 2 of farmland: other parcels where the site is.
        try f.layer(
            "farmland", rule: Rule(severity: .forbidden), fields: ["DLMC"], [("G1", .polygon(box(120.0, 28.0, 120.005, 28.005)), ["林地"])])
        let drawn = try #require(try records.get(record.summary.id)).geojson
        #expect(drawn == (try CheckGeoJSON.data(eager)))
        #expect(!String(decoding: drawn, as: UTF8.self).contains("\"G1\""))
    }

    @Test func pruningDrawsWhatWaitsBeforeDroppingAVersion() throws {
        let f = try fixtures()
        // The record must still wait for its geometry when the store is asked to prune: the
        // background drawing would otherwise draw it first on a slow machine.
        let records = CheckRecords(store: f.store, drawingQuietSeconds: 3600)
        let site = try sites()[0]
        let expected = try CheckGeoJSON.data(try ConflictChecker(store: f.store).check(site, keepPieces: true))
        let record = try records.save(
            withoutGeometry: try ConflictChecker(store: f.store).check(site, keepPieces: false), request: Self.request)
        try f.layer(
            "farmland", rule: Rule(severity: .forbidden), fields: ["DLMC"], [("G1", .polygon(box(120.0, 28.0, 120.005, 28.005)), ["林地"])])
        // The store alone refuses to drop a version a waiting record needs.
        #expect(throws: StoreError.self) { try f.store.prune("farmland", keep: 1) }
        #expect(try f.store.versions(of: "farmland").count == 2)
        try records.prune("farmland", keep: 1)
        #expect(try f.store.versions(of: "farmland").map(\.version) == [2])
        #expect(try records.get(record.summary.id)?.geojson == expected)
    }

    /// A version dropped between a check and its record: the record is refused, not stored
    /// with geometry that can no longer be drawn.
    @Test func aCheckOfADroppedVersionIsNotRecorded() throws {
        let f = try fixtures()
        let records = CheckRecords(store: f.store)
        let quick = try ConflictChecker(store: f.store).check(try sites()[0], keepPieces: false)
        try f.layer(
            "farmland", rule: Rule(severity: .forbidden), fields: ["DLMC"], [("G1", .polygon(box(120.0, 28.0, 120.005, 28.005)), ["林地"])])
        try records.prune("farmland", keep: 1)
        #expect(throws: CheckRecords.VersionsGone.self) { try records.save(withoutGeometry: quick, request: Self.request) }
        #expect(try f.store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_checks") } == 0)
    }

    /// Many threads saving at once share commits; every save that returned is stored, and the
    /// background draws all their geometry.
    @Test func concurrentSavesAreAllRecordedAndDrawn() async throws {
        let f = try fixtures()
        let records = CheckRecords(store: f.store)
        let outcomes = try sites().map { try ConflictChecker(store: f.store).check($0, keepPieces: false) }
        let ids = try await withThrowingTaskGroup(of: [String].self) { group in
            for t in 0..<8 {
                group.addTask {
                    try await withCheckedThrowingContinuation { c in
                        Thread {
                            c.resume(
                                with: Result {
                                    try (0..<15).map { i in
                                        try records.save(withoutGeometry: outcomes[(t + i) % outcomes.count], request: Self.request).summary
                                            .id
                                    }
                                })
                        }.start()
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(ids).count == 120)
        let stored = try await f.store.pool.read { db in try String.fetchAll(db, sql: "SELECT id FROM onemap_checks") }
        #expect(Set(stored) == Set(ids))
        // The background draws every waiting record once no check is under way.
        let deadline = Date().addingTimeInterval(60)
        var waiting = -1
        while Date() < deadline {
            waiting =
                try await f.store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_check_geometry_pending") } ?? -1
            if waiting == 0 { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(waiting == 0)
        // Every record has its geometry: inline (a clear site's is the site alone) or drawn.
        let without = try await f.store.pool.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM onemap_checks c WHERE length(c.geojson) = 0
                    AND NOT EXISTS (SELECT 1 FROM onemap_check_geometry g WHERE g.check_id = c.id)
                    """)
        }
        #expect(without == 0)
    }

    @Test func timestampsAreWhatISO8601DateFormatterWrites() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var r = FuzzRandom(seed: 3)
        for _ in 0..<2_000 {
            let date = Date(timeIntervalSince1970: r.double(0...4_102_444_800) + (r.chance(0.1) ? 0.9995 : 0))
            #expect(CheckRecords.timestamp(date) == formatter.string(from: date), "\(date.timeIntervalSince1970)")
        }
    }
}

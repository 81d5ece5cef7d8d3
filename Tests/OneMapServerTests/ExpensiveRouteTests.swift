import Foundation
import GeoCore
import Hummingbird
import HummingbirdTesting
import LayerStore
import Synchronization
import Testing
import VectorIO

@testable import OneMapServer

/// A farmland layer of `side` × `side` parcels of 0.0001° around (120, 28), and a site over
/// all of them: its record is large (every parcel conflicts) and so is its report.
func storeWithManyParcels(side: Int) throws -> (Store, site: String) {
    let dir = NSTemporaryDirectory() + "onemap-many-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/farmland.geojson"
    let w = try VectorWriter(
        path: path, format: .geoJSON, layerName: "farmland", crs: "EPSG:4490", geometryType: "Polygon",
        fields: [FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "DLMC", type: .text)])
    let d = 0.0001
    for i in 0..<side {
        for j in 0..<side {
            let x = 120 + Double(i) * d, y = 28 + Double(j) * d
            let ring = [
                Coordinate(x, y), Coordinate(x + d * 0.9, y), Coordinate(x + d * 0.9, y + d * 0.9), Coordinate(x, y + d * 0.9),
                Coordinate(x, y)
            ]
            try w.write(geometry: .polygon(Polygon([ring])), attributes: [.text("P\(i)-\(j)"), .text("水田")])
        }
    }
    try w.close()
    let store = try Store(path: dir + "/onemap.sqlite")
    _ = try LayerImporter(store: store).load(
        LayerSpec(
            name: "farmland", title: "永久基本农田", kind: .farmland, source: path,
            idField: "BSM", rule: Rule(severity: .forbidden)))
    let e = String(format: "%.4f", 120 + Double(side) * d + 0.0001), n = String(format: "%.4f", 28 + Double(side) * d + 0.0001)
    // A request of some 130 bytes, over every parcel (the issue's was 113 over the city).
    let site = #"{"type":"Polygon","coordinates":[[[119.9999,27.9999],[\#(e),27.9999],[\#(e),\#(n)],[119.9999,\#(n)],[119.9999,27.9999]]]}"#
    return (store, site)
}

/// The resident set of this process, in bytes.
func residentBytes() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let pages = statm.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Reports (and the other expensive routes) run in a work slot, within the time limit, off the
/// request threads, and a report is rendered once per record.
struct ExpensiveRouteTests {
    @Test func concurrentReportsOfALargeRecordLeaveHealthResponsive() async throws {
        let (store, site) = try storeWithManyParcels(side: 120)
        let app = buildApplication(store: store, configuration: ServerConfiguration(open: true, limits: .init(maxAnswerBytes: 64 << 20)))
        try await app.test(.router) { client in
            let made = try await client.execute(uri: "/v1/checks", method: .post, body: ByteBuffer(string: site))
            #expect(made.status == .created)
            let id = try #require((try JSONSerialization.jsonObject(with: Data(buffer: made.body)) as? [String: Any])?["id"] as? String)
            let before = residentBytes()
            let slowestHealth = Mutex<Duration>(.zero)
            let reports = Mutex(false)
            // /health answers given while the reports were still being made.
            let answeredMeanwhile = Mutex(0)
            async let health: Void = {
                let clock = ContinuousClock()
                while !reports.withLock({ $0 }) {
                    let t0 = clock.now
                    let r = try await client.execute(uri: "/health", method: .get)
                    let took = clock.now - t0
                    #expect(r.status == .ok)
                    slowestHealth.withLock { $0 = max($0, took) }
                    if !reports.withLock({ $0 }) { answeredMeanwhile.withLock { $0 += 1 } }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }()
            let reportsStarted = ContinuousClock.now
            let bodies = try await withThrowingTaskGroup(of: (HTTPResponse.Status, ByteBuffer).self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let r = try await client.execute(uri: "/v1/checks/\(id)/report", method: .get)
                        return (r.status, r.body)
                    }
                }
                var all: [(HTTPResponse.Status, ByteBuffer)] = []
                for try await b in group { all.append(b) }
                return all
            }
            let reportsTook = ContinuousClock.now - reportsStarted
            reports.withLock { $0 = true }
            try await health
            #expect(bodies.allSatisfy { $0.0 == .ok })
            #expect(Set(bodies.map(\.1)).count == 1, "the same report each time")
            #expect(bodies[0].1.readableBytes > 1 << 20, "a large report: \(bodies[0].1.readableBytes) bytes")
            let slowest = slowestHealth.withLock { $0 }
            // Reports rendered inline would hold the request threads for as long as the render
            // takes (about 11 s for four of these here), and /health would not be answered until
            // the reports were: none, or the one already under way. Off the request threads it is
            // answered all along. Counted, not timed: on this shared machine other suites run in
            // this process at once and hold its threads for seconds (a /health of 11.6 s seen,
            // while the reports took 21 s), and a slower machine only makes the count larger.
            let meanwhile = answeredMeanwhile.withLock { $0 }
            #expect(
                meanwhile >= 3,
                "/health answered \(meanwhile) times while the reports took \(reportsTook); the slowest took \(slowest)")
            // Eight asks, one render: the exact measure of what the RSS guard below stands for.
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let renders = metrics.split(separator: "\n").first { $0.hasPrefix("onemap_report_renders_total ") }
            #expect(renders.flatMap { Double($0.split(separator: " ")[1]) } == 1, "\(renders ?? "no renders metric")")
            // The process's RSS, shared with the suites running beside this one: a coarse guard
            // against eight renders held at once (~2.5 GiB), not a measure. One render here
            // grows it by 170–370 MiB alone, and the suites beside it have added 200 more.
            let grown = residentBytes() - before
            #expect(grown < 1 << 30, "RSS grew by \(grown >> 20) MiB")
        }
    }

    @Test func aReportIsRenderedOnceAndKeptWithinItsBytes() async throws {
        let cache = ReportCache(capacityBytes: 1_000)
        let renders = SharedMutex(0)
        let latch = Latch()
        let html = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await cache.report("chk_a") {
                        renders.withLock { $0 += 1 }
                        await latch.wait()
                        return Array(repeating: 1, count: 400)
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(50))
            latch.release()
            var all: [[UInt8]] = []
            for try await h in group { all.append(h) }
            return all
        }
        #expect(html.count == 4 && Set(html).count == 1)
        #expect(renders.withLock { $0 } == 1)
        // Kept: asking again renders nothing.
        _ = try await cache.report("chk_a") {
            renders.withLock { $0 += 1 }; return []
        }
        #expect(renders.withLock { $0 } == 1)
        // Two more of 400 bytes pass the 1,000: the least recently asked goes.
        _ = try await cache.report("chk_b") { Array(repeating: 2, count: 400) }
        _ = try await cache.report("chk_c") { Array(repeating: 3, count: 400) }
        #expect(await cache.bytesKept == 800)
        _ = try await cache.report("chk_a") {
            renders.withLock { $0 += 1 }; return Array(repeating: 1, count: 400)
        }
        #expect(renders.withLock { $0 } == 2)
        // A failed render is not kept.
        await #expect(throws: Problem.self) { try await cache.report("chk_x") { throw Problem.notFound("no check") } }
        _ = try await cache.report("chk_x") {
            renders.withLock { $0 += 1 }; return []
        }
        #expect(renders.withLock { $0 } == 3)
    }
}

/// A Mutex that the closures of a task group can share: a local `let` Mutex cannot be
/// captured by a closure sent to a task.
final class SharedMutex<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

import Foundation
import Hummingbird
import HummingbirdTesting
import LayerStore
import Synchronization
import Testing

@testable import OneMapServer

/// A latch a test opens when it wants held work to finish.
final class Latch: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { c in
            let isOpen = state.withLock { s -> Bool in
                if !s.open { s.waiters.append(c) }
                return s.open
            }
            if isOpen { c.resume() }
        }
    }

    var isOpen: Bool { state.withLock { $0.open } }

    func release() {
        let w = state.withLock { s in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        w.forEach { $0.resume() }
    }
}

struct LimitsTests {
    /// Work that takes `gate`'s one slot and keeps it until `latch` opens; returns once it
    /// has the slot.
    func holdingTheSlot(of gate: WorkGate, until latch: Latch) async throws -> Task<Int, Error> {
        let held = Task {
            try await gate.run("check") {
                await latch.wait(); return 1
            }
        }
        while gate.running < 1 { try await Task.sleep(nanoseconds: 1_000_000) }
        return held
    }

    @Test func gateRunsSlotsQueuesTheNextAndRefusesTheRest() async throws {
        let gate = WorkGate(slots: 2, queueLimit: 1)
        let latch = Latch()
        // Two run, one waits.
        let held = (0..<3).map { i in
            Task {
                try await gate.run("check") {
                    await latch.wait(); return i
                }
            }
        }
        while true {
            let (running, waiting) = (gate.running, gate.waiting)
            if running == 2 && waiting == 1 { break }
            try await Task.sleep(nanoseconds: 1_000_000)
        }
        // The fourth is told to come back, at once, with a JSON 503 and Retry-After.
        do {
            _ = try await gate.run("check") { 99 }
            Issue.record("a full gate must refuse")
        } catch let e as Problem {
            #expect(e.status == .serviceUnavailable && e.headers[.retryAfter] == "1")
            #expect(e.detail.contains("2 checks are running and 1 waiting"))
        }
        latch.release()
        var results: [Int] = []
        for t in held { results.append(try await t.value) }
        #expect(results == [0, 1, 2])
        #expect(gate.running == 0)
        #expect(gate.waiting == 0)
    }

    @Test func aCancelledWaiterLeavesTheQueue() async throws {
        let gate = WorkGate(slots: 1, queueLimit: 1)
        let latch = Latch()
        let first = try await holdingTheSlot(of: gate, until: latch)
        let second = Task { try await gate.run("check") { 2 } }
        while gate.waiting < 1 { try await Task.sleep(nanoseconds: 1_000_000) }
        second.cancel()
        await #expect(throws: CancellationError.self) { try await second.value }
        #expect(gate.waiting == 0)
        latch.release()
        #expect(try await first.value == 1)
        #expect(gate.running == 0)
    }

    /// A waiter whose limit passes while it is in line is told so (503, timed out) and leaves
    /// the line; the work holding the slot is untouched and gives it back as it ends.
    @Test func aWaiterPastItsLimitLeavesTheQueue() async throws {
        let gate = WorkGate(slots: 1, queueLimit: 2)
        let latch = Latch()
        let first = try await holdingTheSlot(of: gate, until: latch)
        do {
            try await gate.enter("check", timeout: Deadline(seconds: 0.05))
            Issue.record("the slot is held until the latch opens: the waiter must time out")
        } catch let e as Problem {
            #expect(e.status == .serviceUnavailable && e.error == "timed out")
        }
        #expect(gate.waiting == 0 && gate.running == 1)
        latch.release()
        #expect(try await first.value == 1)
        #expect(gate.running == 0)
    }

    /// Blocking work through the gate: the caller is answered at the limit, but the slot stays
    /// taken until the work on its Dispatch thread really ends, so abandoned work still counts.
    @Test func blockingWorkHoldsItsSlotPastTheLimit() async throws {
        let gate = WorkGate(slots: 1, queueLimit: 0)
        let deadline = Deadline(seconds: 0.05)
        let release = DispatchSemaphore(value: 0)
        let finished = Latch()
        try await gate.enter("check", timeout: deadline)
        do {
            _ = try await deadline.runBlocking(since: .now) { () throws -> Int in
                defer { gate.leave() }
                _ = release.wait(timeout: .now() + 600)
                finished.release()
                return 1
            }
            Issue.record("the deadline must answer first")
        } catch let e as Problem {
            #expect(e.error == "timed out")
        }
        #expect(gate.running == 1)
        await #expect(throws: Problem.self) { try await gate.enter("check") }
        release.signal()
        await finished.wait()
        for _ in 0..<500 where gate.running > 0 { try await Task.sleep(nanoseconds: 1_000_000) }
        #expect(gate.running == 0)
    }

    /// Not a timing test: the work blocks until the test lets it go, which the test does only
    /// after the deadline has answered. A deadline that waited for its work would never answer.
    @Test func deadlineAnswersWithoutWaitingForWorkThatIgnoresCancellation() async throws {
        let deadline = Deadline(seconds: 0.05)
        let release = DispatchSemaphore(value: 0)
        let finished = Latch()
        do {
            _ = try await deadline.run { () async throws -> Int in
                // Blocks a thread and never looks at cancellation, like a long GEOS call.
                await withCheckedContinuation { c in
                    DispatchQueue.global().async {
                        _ = release.wait(timeout: .now() + 600); c.resume()
                    }
                }
                finished.release()
                return 1
            }
            Issue.record("the deadline must answer first")
        } catch let e as Problem {
            #expect(e.status == .serviceUnavailable && e.error == "timed out")
            #expect(e.headers[.retryAfter] == "5")
        }
        release.signal()
        await finished.wait()
        // Fast work is untouched, and its errors come through as they are.
        #expect(try await Deadline(seconds: 600).run { 7 } == 7)
        await #expect(throws: Problem.self) {
            try await Deadline(seconds: 600).run { () async throws -> Int in throw Problem.notFound("x") }
        }
    }

    /// The same for blocking work run straight on a Dispatch thread (tiles): the limit
    /// answers while the work still blocks; values and errors come through; nothing is kept.
    @Test func blockingWorkAnswersAtTheLimitAndKeepsNothing() async throws {
        let freed = Mutex(0)
        let deadline = Deadline(seconds: 0.05, released: { freed.withLock { $0 += 1 } })
        let release = DispatchSemaphore(value: 0)
        let finished = Latch()
        do {
            _ = try await deadline.runBlocking { () throws -> Int in
                _ = release.wait(timeout: .now() + 600)
                finished.release()
                return 1
            }
            Issue.record("the deadline must answer first")
        } catch let e as Problem {
            #expect(e.status == .serviceUnavailable && e.error == "timed out")
        }
        release.signal()
        await finished.wait()
        let long = Deadline(seconds: 600, released: { freed.withLock { $0 += 1 } })
        for i in 0..<100 { #expect(try await long.runBlocking { i } == i) }
        await #expect(throws: Problem.self) { try await long.runBlocking { () throws -> Int in throw Problem.notFound("x") } }
        for _ in 0..<100 where freed.withLock({ $0 }) < 102 { try await Task.sleep(nanoseconds: 20_000_000) }
        #expect(freed.withLock { $0 } == 102)
    }

    /// Work that settles (a check about to store its record) is answered by its own outcome
    /// however long the rest takes; work the limit overtook before it settled is told so and
    /// stores nothing. Not a timing test: each side waits for the other explicitly.
    @Test func settledWorkIsNotCutOffAndOvertakenWorkStoresNothing() async throws {
        let deadline = Deadline(seconds: 0.05)
        let stored = Mutex(0)
        // Settles at once, then outlives the limit many times over, and its caller is cancelled
        // meanwhile: still answered with its value.
        let didSettle = Latch()
        let keeping = Task {
            try await deadline.runBlocking(settling: { settle in
                #expect(settle())
                didSettle.release()
                Thread.sleep(forTimeInterval: 0.3)
                stored.withLock { $0 += 1 }
                return 1
            })
        }
        await didSettle.wait()
        keeping.cancel()
        #expect(try await keeping.value == 1)
        #expect(stored.withLock { $0 } == 1)
        // Overtaken before settling: the caller hears "timed out", the work learns it and stops.
        let release = DispatchSemaphore(value: 0)
        let settled = Mutex<Bool?>(nil)
        let finished = Latch()
        do {
            _ = try await deadline.runBlocking(settling: { settle in
                _ = release.wait(timeout: .now() + 600)
                let ok = settle()
                settled.withLock { $0 = ok }
                if ok { stored.withLock { $0 += 1 } }
                finished.release()
                return 2
            })
            Issue.record("the deadline must answer first")
        } catch let e as Problem {
            #expect(e.error == "timed out")
        }
        release.signal()
        await finished.wait()
        #expect(settled.withLock { $0 } == false)
        #expect(stored.withLock { $0 } == 1)
    }

    @Test func deadlinesKeepNothingOnceAnswered() async throws {
        // Every run's bookkeeping must be freed when it answers, whether the work or the limit
        // came first, although the limit's timer is still pending. An hour, not a minute: on a
        // loaded 2-core machine, with the fuzz suites in this process, a trivial closure once
        // waited 95 s for a thread and met a 60 s limit.
        let freed = Mutex(0)
        let deadline = Deadline(seconds: 3600, released: { freed.withLock { $0 += 1 } })
        for i in 0..<200 { #expect(try await deadline.run { i } == i) }
        for _ in 0..<20 { _ = try? await deadline.run { () async throws -> Int in throw Problem.notFound("x") } }
        let short = Deadline(seconds: 0.01, released: { freed.withLock { $0 += 1 } })
        for _ in 0..<5 {
            _ = try? await short.run { () async throws -> Int in
                try await Task.sleep(nanoseconds: 200_000_000); return 0
            }
        }
        // The timed-out work finishes in 0.2 s and lets go of its part.
        for _ in 0..<100 where freed.withLock({ $0 }) < 225 { try await Task.sleep(nanoseconds: 20_000_000) }
        #expect(freed.withLock { $0 } == 225)
    }

    @Test func oversizedBodiesAre413AndTheServerGoesOn() async throws {
        let app = buildApplication(
            store: try farmlandStore(),
            configuration: ServerConfiguration(open: true, limits: .init(maxBodyBytes: 1_000)))
        try await app.test(.router) { client in
            let big = ByteBuffer(repeating: UInt8(ascii: " "), count: 5_000)
            let r = try await client.execute(uri: "/v1/checks", method: .post, body: big)
            #expect(r.status == .contentTooLarge)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
            #expect(body["code"] as? String == "ContentTooLarge" && body["status"] as? Int == 413 && body["detail"] is String)
            let ok = try await client.execute(uri: "/v1/checks", method: .post, body: ByteBuffer(string: siteOverP))
            #expect(ok.status == .created)
        }
    }

    @Test func slowChecksTimeOutWithA503() async throws {
        // A site of 150k vertices takes far longer than a millisecond to read and check.
        var ring: [String] = []
        let n = 150_000
        for i in 0..<n {
            let a = Double(i) / Double(n) * 2 * Double.pi
            ring.append("[\(120.0005 + 0.0004 * cos(a)), \(28.0005 + 0.0004 * sin(a))]")
        }
        ring.append(ring[0])
        let site = #"{"type": "Polygon", "coordinates": [[\#(ring.joined(separator: ","))]]}"#
        let app = buildApplication(
            store: try farmlandStore(),
            configuration: ServerConfiguration(open: true, limits: .init(requestTimeoutSeconds: 0.001)))
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/v1/checks", method: .post, body: ByteBuffer(string: site))
            #expect(r.status == .serviceUnavailable)
            #expect(r.headers[.retryAfter] != nil)
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
        }
    }
}

struct ObservabilityTests {
    @Test func metricsCountRoutesCacheChecksAndVersions() async throws {
        let store = try farmlandStore()
        let app = buildApplication(store: store, configuration: ServerConfiguration(open: true))
        try await app.test(.router) { client in
            #expect(try await client.execute(uri: "/ready", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/v1/checks", method: .post, body: ByteBuffer(string: siteOverP)).status == .created)
            for _ in 0..<2 { _ = try await client.execute(uri: "/tiles/farmland/16/54613/27454.mvt", method: .get) }
            _ = try await client.execute(uri: "/v1/checks/chk_nope", method: .get)
            let r = try await client.execute(uri: "/metrics", method: .get)
            #expect(r.status == .ok)
            #expect(r.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(buffer: r.body)
            let lines = Set(text.split(separator: "\n").map(String.init))
            #expect(lines.contains(#"onemap_http_requests_total{route="/v1/checks",method="POST",status="201"} 1"#))
            #expect(lines.contains(#"onemap_http_requests_total{route="/v1/checks/{id}",method="GET",status="404"} 1"#), "\(text)")
            #expect(lines.contains(#"onemap_tile_cache_lookups_total{result="miss"} 1"#))
            #expect(lines.contains(#"onemap_tile_cache_lookups_total{result="hit"} 1"#))
            #expect(lines.contains(#"onemap_check_duration_seconds_count{verdict="forbidden"} 1"#))
            #expect(lines.contains(#"onemap_layer_version{layer="farmland"} 1.0"#))
            #expect(lines.contains("onemap_work_running 0.0"))
            // Every sample line parses as name{labels} value.
            for line in lines where !line.hasPrefix("#") {
                #expect(line.range(of: #"^[a-z_]+(\{([a-z_]+="[^"]*",?)+\})? [0-9.e+-]+$"#, options: .regularExpression) != nil, "\(line)")
            }
        }
    }

    @Test func requestIdsAreEchoedOrMadeAndNeverPassedThroughUnsafe() async throws {
        let store = try farmlandStore()
        let app = buildApplication(store: store, configuration: ServerConfiguration())
        let header = RequestLog.header
        try await app.test(.router) { client in
            let given = try await client.execute(uri: "/health", method: .get, headers: [header: "approval-4711.a_b"])
            #expect(given.headers[header] == "approval-4711.a_b")
            // None given, or one that could break a log line or a header: a fresh id each time.
            var made: Set<String> = []
            for bad in [nil, "bad id\twith spaces", String(repeating: "x", count: 65), "日本"] as [String?] {
                let r = try await client.execute(uri: "/health", method: .get, headers: bad.map { [header: $0] } ?? [:])
                let id = try #require(r.headers[header])
                #expect(id != bad && !id.isEmpty && id.utf8.allSatisfy { RequestLog.allowed($0) }, "\(id)")
                made.insert(id)
            }
            #expect(made.count == 4)
            // Errors carry one too, so a failed call can be found in the log.
            let missing = try await client.execute(uri: "/nowhere", method: .get)
            #expect(missing.status == .notFound && missing.headers[header] != nil)
        }
        #expect(RequestLog.milliseconds(0) == "0.00")
        #expect(RequestLog.milliseconds(1_234) == "1.23")
        #expect(RequestLog.milliseconds(60_005) == "60.01")
        #expect(RequestLog.milliseconds(999_996) == "1000.00")
    }

    @Test func readyIs503WhenTheDatabaseCannotBeRead() async throws {
        let store = try farmlandStore()
        let app = buildApplication(store: store, configuration: ServerConfiguration())
        // A table the readiness query reads is gone: the database no longer answers.
        try await store.pool.write { db in try db.execute(sql: "ALTER TABLE onemap_layers RENAME TO gone") }
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/ready", method: .get)
            #expect(r.status == .serviceUnavailable)
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
    }
}

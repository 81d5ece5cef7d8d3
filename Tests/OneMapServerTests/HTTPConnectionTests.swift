import Foundation
import Hummingbird
import HummingbirdTesting
import LayerStore
import OneMapServer
import Testing

/// What the server does with connections, over real sockets: idle ones closed, no more than
/// the limit open at once, `HEAD` for every `GET`, and `100 Continue` for a client waiting to
/// send its body.
struct HTTPConnectionTests {
    static let tile = "/tiles/farmland/16/54613/27454.mvt"

    /// Silent, stopped half-way through a head, or done with its request: each is closed
    /// once idle past the limit (a second here; generous waits, as a loaded machine is slow).
    @Test func idleConnectionsAreClosed() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(limits: .init(idleTimeoutSeconds: 1)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let (status, closed) = try await RawHTTP.run {
                let silent = try RawConnection(port: port)
                let halfHead = try RawConnection(port: port)
                try halfHead.send("GET /health HTTP/1.1\r\nHost: x\r\n")
                let answered = try RawConnection(port: port)
                try answered.send(RawHTTP.get("/health", id: "idle"))
                return (try answered.answer().status, [silent, halfHead, answered].map { $0.closedByServer(within: 30) })
            }
            #expect(status == 200)
            #expect(closed == [true, true, true], "silent, half a head, answered")
        }
    }

    /// A client that pipelines requests and never reads the answers is not read from (so it
    /// costs no memory, see ServerResourceTests), and once its answers have not drained for
    /// the idle limit, it is dropped rather than kept for as long as it likes.
    @Test func aClientThatNeverReadsIsDropped() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(limits: .init(idleTimeoutSeconds: 1)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // The tile is cached from here on. (Asked on a raw connection: the test client's
            // own would sit idle past the one-second limit and be closed under it.)
            let (first, stalled, dropped) = try await RawHTTP.run { () -> (Int, Bool, Bool) in
                let warm = try RawConnection(port: port)
                try warm.send(RawHTTP.get(Self.tile, id: "warm"))
                let first = try warm.answer().status
                let c = try RawConnection(port: port)
                c.setTimeout(SO_SNDTIMEO, 3)  // a send that waits this long: the server stopped reading
                let batch = String(repeating: "GET \(Self.tile) HTTP/1.1\r\nHost: x\r\n\r\n", count: 1_000)
                var stalled = false
                for _ in 0..<1_000 where !stalled {
                    do { try c.send(batch) } catch { stalled = true }
                }
                for _ in 0..<60 where !c.droppedByServer() { Thread.sleep(forTimeInterval: 0.5) }
                return (first, stalled, c.droppedByServer())
            }
            #expect(first == 200)
            #expect(stalled, "the server read every request it could not answer")
            #expect(dropped, "a connection whose answers never drain is kept")
        }
    }

    /// Past the limit a new connection is not served until another closes; then it is. (In
    /// a process of its own: Hummingbird's test server leaves the limit out.)
    @Test func connectionsPastTheLimitWaitForOneToClose() async throws {
        let store = try farmlandStore()
        let server = try ServedProcess(database: store.path, arguments: ["--max-connections", "2"])
        // (Swift Testing's expectations are made here, not on the socket thread, where they
        // would belong to no test.)
        let (served, thirdBefore, thirdAfter) = try await RawHTTP.run { () -> ([Int], Int?, Int) in
            var open = try (0..<2).map { _ in try RawConnection(port: server.port) }
            let served = try open.enumerated().map { i, c in
                try c.send(RawHTTP.get("/health", id: "c\(i)"))
                return try c.answer().status
            }
            let third = try RawConnection(port: server.port, receiveTimeout: 3)
            try third.send(RawHTTP.get("/health", id: "third"))
            let before = try? third.answer().status
            open.removeAll()  // closes them
            third.setTimeout(SO_RCVTIMEO, 60)
            return (served, before, try third.answer().status)
        }
        #expect(served == [200, 200])
        #expect(thirdBefore == nil, "a third connection was served while two were open")
        #expect(thirdAfter == 200, "served once another closed")
    }

    /// `HEAD` gets the `GET`'s status and headers (its length too) and no body, on a tile,
    /// TileJSON, JSON routes and an unknown path; pipelined after it, a `GET` still reads right.
    @Test func headAnswersAsGetWithoutABody() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            for path in [Self.tile, "/tiles/farmland.json", "/health", "/v1/layers", "/collections/farmland/items?limit=1", "/nowhere"] {
                let (get, head, after) = try await RawHTTP.run {
                    let c = try RawConnection(port: port)
                    try c.send(RawHTTP.get(path, id: "g"))
                    let get = try c.answer()
                    try c.send(RawHTTP.get(path, id: "h").replacingOccurrences(of: "GET ", with: "HEAD ") + RawHTTP.get("/health", id: "a"))
                    return (get, try c.answer(head: true), try c.answer())
                }
                #expect(head.status == get.status && head.body.isEmpty, "\(path): \(head.status)")
                let volatile: Set<String> = ["date", "x-request-id"]
                #expect(head.headers.filter { !volatile.contains($0.key) } == get.headers.filter { !volatile.contains($0.key) }, "\(path)")
                #expect(head.headers["content-length"] == String(get.body.count), "\(path)")
                #expect(after.status == 200 && after.headers["x-request-id"] == "a", "\(path): the answer after HEAD")
            }
        }
    }

    /// A client that says `Expect: 100-continue` gets `100 Continue` before it sends the body,
    /// and its answer after; pipelined behind another request, only once that one is answered.
    @Test func expectContinueGetsA100() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let post =
                "POST /v1/checks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(siteOverP.utf8.count)\r\n"
                + "Expect: 100-continue\r\n\r\n"
            let statuses = try await RawHTTP.run {
                let c = try RawConnection(port: port)
                try c.send(post)
                let interim = try c.answer().status
                try c.send(siteOverP)
                let created = try c.answer().status
                try c.send(RawHTTP.get("/health", id: "first") + post)
                let (first, pipelinedInterim) = (try c.answer(), try c.answer().status)
                try c.send(siteOverP)
                return [interim, created, first.status, pipelinedInterim, try c.answer().status]
            }
            #expect(statuses == [100, 201, 200, 100, 201])
        }
    }
}

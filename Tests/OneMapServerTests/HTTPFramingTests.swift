import Foundation
import Hummingbird
import HummingbirdTesting
import LayerStore
import OneMapServer
import Testing

/// What reaches a live server byte by byte: pipelined requests, heads split across reads,
/// bodies, and framing the decoder refuses. Each answer must come back whole and in order,
/// and a tile is framed exactly as any other request (once a hand-written parser in front of
/// the decoder answered tiles that the decoder refuses elsewhere).
struct HTTPFramingTests {
    static let tile = "/tiles/farmland/16/54613/27454.mvt"

    static func get(_ path: String, id: String, extra: String = "") -> String { RawHTTP.get(path, id: id, extra: extra) }

    /// Pipelined in one write: a request for the router, then tiles. The tiles wait for the
    /// router's answer, and every answer carries its own request's id, in order.
    @Test func pipelinedAnswersKeepTheirOrder() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            _ = try await client.execute(uri: Self.tile, method: .get)  // cached from here on
            let bytes =
                Self.get("/v1/layers", id: "r1") + Self.get(Self.tile, id: "r2")
                + Self.get(Self.tile, id: "r3", extra: "Accept-Encoding: gzip\r\n")
                + Self.get("/tiles/nosuchlayer/16/1/2.mvt", id: "r4") + Self.get(Self.tile, id: "r5")
            let answers = try await RawHTTP.run { try RawConnection.exchange(port: port, [Array(bytes.utf8)], answers: 5) }
            #expect(answers.map { $0.headers["x-request-id"] } == ["r1", "r2", "r3", "r4", "r5"])
            #expect(answers.map(\.status) == [200, 200, 200, 404, 200])
            #expect(answers[0].headers["content-type"]?.hasPrefix("application/json") == true)
            #expect(answers[1].body == answers[4].body && !answers[1].body.isEmpty)
            #expect(answers[2].headers["content-encoding"] == "gzip" && answers[2].body != answers[1].body)
        }
    }

    /// A head that comes a few bytes at a time is answered once it is whole, and the next
    /// request, begun in the same write as the end of the first, too.
    @Test func aHeadSplitAcrossWritesIsAnsweredWhole() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let whole = try await client.execute(uri: Self.tile, method: .get)
            let bytes = Array((Self.get(Self.tile, id: "s1") + Self.get(Self.tile, id: "s2")).utf8)
            let pieces = stride(from: 0, to: bytes.count, by: 7).map { Array(bytes[$0..<min($0 + 7, bytes.count)]) }
            let answers = try await RawHTTP.run { try RawConnection.exchange(port: port, pieces, answers: 2, pause: 0.002) }
            #expect(answers.map { $0.headers["x-request-id"] } == ["s1", "s2"])
            #expect(answers.allSatisfy { $0.status == 200 && $0.body == Array(buffer: whole.body) })
        }
    }

    /// A body, by its length or in chunks, is read to its end: the tiles after either are
    /// answered right.
    @Test func bodiesByLengthAndInChunksAreReadToTheirEnd() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let whole = Array(buffer: try await client.execute(uri: Self.tile, method: .get).body)
            let json = "{\"nonsense\": true}"
            let sized =
                "POST /v1/checks HTTP/1.1\r\nHost: x\r\nX-Request-Id: b1\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n"
                + json
            let chunked =
                "POST /v1/checks HTTP/1.1\r\nHost: x\r\nX-Request-Id: b3\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(json.utf8.count, radix: 16) + "\r\n" + json + "\r\n0\r\n\r\n"
            let bytes = sized + Self.get(Self.tile, id: "b2") + chunked + Self.get(Self.tile, id: "b4")
            let answers = try await RawHTTP.run { try RawConnection.exchange(port: port, [Array(bytes.utf8)], answers: 4) }
            #expect(answers.map { $0.headers["x-request-id"] } == ["b1", "b2", "b3", "b4"])
            #expect(answers[0].status == 400 && answers[2].status == 400, "the bad site is refused, its body read to the end")
            #expect(answers[1].status == 200 && answers[1].body == whole && answers[3].status == 200 && answers[3].body == whole)
        }
    }

    /// A request with both a length and chunks is refused, a tile as anything else.
    @Test func aBrokenRequestIsStillRefused() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let bytes = "GET \(Self.tile) HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            let answers = try await RawHTTP.run { try RawConnection.exchange(port: port, [Array(bytes.utf8)], answers: 1) }
            #expect(answers.first?.status == 400, "no tile for a request with both a length and chunks")
        }
    }

    /// Heads the decoder refuses (an empty header name, more than its 1,000 header lines) get
    /// the same 400 on a cached tile as on any other path.
    @Test func aTileIsFramedAsAnythingElse() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            #expect(try await client.execute(uri: Self.tile, method: .get).status == .ok)  // cached from here on
            let manyLines = (0..<1_001).map { "X-Line-\($0): 1\r\n" }.joined()
            for (what, extra) in [("an empty header name", ": x\r\n"), ("1,001 header lines", manyLines)] {
                let statuses = try await RawHTTP.run {
                    try [Self.tile, "/health"].map { path in
                        try RawConnection.exchange(port: port, [Array(Self.get(path, id: "f", extra: extra).utf8)], answers: 1)[0].status
                    }
                }
                #expect(statuses == [400, 400], "\(what): tile, then /health")
            }
        }
    }

    /// After a request that switches protocols (`Upgrade`, `CONNECT`), which this server never
    /// does, what follows on the connection is answered the same whether it came in the same
    /// read or a later one.
    @Test func whatFollowsAnUpgradeDoesNotDependOnReads() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            #expect(try await client.execute(uri: Self.tile, method: .get).status == .ok)  // cached from here on
            let upgrade = Self.get(Self.tile, id: "u1", extra: "Connection: Upgrade\r\nUpgrade: websocket\r\n")
            let connect = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nX-Request-Id: u1\r\n\r\n"
            let next = Self.get(Self.tile, id: "u2")
            for first in [upgrade, connect] {
                let (together, apart) = try await RawHTTP.run {
                    (try Self.statuses(port: port, [first + next]), try Self.statuses(port: port, [first, next]))
                }
                #expect(together.count >= 1 && together == apart, "\(first.prefix(40)): \(together) in one write, \(apart) in two")
            }
        }
    }

    /// Every answer a connection gets for `writes`: the first waited for, then any others
    /// until the server has been quiet for two seconds.
    static func statuses(port: Int, _ writes: [String]) throws -> [Int] {
        let c = try RawConnection(port: port)
        for w in writes {
            try c.send(w)
            Thread.sleep(forTimeInterval: 0.2)
        }
        var statuses = [try c.answer().status]
        c.setTimeout(SO_RCVTIMEO, 2)
        while let next = try? c.answer() { statuses.append(next.status) }
        return statuses
    }
}

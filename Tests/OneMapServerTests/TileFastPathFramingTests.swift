import Foundation
import Hummingbird
import HummingbirdTesting
import LayerStore
import OneMapServer
import Testing

/// The fast path sits in front of the HTTP decoder, so what reaches a live server byte by
/// byte matters: pipelined requests of both kinds, heads split across reads, bodies, and
/// framing it leaves to the decoder. Each answer must come back whole and in order.
struct TileFastPathFramingTests {
    static let tile = TileFastPathTests.tile

    static func get(_ path: String, id: String, extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: \(id)\r\n\(extra)\r\n"
    }

    /// Pipelined in one write: a request for the router, then tiles. The tiles wait for the
    /// router's answer, and every answer carries its own request's id, in order.
    @Test func pipelinedAnswersKeepTheirOrder() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            _ = try await client.execute(uri: Self.tile, method: .get)  // cached from here on
            let bytes = Self.get("/v1/layers", id: "r1") + Self.get(Self.tile, id: "r2") + Self.get(Self.tile, id: "r3", extra: "Accept-Encoding: gzip\r\n")
                + Self.get("/tiles/nosuchlayer/16/1/2.mvt", id: "r4") + Self.get(Self.tile, id: "r5")
            let answers = try await RawHTTP.exchange(port: port, [Array(bytes.utf8)], answers: 5)
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
            let answers = try await RawHTTP.exchange(port: port, pieces, answers: 2, pause: 0.002)
            #expect(answers.map { $0.headers["x-request-id"] } == ["s1", "s2"])
            #expect(answers.allSatisfy { $0.status == 200 && $0.body == Array(buffer: whole.body) })
        }
    }

    /// A body (by its length) goes to the router with its request; a chunked one hands the
    /// rest of the connection to the decoder. The tiles after either are still answered right.
    @Test func bodiesAndChunkedRequestsAreTheDecoders() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let whole = Array(buffer: try await client.execute(uri: Self.tile, method: .get).body)
            let json = "{\"nonsense\": true}"
            let sized = "POST /v1/checks HTTP/1.1\r\nHost: x\r\nX-Request-Id: b1\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n" + json
            let chunked = "POST /v1/checks HTTP/1.1\r\nHost: x\r\nX-Request-Id: b3\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(json.utf8.count, radix: 16) + "\r\n" + json + "\r\n0\r\n\r\n"
            let bytes = sized + Self.get(Self.tile, id: "b2") + chunked + Self.get(Self.tile, id: "b4")
            let answers = try await RawHTTP.exchange(port: port, [Array(bytes.utf8)], answers: 4)
            #expect(answers.map { $0.headers["x-request-id"] } == ["b1", "b2", "b3", "b4"])
            #expect(answers[0].status == 400 && answers[2].status == 400, "the bad site is refused, its body read to the end")
            #expect(answers[1].status == 200 && answers[1].body == whole && answers[3].status == 200 && answers[3].body == whole)
        }
    }

    /// What the decoder refuses is still refused: the fast path answers nothing it cannot frame.
    @Test func aBrokenRequestIsStillRefused() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let bytes = "GET \(Self.tile) HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            let answers = try await RawHTTP.exchange(port: port, [Array(bytes.utf8)], answers: 1)
            #expect(answers.first?.status == 400, "no tile for a request with both a length and chunks")
        }
    }
}

/// A bare HTTP/1.1 client over a socket: writes the bytes as given, reads `answers` responses.
enum RawHTTP {
    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// On a thread of its own: blocking one of Swift's few pool threads could starve the
    /// router it waits for.
    static func exchange(port: Int, _ writes: [[UInt8]], answers count: Int, pause: Double = 0) async throws -> [Answer] {
        try await withCheckedThrowingContinuation { done in
            Thread { done.resume(with: Result { try blockingExchange(port: port, writes, answers: count, pause: pause) }) }.start()
        }
    }

    static func blockingExchange(port: Int, _ writes: [[UInt8]], answers count: Int, pause: Double) throws -> [Answer] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        defer { close(fd) }
        // Long: under `make test` every suite runs at once on two cores.
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect: \(errno)") }
        for w in writes {
            var sent = 0
            while sent < w.count {
                let n = w.withUnsafeBytes { send(fd, $0.baseAddress! + sent, w.count - sent, 0) }
                guard n > 0 else { throw Failure(description: "send: \(errno)") }
                sent += n
            }
            if pause > 0 { Thread.sleep(forTimeInterval: pause) }
        }
        var received: [UInt8] = []
        var answers: [Answer] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while answers.count < count {
            if let (answer, used) = try parse(received) {
                answers.append(answer)
                received.removeFirst(used)
                continue
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            guard n > 0 else {
                let start = String(decoding: received.prefix(600), as: UTF8.self)
                throw Failure(description: "recv gave \(n) (errno \(errno)) after \(answers.count) answers; \(received.count) bytes unread: \(start.debugDescription)")
            }
            received += buffer[0..<n]
        }
        return answers
    }

    /// One response from the start of `bytes`, and how many bytes it took; nil if not all here.
    static func parse(_ bytes: [UInt8]) throws -> (Answer, Int)? {
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        guard bytes.count >= 4, let headEnd = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<($0 + 4)]) == end }) else { return nil }
        let lines = String(decoding: bytes[0..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure(description: "bad status line \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard headers["transfer-encoding"] == nil else { throw Failure(description: "chunked answers are not read here") }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let start = headEnd + 4
        guard bytes.count >= start + length else { return nil }
        return (Answer(status: status, headers: headers, body: Array(bytes[start..<(start + length)])), start + length)
    }
}

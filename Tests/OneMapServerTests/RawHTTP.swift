import Foundation

/// A bare HTTP/1.1 client over a socket: sends bytes exactly as given (pipelined, split,
/// malformed) and reads answers as they come, for what a well-behaved client never asks.
final class RawConnection {
    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let fd: Int32
    private var received: [UInt8] = []

    /// `receiveTimeout`: the longest a read waits. Long by default: under `make test` every
    /// suite runs at once on two cores.
    init(port: Int, receiveTimeout: Double = 60) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        setTimeout(SO_RCVTIMEO, receiveTimeout)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let e = errno
            close(fd)
            throw Failure(description: "connect: \(e)")
        }
    }

    deinit { close(fd) }

    func setTimeout(_ option: Int32, _ seconds: Double) {
        var t = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, option, &t, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno) after \(sent) of \(bytes.count) bytes") }
            sent += n
        }
    }

    /// The next answer. `head`: it answers a HEAD, so it has no body whatever its headers say.
    func answer(head: Bool = false) throws -> Answer {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let (answer, used) = try Self.parse(received, head: head) {
                received.removeFirst(used)
                return answer
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            guard n > 0 else {
                let start = String(decoding: received.prefix(600), as: UTF8.self)
                throw Failure(description: "recv gave \(n) (errno \(errno)); \(received.count) bytes unread: \(start.debugDescription)")
            }
            received += buffer[0..<n]
        }
    }

    /// Whether the server closes the connection within `seconds`; what it sends meanwhile is
    /// dropped.
    func closedByServer(within seconds: Double) -> Bool {
        setTimeout(SO_RCVTIMEO, seconds)
        var buffer = [UInt8](repeating: 0, count: 65536)
        let until = Date().addingTimeInterval(seconds)
        while Date() < until {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n == 0 || (n < 0 && errno == ECONNRESET) { return true }
            if n < 0 && errno != EINTR { return false }  // timed out
        }
        return false
    }

    /// Whether the server has dropped the connection, seen without reading (which would let a
    /// stalled server go on): a reset or hang-up on the socket.
    func droppedByServer() -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        return poll(&p, 1, 0) == 1 && p.revents & Int16(POLLERR | POLLHUP) != 0
    }

    /// Pipelined requests in writes as given, then their `count` answers.
    static func exchange(port: Int, _ writes: [[UInt8]], answers count: Int, pause: Double = 0) throws -> [Answer] {
        let c = try RawConnection(port: port)
        for w in writes {
            try c.send(w)
            if pause > 0 { Thread.sleep(forTimeInterval: pause) }
        }
        return try (0..<count).map { _ in try c.answer() }
    }

    /// One answer from the start of `bytes`, and how many bytes it took; nil if not all here.
    static func parse(_ bytes: [UInt8], head: Bool) throws -> (Answer, Int)? {
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        guard bytes.count >= 4, let headEnd = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<($0 + 4)]) == end }) else {
            return nil
        }
        let lines = String(decoding: bytes[0..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure(description: "bad status line \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let start = headEnd + 4
        // RFC 9112 §6.3: these never have a body.
        if head || status < 200 || status == 204 || status == 304 { return (Answer(status: status, headers: headers, body: []), start) }
        guard headers["transfer-encoding"] == nil else { throw Failure(description: "chunked answers are not read here") }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard bytes.count >= start + length else { return nil }
        return (Answer(status: status, headers: headers, body: Array(bytes[start..<(start + length)])), start + length)
    }
}

enum RawHTTP {
    /// Runs blocking socket work on a thread of its own: blocking one of Swift's few pool
    /// threads could starve the router it waits for.
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { done in
            Thread { done.resume(with: Result { try work() }) }.start()
        }
    }

    static func get(_ path: String, id: String, extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: \(id)\r\n\(extra)\r\n"
    }
}

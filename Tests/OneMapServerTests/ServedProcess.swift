import Foundation
import FuzzSupport
import LayerStore

/// `onemap serve` in a process of its own, for what only a whole process shows: its memory
/// and processor time, read from /proc with none of the test's own work in them.
///
/// The binary is the one `swift build` made; `ONEMAP_BINARY` names another (an older build,
/// to see these tests fail there).
final class ServedProcess: @unchecked Sendable {  // started and stopped by one test; read only for its pid
    static var binary: String {
        if let given = ProcessInfo.processInfo.environment["ONEMAP_BINARY"], !given.isEmpty { return given }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/onemap").path
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let process = Process()
    let port: Int

    /// Starts serving `database` and returns once `/health` answers.
    init(database: String, arguments: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw Failure(description: "no onemap binary at \(Self.binary): build it first (make test does)")
        }
        port = try Self.freePort()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--db", database, "--port", String(port)] + arguments
        // A log line per request: read by nobody, and a pipe nobody reads would stop the server.
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try ChildProcess.launch(process)
        let until = Date().addingTimeInterval(120)
        while Date() < until {
            guard process.isRunning else { throw Failure(description: "onemap serve exited with \(process.terminationStatus)") }
            if let c = try? RawConnection(port: port, receiveTimeout: 10) {
                try c.send(RawHTTP.get("/health", id: "ready"))
                if (try? c.answer())?.status == 200 { return }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.terminate()
        throw Failure(description: "onemap serve did not answer /health on port \(port)")
    }

    deinit { stop() }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Resident memory now (`VmRSS`).
    func residentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else {
            throw Failure(description: "no VmRSS in /proc/\(process.processIdentifier)/status")
        }
        return kib * 1024
    }

    /// Processor time used so far, user and system, in seconds.
    func processorSeconds() throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)
        // After the command name, which is in parentheses and may hold spaces: fields 3 on;
        // utime and stime are fields 14 and 15 (proc(5)).
        guard let close = stat.lastIndex(of: ")") else { throw Failure(description: "unreadable /proc stat: \(stat)") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw Failure(description: "unreadable /proc stat: \(stat)")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// A port nobody listens on now (the kernel's pick).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure(description: "no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

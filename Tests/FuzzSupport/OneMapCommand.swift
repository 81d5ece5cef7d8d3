import Foundation

/// The `onemap` binary `make test` builds, run as a user runs it: what the CLI tests of
/// several targets share.
public enum OneMapCommand {
    public static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/onemap").path

    public static var isBuilt: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    public struct Run: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var json: Any? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
    }

    public static func run(_ args: [String]) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: stdout, stderr: stderr)
    }
}

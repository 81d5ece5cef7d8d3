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
        let r = try ChildProcess.run(binary, args)
        return Run(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: String(decoding: r.stderr, as: UTF8.self))
    }
}

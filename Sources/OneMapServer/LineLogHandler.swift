import Foundation
import Logging
import Synchronization

/// The server's log handler: swift-log's `StreamLogHandler` line format
/// (`<time> <level> <label>: k=v … [<source>] <message>`), made cheap enough for a line per
/// tile answered.
///
/// Why: with `StreamLogHandler` the request line cost a tile hit more than the lookup did:
/// a `strftime` per line, metadata merged, sorted and interpolated through several strings,
/// then one `write(2)` per line. Here the timestamp is made once a second, the line is built
/// in one string, and lines go out in batches (`LogSink`).
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    let label: String
    let sink: LogSink

    public init(label: String, sink: LogSink, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.sink = sink
        self.metadataProvider = metadataProvider
    }

    /// Makes every logger of the process write through this handler to standard error, and
    /// writes out what waits when the process exits. Once per process, before any logger.
    public static func bootstrap() {
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, sink: .standardError) }
        atexit { LogSink.standardError.flush() }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // Merged only when both sides have some: a request line brings all of its own.
        var all = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { all.merge(provided) { $1 } }
        if let explicit = event.metadata, !explicit.isEmpty {
            if all.isEmpty { all = explicit } else { all.merge(explicit) { $1 } }
        }
        if let error = event.error {
            all["error.message"] = .string("\(error)")
            all["error.type"] = .string(String(reflecting: type(of: error)))
        }
        var line = sink.timestamp()
        line.reserveCapacity(line.utf8.count + 64 + label.utf8.count + event.message.description.utf8.count + all.count * 40)
        line += " " + event.level.rawValue + (label.isEmpty ? ":" : " " + label + ":")
        for (key, value) in all.sorted(by: { $0.key < $1.key }) {
            line += " " + key + "="
            if case .string(let s) = value { line += s } else { line += value.description }
        }
        line += " [" + event.source + "] " + event.message.description + "\n"
        sink.write(line, now: event.level >= .warning)
    }
}

/// Where log lines go: a file descriptor, written in batches. A line waits at most
/// `interval` (a flusher thread), or until 64 KiB are waiting; a warning or worse, and
/// everything before it, is written at once. What a crash can lose is the last fraction of a
/// second of request lines, the same trade nginx's buffered access log makes; check records
/// and the audit trail are in the database, not here.
public final class LogSink: Sendable {
    let fd: Int32
    let interval: Double
    /// Lines not yet written; a line is appended without waiting for a write under way.
    private let pending: Mutex<[UInt8]>
    /// The batch being written. Held over the write(2) on purpose: that keeps batches in
    /// order on the descriptor.
    private let writing: Mutex<[UInt8]>
    private let stamp = PerSecondText { second in
        var t = second
        var local = tm()
        localtime_r(&t, &local)
        var buffer = [CChar](repeating: 0, count: 64)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    public static let standardError = LogSink(fd: 2)

    public init(fd: Int32, interval: Double = 0.1) {
        self.fd = fd
        self.interval = interval
        func buffer() -> [UInt8] {
            var b: [UInt8] = []
            b.reserveCapacity(80 * 1024)
            return b
        }
        pending = Mutex(buffer())
        writing = Mutex(buffer())
        // Holds the sink only to flush it, so a sink let go of ends its thread.
        let thread = Thread { [weak self] in
            while true {
                Thread.sleep(forTimeInterval: interval)
                guard let sink = self else { return }
                sink.flush()
            }
        }
        thread.name = "log flusher"
        thread.start()
    }

    func write(_ line: String, now: Bool) {
        let full = pending.withLock { pending in
            pending.append(contentsOf: line.utf8)
            return pending.count >= 64 * 1024
        }
        if now || full { flush() }
    }

    /// Writes out every waiting line.
    public func flush() {
        writing.withLock { batch in
            pending.withLock { swap(&$0, &batch) }
            var done = 0
            while done < batch.count {
                let n = batch.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, $0.count - done) }
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    break  // nowhere to write to: drop, as a closed stderr would
                }
                done += n
            }
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// Local time as `StreamLogHandler` writes it (`2026-11-29T18:31:50+0800`).
    func timestamp() -> String { stamp.now() }
}

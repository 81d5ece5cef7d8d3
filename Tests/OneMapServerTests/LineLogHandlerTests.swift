import Foundation
import Logging
import Testing

@testable import OneMapServer

/// The server's log lines: `StreamLogHandler`'s format, written in batches, a warning at once.
struct LineLogHandlerTests {
    /// A sink on a pipe, with a flush interval long enough that only `flush` or a warning writes.
    static func pipeSink() -> (LogSink, read: () -> String) {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        let sink = LogSink(fd: fds[1], interval: 3600)
        return (
            sink,
            {
                var out: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress!, $0.count) }
                    if n <= 0 { break }
                    out += buffer[0..<n]
                }
                return String(decoding: out, as: UTF8.self)
            }
        )
    }

    @Test func aLineReadsAsStreamLogHandlersWithSortedMetadata() {
        let (sink, read) = Self.pipeSink()
        var logger = Logger(label: "OneMap") { LineLogHandler(label: $0, sink: sink) }
        logger[metadataKey: "hb.request.id"] = "abc"
        logger.info(
            "request", metadata: ["status": .stringConvertible(200), "path": "/tiles/a/1/2/3.mvt", "list": .array(["x"])],
            source: "OneMapServer")
        #expect(read() == "", "an info line waits for the batch")
        sink.flush()
        let line = read()
        let stamp = #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} /#
        #expect(line.prefixMatch(of: stamp) != nil, "\(line)")
        #expect(
            line.hasSuffix(" info OneMap: hb.request.id=abc list=[\"x\"] path=/tiles/a/1/2/3.mvt status=200 [OneMapServer] request\n"),
            "\(line)")
    }

    @Test func aWarningIsWrittenAtOnceWithWhatCameBefore() {
        let (sink, read) = Self.pipeSink()
        let logger = Logger(label: "OneMap") { LineLogHandler(label: $0, sink: sink) }
        logger.info("first")
        logger.warning("second", metadata: ["layer": "farmland"])
        let lines = read().split(separator: "\n")
        #expect(
            lines.count == 2 && lines[0].hasSuffix("info OneMap: [OneMapServerTests] first")
                && lines[1].hasSuffix("warning OneMap: layer=farmland [OneMapServerTests] second"), "\(lines)")
    }
}

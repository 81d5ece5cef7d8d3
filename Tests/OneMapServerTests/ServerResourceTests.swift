import Foundation
import LayerStore
import Testing

/// What a hostile client can make the server spend, measured on `onemap serve` in its own
/// process (memory and processor time from /proc). The bounds are generous, far from what a
/// correct server uses and far below what the faults they guard against cost: these are not
/// timings.
struct ServerResourceTests {
    static let tile = "/tiles/farmland/16/54613/27454.mvt"

    /// Requests for a cached tile, pipelined by a client that never reads its answers: the
    /// server stops reading once it cannot write (the client's sends stall), so its memory
    /// stays put. (Answering them all into a queue grew it by ~100 MiB for 10 MiB of requests
    /// in a debug build, by 3 GiB in a release build.)
    @Test func aClientThatNeverReadsCannotGrowTheServer() async throws {
        let store = try farmlandStore()
        let server = try ServedProcess(database: store.path)
        let bound = 48 << 20
        let (growth, sent, stalled) = try await RawHTTP.run { () -> (Int, Int, Bool) in
            let warm = try RawConnection(port: server.port)
            try warm.send(RawHTTP.get(Self.tile, id: "warm"))
            _ = try warm.answer()
            let before = try server.residentBytes()
            let c = try RawConnection(port: server.port)
            // A send that waits this long means the server has stopped reading.
            c.setTimeout(SO_SNDTIMEO, 3)
            let batch = Array(String(repeating: "GET \(Self.tile) HTTP/1.1\r\nHost: x\r\n\r\n", count: 1_000).utf8)
            var (sent, peak, stalled) = (0, before, false)
            while sent < 16 << 20, peak - before < bound, !stalled {
                do { try c.send(batch) } catch { stalled = true }
                sent += batch.count
                peak = max(peak, try server.residentBytes())
            }
            // What it has read, it may still be answering.
            for _ in 0..<25 where peak - before < bound {
                Thread.sleep(forTimeInterval: 0.2)
                peak = max(peak, try server.residentBytes())
            }
            return (peak - before, sent, stalled)
        }
        #expect(growth < bound, "\(growth >> 20) MiB more after \(sent >> 20) MiB of requests")
        #expect(stalled, "the server read all \(sent >> 20) MiB of requests it could not answer")
        let after = try await RawHTTP.run {
            let c = try RawConnection(port: server.port)
            try c.send(RawHTTP.get("/health", id: "after"))
            return try c.answer().status
        }
        #expect(after == 200)
    }

    /// A 15 KB head sent a byte at a time, each byte its own read: the decoder keeps its
    /// place, so each read costs the same small amount (~1.4 s in all in a debug build, 0.07 s
    /// in release). Parsing the head again from its start on every read cost ~8 s (~1 s in
    /// release), and a few such clients slowed everyone.
    @Test func aHeadSentAByteAtATimeCostsLittle() async throws {
        let store = try farmlandStore()
        let server = try ServedProcess(database: store.path)
        let padding = (0..<150).map { "X-Pad-\($0): " + String(repeating: "a", count: 86) + "\r\n" }.joined()
        let head = Array(RawHTTP.get(Self.tile, id: "trickle", extra: padding).utf8)
        let (status, seconds) = try await RawHTTP.run { () -> (Int, Double) in
            let c = try RawConnection(port: server.port)
            let before = try server.processorSeconds()
            for byte in head {
                try c.send([byte])
                usleep(700)  // longer than a read takes, so each byte is read alone
            }
            let status = try c.answer().status
            return (status, try server.processorSeconds() - before)
        }
        #expect(status == 200)
        #expect(seconds < 3.5, "\(seconds) s of the server's processor time for \(head.count) bytes")
    }
}

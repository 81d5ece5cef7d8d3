import Dispatch
import Foundation

/// An output file that is either the old one or the complete new one: what the commands that
/// write large files (`tiles export`, `check batch`) promise.
enum AtomicOutput {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `write` on a file beside `out`, then renames it into place. Interrupted (Ctrl-C,
    /// SIGTERM) or failed, the partial file goes and `out` is left as it was.
    static func write(_ out: String, _ write: (String) throws -> Void) throws {
        let partial = out + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: partial)
        let interrupted = removeOnInterrupt(partial)
        defer { for s in interrupted { s.cancel() } }
        do {
            try write(partial)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw Failure(description: "\(out): \(error)")
        }
        guard rename(partial, out) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: partial)
            throw Failure(description: "\(out): the finished file could not be moved into place: \(reason)")
        }
    }

    /// On Ctrl-C or a polite kill: the partial file goes, then the process, with the usual
    /// status of a process ended by that signal.
    static func removeOnInterrupt(_ partial: String) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                try? FileManager.default.removeItem(atPath: partial)
                FileHandle.standardError.write(Data("\ninterrupted: \(partial) removed, nothing written at the output\n".utf8))
                Foundation.exit(128 + sig)
            }
            source.resume()
            return source
        }
    }
}

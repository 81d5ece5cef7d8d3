import Dispatch
import Foundation

/// Runs CPU-bound or blocking work (parsing a large site, GEOS, an fsync, a SQLite read) on
/// Dispatch's threads rather than Swift's cooperative pool, which has one thread per core:
/// blocking those would stall every request, timers and deadlines included, until the work
/// ended.
public enum Blocking {
    /// `work`'s value or error, awaited.
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            start(work) { continuation.resume(with: $0) }
        }
    }

    /// Starts `work` on a Dispatch thread and hands its outcome to `then` there: for callers
    /// that wait in their own way (a deadline racing the work).
    public static func start<T>(
        _ work: @escaping @Sendable () throws -> T,
        then: @escaping @Sendable (Result<T, Error>) -> Void
    ) {
        DispatchQueue.global().async { then(Result { try work() }) }
    }

    /// Starts `work` on a thread of its own at a lower priority (`nice` 1…19), for work done
    /// ahead of need (warming tiles and check plans, drawing records' geometry): requests
    /// answered meanwhile get the cores first. Dispatch's quality of service does not lower a
    /// thread's priority on Linux; Linux keeps the nice value per thread, so it is set from
    /// inside (`who` 0 is the calling thread).
    public static func startBackgroundThread(named name: String, nice: Int32, _ work: @escaping @Sendable () -> Void) {
        let thread = Thread {
            #if os(Linux)
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
            #endif
            work()
        }
        thread.name = name
        thread.start()
    }
}

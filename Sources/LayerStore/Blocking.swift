import Dispatch

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
}

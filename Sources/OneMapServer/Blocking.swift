import Dispatch

/// Runs CPU-bound or blocking work (parsing a large site, GEOS, an fsync) on Dispatch's
/// threads rather than Swift's cooperative pool, which has one thread per core: blocking
/// those would stall every request, timers and deadlines included, until the work ended.
enum Blocking {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}

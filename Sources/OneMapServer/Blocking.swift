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

/// Work started now on a Dispatch thread, its value waited for later (on a blocking thread).
final class Beside<T>: @unchecked Sendable {  // `result` is written before `done` is signalled, read after
    private let done = DispatchSemaphore(value: 0)
    private var result: T?

    init(_ work: @escaping @Sendable () -> T) {
        DispatchQueue.global().async { [self] in
            result = work()
            done.signal()
        }
    }

    func value() -> T {
        done.wait()
        done.signal()
        return result!
    }
}

import Foundation
import Hummingbird
import LayerStore
import Synchronization

/// The per-request time limit. `work` runs in its own task; if the limit passes first the
/// caller gets a 503 at once and the work is cancelled (GRDB interrupts its SQL on
/// cancellation; GEOS work in progress finishes and its answer is dropped). A task group
/// would not do: it waits for every child, so work that ignores cancellation would hold
/// the answer past the limit.
struct Deadline: Sendable {
    let seconds: Double
    /// Called as each request's bookkeeping is freed: lets a test prove none is kept.
    var released: (@Sendable () -> Void)? = nil

    init(seconds: Double, released: (@Sendable () -> Void)? = nil) {
        self.seconds = seconds
        self.released = released
    }

    func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        guard seconds.isFinite, seconds > 0 else { return try await work() }
        let seconds = self.seconds
        let outcome = Outcome<T>(released: released)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
                // The timer holds the outcome weakly: the outcome holds the timer (to cancel it),
                // and a cycle between them once kept every request's bookkeeping forever (the
                // 60-second load grew by ~1 KiB a request). The caller and the work keep it alive.
                outcome.start(
                    continuation,
                    work: Task.detached { outcome.finish(with: await Result { try await work() }) },
                    timer: DispatchWorkItem { [weak outcome] in outcome?.finish(with: .failure(Self.timedOut(seconds))) },
                    after: seconds)
            }
        } onCancel: {
            outcome.finish(with: .failure(CancellationError()))
        }
    }

    /// Blocking work (a tile) on a Dispatch thread, within the limit: the same as
    /// `run { try await Blocking.run(work) }`, with one hop fewer. Going through a task to
    /// reach the Dispatch thread cost a cold z16 tile a fifth of its time in wake-ups.
    /// `since`: when the request started waiting (for a slot), which the limit counts too.
    func runBlocking<T: Sendable>(
        since start: ContinuousClock.Instant? = nil, _ work: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await runBlocking(since: start, settling: { _ in try work() })
    }

    /// The same, for work that ends with a step that must not be cut off: storing the record
    /// the caller is answered with. The work calls `settle()` before that step; from then on
    /// neither the limit nor the caller's cancellation answers for it, and the caller gets
    /// what the work returns. `settle()` is false when one of them answered first: the work
    /// must then stop, so nothing is stored that its caller was told had failed.
    func runBlocking<T: Sendable>(
        since start: ContinuousClock.Instant? = nil,
        settling work: @escaping @Sendable (_ settle: @Sendable () -> Bool) throws -> T
    ) async throws -> T {
        guard seconds.isFinite, seconds > 0 else { return try await Blocking.run { try work { true } } }
        let seconds = self.seconds
        let waited = start.map { $0.duration(to: .now).inSeconds } ?? 0
        let left = Swift.max(seconds - waited, 0.001)
        let outcome = Outcome<T>(released: released)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
                outcome.start(
                    continuation, work: nil,
                    timer: DispatchWorkItem { [weak outcome] in outcome?.finish(with: .failure(Self.timedOut(seconds))) },
                    after: left)
                // Work on a Dispatch thread cannot be stopped; past the limit its answer is dropped.
                Blocking.start({ try work { outcome.settle() } }) { outcome.finish(with: $0, byWork: true) }
            }
        } onCancel: {
            outcome.finish(with: .failure(CancellationError()))
        }
    }

    static func timedOut(_ s: Double) -> Problem {
        Problem(
            .serviceUnavailable, "timed out",
            "the request took longer than this server's limit of \(s == s.rounded() ? String(Int(s)) : String(s)) s; try a smaller request",
            headers: [.retryAfter: "5"])
    }

    /// Resumes the caller exactly once, with whichever comes first, and stops the other.
    private final class Outcome<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, Error>?
            var early: Result<T, Error>?
            var work: Task<Void, Never>?
            var timer: Timer?
            var done = false
            /// The work has settled: only its own outcome answers now.
            var settled = false
        }
        /// @unchecked: Dispatch lets any thread cancel a work item; Linux's Dispatch just does
        /// not mark it Sendable.
        private struct Timer: @unchecked Sendable { let item: DispatchWorkItem }
        private let s = Mutex(State())
        private let released: (@Sendable () -> Void)?

        init(released: (@Sendable () -> Void)?) { self.released = released }
        deinit { released?() }

        /// The timer is a Dispatch work item, not a sleeping task: it fires even when every
        /// thread of the cooperative pool is busy.
        func start(_ c: CheckedContinuation<T, Error>, work: Task<Void, Never>?, timer: DispatchWorkItem, after seconds: Double) {
            let held = Timer(item: timer)
            let early: Result<T, Error>? = s.withLock { s in
                if let e = s.early { s.early = nil; return e }
                s.work = work
                s.timer = held
                s.continuation = c
                return nil
            }
            if let early {
                work?.cancel()
                c.resume(with: early)
            } else {
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: timer)
            }
        }

        /// Past this the limit and cancellation no longer answer; false if one already has.
        func settle() -> Bool {
            let (settled, timer): (Bool, Timer?) = s.withLock { s in
                guard !s.done else { return (false, nil) }
                s.settled = true
                defer { s.timer = nil }
                return (true, s.timer)
            }
            timer?.item.cancel()
            return settled
        }

        func finish(with result: Result<T, Error>, byWork: Bool = false) {
            let (c, work, timer): (CheckedContinuation<T, Error>?, Task<Void, Never>?, Timer?) = s.withLock { s in
                guard !s.done, byWork || !s.settled else { return (nil, nil, nil) }
                s.done = true
                guard let c = s.continuation else { s.early = result; return (nil, nil, nil) }
                defer { s.continuation = nil; s.work = nil; s.timer = nil }
                return (c, s.work, s.timer)
            }
            guard let c else { return }
            work?.cancel()
            timer?.item.cancel()
            c.resume(with: result)
        }
    }
}

extension Result where Failure == Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

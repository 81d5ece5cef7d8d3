import Dispatch
import Hummingbird
import Synchronization

/// Bounds the heavy requests (checks, ledgers, audits) running at once. A few more wait
/// their turn in arrival order; past that the caller is told to come back (503 with
/// Retry-After) instead of every request slowing down until all of them time out.
///
/// Why a lock and not an actor: a slot is taken and given back on every check, and most of
/// the time one is free. Under a lock that costs no hop at all, and blocking work gives its
/// slot back from the Dispatch thread it ran on, as it ends; an actor cost each check two
/// hops onto the cooperative pool (a twentieth of a small check's HTTP overhead).
final class WorkGate: Sendable {
    let slots: Int
    let queueLimit: Int

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, Error>
    }
    private struct State {
        var running = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0

        /// Takes a free slot (true), or says the caller must wait (false), or refuses it
        /// when the line is full.
        mutating func takeSlot(slots: Int, queueLimit: Int, _ what: String) throws -> Bool {
            if running < slots {
                running += 1
                return true
            }
            guard waiters.count < queueLimit else {
                throw Problem(
                    .serviceUnavailable, "busy",
                    "\(running) \(what)s are running and \(waiters.count) waiting, the most this server takes; retry shortly",
                    headers: [.retryAfter: "1"])
            }
            return false
        }
    }
    private let state = Mutex(State())

    init(slots: Int, queueLimit: Int) {
        self.slots = slots
        self.queueLimit = queueLimit
    }

    var running: Int { state.withLock { $0.running } }
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Runs `work` in a slot. The slot is held until `work` really ends, even when the
    /// caller has given up on it (a timeout), so abandoned work still counts against the limit.
    func run<T: Sendable>(_ what: String, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await enter(what)
        let task = Task.detached { [self] in
            defer { leave() }
            return try await work()
        }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }

    /// Takes a slot, waiting in line for one if need be, at most `timeout` (the caller's
    /// deadline). Whoever enters must `leave()` once the work really ends.
    func enter(_ what: String, timeout: Deadline? = nil) async throws {
        // Most of the time a slot is free: taken here, with no continuation made.
        let id: UInt64? = try state.withLock { s in
            if try s.takeSlot(slots: slots, queueLimit: queueLimit, what) { return nil }
            s.nextID += 1
            return s.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                // Asked again under the lock that queues: a slot freed (or the line filled)
                // since the first look is seen here.
                let answer: Result<Void, Error>? = state.withLock { s in
                    do {
                        if try s.takeSlot(slots: slots, queueLimit: queueLimit, what) { return .success(()) }
                    } catch {
                        return .failure(error)
                    }
                    s.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let answer { return continuation.resume(with: answer) }
                // Cancelled before it was in line: the handler found nothing to drop.
                if Task.isCancelled { dropWaiter(id, with: CancellationError()) }
                if let timeout, timeout.seconds.isFinite, timeout.seconds > 0 {
                    DispatchQueue.global().asyncAfter(deadline: .now() + timeout.seconds) { [self] in
                        dropWaiter(id, with: Deadline.timedOut(timeout.seconds))
                    }
                }
            }
        } onCancel: {
            dropWaiter(id, with: CancellationError())
        }
    }

    /// A freed slot passes straight to the next waiter, so `running` never dips and rises.
    func leave() {
        let next: Waiter? = state.withLock { s in
            if s.waiters.isEmpty {
                s.running -= 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.continuation.resume()
    }

    /// Takes a waiter out of the line with `error`; false when it is no longer in it.
    @discardableResult
    private func dropWaiter(_ id: UInt64, with error: Error) -> Bool {
        let dropped: Waiter? = state.withLock { s in
            guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return s.waiters.remove(at: i)
        }
        dropped?.continuation.resume(throwing: error)
        return dropped != nil
    }
}

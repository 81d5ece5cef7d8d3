import Hummingbird

/// Bounds the heavy requests (checks, ledgers, audits) running at once. A few more wait
/// their turn in arrival order; past that the caller is told to come back (503 with
/// Retry-After) instead of every request slowing down until all of them time out.
actor WorkGate {
    let slots: Int
    let queueLimit: Int
    private(set) var running = 0
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, Error>)] = []
    private var nextID: UInt64 = 0

    init(slots: Int, queueLimit: Int) {
        self.slots = slots
        self.queueLimit = queueLimit
    }

    var waiting: Int { waiters.count }

    /// Runs `work` in a slot. The slot is held until `work` really ends, even when the
    /// caller has given up on it (a timeout), so abandoned work still counts against the limit.
    nonisolated func run<T: Sendable>(_ what: String, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await enter(what)
        let task = Task.detached { [self] in
            defer { Task { await self.leave() } }
            return try await work()
        }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }

    private func enter(_ what: String) async throws {
        if running < slots {
            running += 1
            return
        }
        guard waiters.count < queueLimit else {
            throw APIError(
                .serviceUnavailable, "busy",
                "\(running) \(what)s are running and \(waiters.count) waiting, the most this server takes; retry shortly",
                headers: [.retryAfter: "1"])
        }
        let id = nextID
        nextID += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { waiters.append((id, $0)) }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    /// A freed slot passes straight to the next waiter, so `running` never dips and rises.
    private func leave() {
        if waiters.isEmpty {
            running -= 1
        } else {
            waiters.removeFirst().continuation.resume()
        }
    }

    private func cancelWaiter(_ id: UInt64) {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: i).continuation.resume(throwing: CancellationError())
    }
}

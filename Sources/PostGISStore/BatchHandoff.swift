/// Batches handed from one task to another, at most `capacity` waiting: the reader waits when
/// the writer falls behind, so a copy's memory stays at a few batches whatever the layer's size.
actor BatchHandoff<Batch: Sendable> {
    private var queue: [Batch] = []
    private var finished = false
    private var failure: Error?
    private var takers: [CheckedContinuation<Void, Never>] = []
    private var putters: [CheckedContinuation<Void, Never>] = []
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func put(_ batch: Batch) async throws {
        while queue.count >= capacity && failure == nil {
            await withCheckedContinuation { putters.append($0) }
        }
        if let failure { throw failure }
        queue.append(batch)
        wake(&takers)
    }

    /// The next batch; nil when the reader finished; rethrows the reader's failure.
    func take() async throws -> Batch? {
        while queue.isEmpty && !finished && failure == nil {
            await withCheckedContinuation { takers.append($0) }
        }
        if let failure { throw failure }
        guard !queue.isEmpty else { return nil }
        let batch = queue.removeFirst()
        wake(&putters)
        return batch
    }

    func finish() {
        finished = true
        wake(&takers)
    }

    /// Either side gave up: the other stops at its next step.
    func fail(_ error: Error) {
        failure = error
        wake(&takers)
        wake(&putters)
    }

    private func wake(_ waiting: inout [CheckedContinuation<Void, Never>]) {
        let all = waiting
        waiting.removeAll()
        for c in all { c.resume() }
    }
}

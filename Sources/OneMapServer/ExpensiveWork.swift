import LayerStore

/// How every expensive request runs: checks, reports, ledgers, audits, diffs, feature pages,
/// record reads. It takes a slot of the work gate (or waits, or is told to come back), it
/// ends at the server's time limit, and its blocking work runs on Dispatch threads, so no
/// number of such requests can starve `/health`, tiles or each other.
extension ServerContext {
    func expensive<T: Sendable>(_ what: String, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let gate = self.gate
        return try await deadline.run { try await gate.run(what, work) }
    }

    /// Blocking work (SQL, GEOS, rendering): the same, on a Dispatch thread. The slot is
    /// taken here and given back by the Dispatch thread as the work ends, so the work costs
    /// no task of its own and no hop back to give the slot back; the time spent waiting in
    /// line counts against the limit.
    func expensive<T: Sendable>(_ what: String, blocking work: @escaping @Sendable () throws -> T) async throws -> T {
        try await expensive(what, settling: { _ in try work() })
    }

    /// Blocking work that ends by storing what its caller is answered with (a check and its
    /// record), all on one Dispatch thread: a hop back to the request's task and out again
    /// between the two cost a POST 0.05–0.1 ms (bench/README.md, issue 20's fourth pass). The work calls
    /// `settle()` once the expensive part is done: that gives the slot back (the store
    /// waits on the disk, not on a core, and shares its commit with other requests) and
    /// takes the rest out of the limit, so a record is stored exactly when its caller is
    /// answered with it. `settle()` throws if the limit or the caller's going away came first.
    func expensive<T: Sendable>(
        _ what: String, settling work: @escaping @Sendable (_ settle: () throws -> Void) throws -> T
    ) async throws -> T {
        let gate = self.gate
        let arrived = ContinuousClock.now
        try await gate.enter(what, timeout: deadline)
        return try await deadline.runBlocking(since: arrived) { (claim: @Sendable () -> Bool) in
            var holding = true
            defer { if holding { gate.leave() } }
            return try work {
                if holding {
                    holding = false
                    gate.leave()
                }
                guard claim() else { throw CancellationError() }
            }
        }
    }
}

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

    /// Blocking work (SQL, GEOS, rendering): the same, on a Dispatch thread.
    func expensive<T: Sendable>(_ what: String, blocking work: @escaping @Sendable () throws -> T) async throws -> T {
        try await expensive(what) { try await Blocking.run(work) }
    }
}

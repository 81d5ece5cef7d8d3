import Foundation
import LayerStore
import PostgresNIO
import Synchronization

/// Keeps a replica's local copy following the database: it listens for new versions
/// (`LISTEN onemap_versions`, which every load notifies at its commit), for the other
/// replicas' check records (`onemap_checks`) and for keys made or revoked (`onemap_keys`),
/// copies them as they come, and after a lost
/// connection reconnects and copies what it missed. Its state is for `/health`: a replica that
/// cannot reach the database goes on answering reads from its copy, but cannot store checks.
public final class PostGISFollower: Sendable {
    public let location: PostGISLocation
    /// A hot standby of `location` the layers are copied from; nil: from `location` itself.
    public let standby: PostGISLocation?
    public let store: Store
    /// The replicas' shared check records, copied in as they are stored; nil: records are not shared.
    public let records: PostGISRecords?
    private let state = Mutex<String?>("connecting")
    private let onCopied: @Sendable ([PostGISMirror.Copied]) -> Void
    private let log: @Sendable (String) -> Void
    /// Seconds between attempts to reconnect.
    let retrySeconds: Double
    /// After copying the other replicas' records, the pause before the next copy.
    static let copyPauseNanoseconds: UInt64 = 50_000_000

    public init(
        location: PostGISLocation, standby: PostGISLocation? = nil, store: Store, records: PostGISRecords? = nil,
        retrySeconds: Double = 1,
        onCopied: @escaping @Sendable ([PostGISMirror.Copied]) -> Void, log: @escaping @Sendable (String) -> Void
    ) {
        self.location = location
        self.standby = standby
        self.store = store
        self.records = records
        self.retrySeconds = retrySeconds
        self.onCopied = onCopied
        self.log = log
    }

    /// Nil while following; else why not ("reconnecting: …").
    public var problem: String? { state.withLock { $0 } }

    /// Follows until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await PostGISDatabase.with(location) { db in
                    try await PostGISMirror.with(primary: db, standby: standby, store: store) { mirror in try await follow(db, mirror) }
                }
            } catch {
                if Task.isCancelled { return }
                let reason = "reconnecting to \(location) every \(retrySeconds) s: \(PostGISDatabase.reason(error))"
                if problem != reason { log(reason) }
                state.withLock { $0 = reason }
            }
            try? await Task.sleep(nanoseconds: UInt64(retrySeconds * 1e9))
        }
    }

    /// Listens on the primary (`db`: a standby is sent no notifications) and copies through
    /// `mirror`.
    private func follow(_ db: PostGISDatabase, _ mirror: PostGISMirror) async throws {
        let records = self.records
        let keys = KeyRing(store: store)
        try await db.connection.listen(on: PostGISDatabase.versionsChannel) { versions in
            try await db.connection.listen(on: PostGISDatabase.checksChannel) { checks in
                try await db.connection.listen(on: PostGISDatabase.keysChannel) { keyChanges in
                    // Listening first, then copying: what was committed in between is copied now,
                    // and its notification finds nothing left to do.
                    try await PostGISKeys.copy(db, into: keys)
                    if problem != nil { log("following \(location)") }
                    state.withLock { $0 = nil }
                    report(try await mirror.sync())
                    try await records?.copyNew(db)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { for try await _ in versions { self.report(try await mirror.sync()) } }
                        group.addTask { for try await _ in keyChanges { try await PostGISKeys.copy(db, into: keys) } }
                        group.addTask {
                            for try await check in checks where records?.wants(check.payload) == true {
                                try await records?.copyNew(db)
                                // At most twenty copies a second: the records announced meanwhile are
                                // copied together, in one commit of the records file, not one each.
                                try await Task.sleep(nanoseconds: Self.copyPauseNanoseconds)
                            }
                        }
                        // Any ends when the connection does (or the task is cancelled).
                        try await group.next()
                        group.cancelAll()
                    }
                }
            }
        }
        // The notifications end when the task is cancelled (the server stops), or when the
        // connection is lost.
        if !Task.isCancelled { throw StoreError.database("the database closed the connection") }
    }

    private func report(_ copied: [PostGISMirror.Copied]) {
        guard !copied.isEmpty else { return }
        for c in copied {
            log("copied version \(c.version) of '\(c.layer)' (\(c.count) features) in \(String(format: "%.1f", c.seconds)) s")
        }
        onCopied(copied)
    }
}

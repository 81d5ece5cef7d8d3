import Foundation
import GRDB
import LayerStore
import Synchronization

/// Reads of restricted data on record (全留痕): who read which restricted layer, through
/// which route, what they asked (a query, a feature id, a tile), how many features came back,
/// when, and the request's id. Kept in the records file beside the check records, immutable,
/// and on a hash chain of their own (`onemap_access_chain`, head in `…-records.access.head`),
/// which `onemap access verify` walks as `records verify` walks the checks'. A replica of a
/// PostgreSQL database also stores them there (`AccessUpstream`), where every replica's reads
/// are listed together, on the database's own chain.
///
/// Written a moment after the answer, not before it: a map reads a restricted layer as dozens
/// of tiles a second, and a commit (an fsync) before each would hold every one of them. Reads
/// noted within `flushSeconds` of each other share one commit; a crash in that window loses
/// those notes (the answer was already given), which the README says.
public final class AccessRecords: Sendable {
    public let store: Store
    let flushSeconds: Double
    private let pending = Mutex<Pending>(Pending())
    private let headFile: ChainHeadFile
    /// The shared store a replica also keeps them in; nil on one machine.
    let upstream: (any AccessUpstream)?
    /// Notes held at most while the records file cannot take them (a full disk): past this the
    /// oldest are dropped, and counted, rather than the server's memory.
    static let maxPending = 100_000

    private struct Pending {
        var notes: [Note] = []
        var flushScheduled = false
        var dropped = 0
    }
    /// One flush hands records to the shared store at a time, so they reach it in order.
    private let shipping = NSLock()

    /// One read, as the route that answered it knows it.
    public struct Note: Sendable {
        public var who: String
        public var subject: String?
        public var route: String
        public var layer: String
        public var what: String
        /// Features returned; nil where the route does not count them (tiles).
        public var returned: Int?
        public var requestID: String?
        public var at: Date

        public init(
            who: String, subject: String?, route: String, layer: String, what: String, returned: Int?, requestID: String?,
            at: Date = Date()
        ) {
            self.who = who
            self.subject = subject
            self.route = route
            self.layer = layer
            self.what = what
            self.returned = returned
            self.requestID = requestID
            self.at = at
        }
    }

    /// A stored access record.
    public struct Record: Sendable, Codable, Equatable {
        public var seq: Int64
        public var id: String
        public var at: String
        public var who: String
        public var subject: String?
        public var route: String
        public var layer: String
        public var what: String
        public var returned: Int?
        public var requestID: String?

        public init(
            seq: Int64, id: String, at: String, who: String, subject: String?, route: String, layer: String, what: String,
            returned: Int?, requestID: String?
        ) {
            self.seq = seq
            self.id = id
            self.at = at
            self.who = who
            self.subject = subject
            self.route = route
            self.layer = layer
            self.what = what
            self.returned = returned
            self.requestID = requestID
        }

        init(row: Row) {
            seq = row["seq"]
            id = row["id"]
            at = row["at"]
            who = row["who"]
            subject = row["subject"]
            route = row["route"]
            layer = row["layer"]
            what = row["what"]
            returned = row["returned"]
            requestID = row["request_id"]
        }

        /// What the chain hashes; PostgreSQL's trigger (`PostGISAccess.schema`) hashes the same bytes.
        package var canonical: Data {
            Record.canonical(
                id: id, at: at, who: who, subject: subject, route: route, layer: layer, what: what, returned: returned, requestID: requestID
            )
        }

        /// What the chain hashes: every column but the position, in this order.
        static func canonical(
            id: String, at: String, who: String, subject: String?, route: String, layer: String, what: String, returned: Int?,
            requestID: String?
        ) -> Data {
            RecordChain.canonical(
                [id, at, who, subject, route, layer, what, returned.map(String.init), requestID].map { $0.map { Data($0.utf8) } })
        }
    }

    public init(store: Store, flushSeconds: Double = 0.2, upstream: (any AccessUpstream)? = nil) {
        self.store = store
        self.flushSeconds = flushSeconds
        self.upstream = upstream
        headFile = ChainHeadFile(path: Self.headPath(records: store.recordsPath))
        // Records an earlier run stored here but could not hand on before it stopped.
        if upstream != nil {
            pending.withLock { $0.flushScheduled = true }
            scheduleFlush(after: flushSeconds)
        }
    }

    /// Where the access chain's head is kept: `onemap-records.sqlite` → `onemap-records.access.head`.
    public static func headPath(records: String) -> String {
        RecordChain.headPath(records: records, suffix: ".access.head")
    }

    /// Notes a read; it is stored with the others of the next `flushSeconds`.
    public func note(_ note: Note) {
        let schedule = pending.withLock { p -> Bool in
            p.notes.append(note)
            if p.notes.count > Self.maxPending {
                let overflow = p.notes.count - Self.maxPending
                p.notes.removeFirst(overflow)
                p.dropped += overflow
            }
            guard !p.flushScheduled else { return false }
            p.flushScheduled = true
            return true
        }
        if schedule { scheduleFlush(after: flushSeconds) }
    }

    private func scheduleFlush(after seconds: Double) {
        // Weakly: records let go of (a server stopped, which flushed them) are not kept alive
        // with their store for the time left.
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [weak self] in
            guard let self else { return }
            pending.withLock { $0.flushScheduled = false }
            // A failure keeps the notes for the next flush (`flush` puts them back).
            try? flush()
        }
    }

    /// Stores every note made so far, in one transaction, each linked onto the chain; then
    /// hands every record the shared store does not have yet to it.
    public func flush() throws {
        let notes = pending.withLock { p -> [Note] in
            defer { p.notes = [] }
            return p.notes
        }
        if !notes.isEmpty {
            do {
                let head = try store.pool.write { db -> RecordChain.Head? in
                    var head: RecordChain.Head?
                    for note in notes { head = try Self.insert(note, db: db) }
                    return head
                }
                headFile.publish(head)
            } catch {
                pending.withLock { $0.notes.insert(contentsOf: notes, at: 0) }
                throw error
            }
        }
        try ship()
    }

    /// Hands the shared store the records past the last it took (`onemap_access_shipped`, kept in
    /// the records file, so records a stopped replica had not handed on go at its next start).
    /// When the store is away they wait in the records file, and are offered again a second later.
    private func ship() throws {
        guard let upstream else { return }
        shipping.lock()
        defer { shipping.unlock() }
        do {
            while true {
                let batch = try store.pool.read { db in
                    try Row.fetchAll(
                        db,
                        sql: """
                            SELECT * FROM onemap_access WHERE seq > COALESCE((SELECT upto FROM onemap_access_shipped), 0)
                            ORDER BY seq LIMIT 1000
                            """
                    ).map(Record.init(row:))
                }
                guard let last = batch.last else { return }
                try upstream.store(batch)
                try store.pool.write { db in
                    try db.execute(
                        sql: "INSERT INTO onemap_access_shipped(id, upto) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET upto = excluded.upto",
                        arguments: [last.seq])
                }
                if batch.count < 1000 { return }
            }
        } catch {
            let retry = pending.withLock { p -> Bool in
                guard !p.flushScheduled else { return false }
                p.flushScheduled = true
                return true
            }
            if retry { scheduleFlush(after: 1) }
            throw error
        }
    }

    static func insert(_ note: Note, db: Database) throws -> RecordChain.Head {
        let id = CheckRecords.newID(note.at, prefix: "acc_")
        let at = CheckRecords.timestamp(note.at)
        try db.cachedStatement(
            sql: "INSERT INTO onemap_access(id, at, who, subject, route, layer, what, returned, request_id) VALUES (?,?,?,?,?,?,?,?,?)"
        ).execute(arguments: [id, at, note.who, note.subject, note.route, note.layer, note.what, note.returned, note.requestID])
        let canonical = Record.canonical(
            id: id, at: at, who: note.who, subject: note.subject, route: note.route, layer: note.layer, what: note.what,
            returned: note.returned, requestID: note.requestID)
        return try RecordChain.append(seq: db.lastInsertedRowID, id: id, canonical: canonical, chain: chained.chain, db: db)
    }

    /// The records, newest first: only those of `who` (a key or person as records name
    /// them), of `layer`, and at or after `since` (an ISO 8601 time or date) when given.
    /// A replica lists every replica's, from the shared store.
    public func list(who: String? = nil, layer: String? = nil, since: String? = nil, limit: Int = 100, offset: Int = 0) throws -> (
        items: [Record], total: Int
    ) {
        if let upstream { return try upstream.list(who: who, layer: layer, since: since, limit: limit, offset: offset) }
        return try store.pool.read { db in
            var conditions: [String] = []
            var args: StatementArguments = []
            if let who { conditions.append("who = ?"); args += [who] }
            if let layer { conditions.append("layer = ?"); args += [layer] }
            if let since { conditions.append("at >= ?"); args += [Self.sinceBound(since)] }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_access \(filter)", arguments: args) ?? 0
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM onemap_access \(filter) ORDER BY seq DESC LIMIT ? OFFSET ?", arguments: args + [limit, offset])
            return (rows.map(Record.init(row:)), total)
        }
    }

    /// `since` as a text bound on the records' times. Records write `…T08:00:00.000Z`; a `since`
    /// of `…T08:00:00Z` compared as text would put every record of that second before it
    /// ('.' < 'Z'): without its Z it is a prefix of them, and sorts first.
    public static func sinceBound(_ since: String) -> String { since.hasSuffix("Z") ? String(since.dropLast()) : since }

    /// A date or a UTC time as records write them (`since`), so that comparing text compares times.
    public static func isTime(_ s: String) -> Bool {
        s.range(of: #"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z?)?$"#, options: .regularExpression) != nil
    }

    /// How many notes were dropped because the records file could not take them in time.
    public var dropped: Int { pending.withLock { $0.dropped } }

    public static func head(_ db: Database) throws -> RecordChain.Head? { try RecordChain.head(db, chain: chained.chain) }

    /// Walks the access chain as `RecordChain.verify` walks the checks'.
    public static func verify(_ db: Database, keptHead: RecordChain.Head?) throws -> RecordChain.Verification {
        try RecordChain.verify(db, chained, keptHead: keptHead)
    }

    static let chained = RecordChain.Chained(
        records: "onemap_access", chain: "onemap_access_chain", columns: "c.seq AS record_seq, c.*",
        canonical: { Record(row: $0).canonical })

    public static func readHead(records: String) -> RecordChain.Head? { RecordChain.readHead(at: headPath(records: records)) }
}

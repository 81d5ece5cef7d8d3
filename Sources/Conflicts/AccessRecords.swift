import Foundation
import GRDB
import LayerStore
import Synchronization

/// Reads of restricted data on record (全留痕): who read which restricted layer, through
/// which route, what they asked (a query, a feature id, a tile), how many features came back,
/// when, and the request's id. Kept in the records file beside the check records, immutable,
/// and on a hash chain of their own (`onemap_access_chain`, head in `…-records.access.head`),
/// which `onemap access verify` walks as `records verify` walks the checks'.
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
    /// Notes held at most while the records file cannot take them (a full disk): past this the
    /// oldest are dropped, and counted, rather than the server's memory.
    static let maxPending = 100_000

    private struct Pending {
        var notes: [Note] = []
        var flushScheduled = false
        var dropped = 0
    }

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

        var canonical: Data {
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

    public init(store: Store, flushSeconds: Double = 0.2) {
        self.store = store
        self.flushSeconds = flushSeconds
        headFile = ChainHeadFile(path: Self.headPath(records: store.recordsPath))
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
        guard schedule else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + flushSeconds) { [self] in
            pending.withLock { $0.flushScheduled = false }
            // A failure keeps the notes for the next flush (`flush` puts them back).
            try? flush()
        }
    }

    /// Stores every note made so far, in one transaction, each linked onto the chain.
    public func flush() throws {
        let notes = pending.withLock { p -> [Note] in
            defer { p.notes = [] }
            return p.notes
        }
        guard !notes.isEmpty else { return }
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
    public func list(who: String? = nil, layer: String? = nil, since: String? = nil, limit: Int = 100, offset: Int = 0) throws -> (
        items: [Record], total: Int
    ) {
        try store.pool.read { db in
            var conditions: [String] = []
            var args: StatementArguments = []
            if let who { conditions.append("who = ?"); args += [who] }
            if let layer { conditions.append("layer = ?"); args += [layer] }
            // Records write `…T08:00:00.000Z`; a `since` of `…T08:00:00Z` compared as text would
            // put every record of that second before it ('.' < 'Z'): without its Z it is a
            // prefix of them, and sorts first.
            if let since { conditions.append("at >= ?"); args += [since.hasSuffix("Z") ? String(since.dropLast()) : since] }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_access \(filter)", arguments: args) ?? 0
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM onemap_access \(filter) ORDER BY seq DESC LIMIT ? OFFSET ?", arguments: args + [limit, offset])
            return (rows.map(Record.init(row:)), total)
        }
    }

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

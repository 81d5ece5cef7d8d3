import Crypto
import Foundation
import GRDB
import Synchronization

/// Check records that show it when anyone alters them afterwards (全留痕): each record's
/// hash is SHA-256 over the hash before it and the record's canonical bytes, so changing,
/// deleting, inserting or reordering any record breaks every link from there on.
/// `onemap records verify` walks the chain and names the first record that no longer fits.
///
/// The chain's head (the last record and its hash) is written beside the records file
/// (`onemap-records.head`) after every commit and printed by `onemap records head`; an
/// operator who keeps the printed head elsewhere (a daily mail, a ticket) can prove later
/// that no record was dropped from the end. Someone with write access to the files could
/// rebuild the whole chain, which is why the head is worth keeping apart.
public enum RecordChain {
    static let genesis = Data(repeating: 0, count: 32)

    /// A record's stored columns, in the order they are hashed; PostgreSQL's trigger
    /// (`PostGISRecordChain`) hashes the same bytes.
    package struct Fields {
        var id: String
        var createdAt: String
        var projectCode: String?
        var projectName: String?
        var keyName: String?
        var verdict: String
        var inputFormat: String
        var input: Data
        var site: String
        var layerVersions: String
        var result: Data

        package init(
            id: String, createdAt: String, projectCode: String?, projectName: String?, keyName: String?, verdict: String,
            inputFormat: String, input: Data, site: String, layerVersions: String, result: Data
        ) {
            self.id = id
            self.createdAt = createdAt
            self.projectCode = projectCode
            self.projectName = projectName
            self.keyName = keyName
            self.verdict = verdict
            self.inputFormat = inputFormat
            self.input = input
            self.site = site
            self.layerVersions = layerVersions
            self.result = result
        }

        init(row: Row) {
            self.init(
                id: row["id"], createdAt: row["created_at"], projectCode: row["project_code"], projectName: row["project_name"],
                keyName: row["key_name"], verdict: row["verdict"], inputFormat: row["input_format"], input: row["input"],
                site: row["site"], layerVersions: row["layer_versions"], result: row["result"])
        }

        package var canonical: Data {
            RecordChain.canonical(
                [id, createdAt, projectCode, projectName, keyName, verdict, inputFormat].map { $0.map { Data($0.utf8) } }
                    + [input, Data(site.utf8), Data(layerVersions.utf8), result])
        }
    }

    /// Each field as a 4-byte big-endian length and its bytes; a missing one as length
    /// 0xFFFFFFFF, so "" and nothing differ and no field can run into the next.
    static func canonical(_ fields: [Data?]) -> Data {
        var out = Data()
        for bytes in fields {
            guard let bytes else {
                out.append(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF])
                continue
            }
            let n = UInt32(bytes.count)
            out.append(contentsOf: [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)])
            out.append(bytes)
        }
        return out
    }

    static func link(_ previous: Data, _ canonical: Data) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: canonical)
        return Data(hasher.finalize())
    }

    /// Links the record just stored at `seq` onto the chain (`chain`: the check records' by
    /// default, or the access records'), in the same transaction; returns the new head.
    @discardableResult
    static func append(seq: Int64, id: String, canonical: Data, chain: String = "onemap_record_chain", db: Database) throws -> Head {
        let previous = try Data.fetchOne(db.cachedStatement(sql: "SELECT hash FROM \(chain) ORDER BY seq DESC LIMIT 1")) ?? genesis
        let hash = link(previous, canonical)
        try db.cachedStatement(sql: "INSERT INTO \(chain)(seq, record_id, hash) VALUES (?, ?, ?)").execute(arguments: [seq, id, hash])
        return Head(seq: seq, recordID: id, hash: hash)
    }

    /// Links every record not on the chain yet, in their order: the records a database held
    /// before it had a chain. Run when the records file is opened for writing.
    static func linkUnchained(_ db: Database) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT c.* FROM onemap_checks c WHERE c.seq > COALESCE((SELECT MAX(seq) FROM onemap_record_chain), 0) ORDER BY c.seq
                """)
        while let row = try rows.next() {
            let fields = Fields(row: row)
            try append(seq: row["seq"], id: fields.id, canonical: fields.canonical, db: db)
        }
    }

    /// The last record on the chain and its hash.
    public struct Head: Sendable, Equatable, CustomStringConvertible {
        public var seq: Int64
        public var recordID: String
        /// SHA-256, hexadecimal.
        public var hash: String
        public var description: String { "\(seq) \(recordID) \(hash)" }

        public init?(line: String) {
            let parts = line.split(separator: " ")
            guard parts.count == 3, let seq = Int64(parts[0]) else { return nil }
            self.seq = seq
            recordID = String(parts[1])
            hash = String(parts[2])
        }
        public init(seq: Int64, recordID: String, hash: Data) {
            self.seq = seq
            self.recordID = recordID
            self.hash = hash.map { String(format: "%02x", $0) }.joined()
        }
    }

    public static func head(_ db: Database, chain: String = "onemap_record_chain") throws -> Head? {
        try Row.fetchOne(db, sql: "SELECT seq, record_id, hash FROM \(chain) ORDER BY seq DESC LIMIT 1").map {
            Head(seq: $0[0], recordID: $0[1], hash: $0[2])
        }
    }

    /// A record's hash on the chain (hexadecimal), as its report prints it.
    public static func hash(of id: String, _ db: Database) throws -> String? {
        try Data.fetchOne(db, sql: "SELECT hash FROM onemap_record_chain WHERE record_id = ?", arguments: [id]).map {
            $0.map { String(format: "%02x", $0) }.joined()
        }
    }

    /// What `verify` found wrong, first problem first.
    public struct Finding: Sendable, CustomStringConvertible {
        public enum Kind: String, Sendable { case changed, deleted, inserted, reordered, head }
        public var kind: Kind
        public var recordID: String?
        public var seq: Int64?
        public var description: String
    }

    public struct Verification: Sendable {
        /// Records whose link was recomputed.
        public var checked: Int
        public var head: Head?
        public var findings: [Finding]
    }

    /// Walks the chain in order, recomputing every link from the records as they are now,
    /// and compares its end with the head kept apart (`keptHead`, when there is one).
    public static func verify(_ db: Database, keptHead: Head?) throws -> Verification {
        try verify(db, .checks, keptHead: keptHead)
    }

    /// A table of records on a chain of its own in the records file: the check records, or the
    /// access records. One walk judges both.
    struct Chained: Sendable {
        let records: String
        let chain: String
        /// The columns of a record its canonical bytes need, its position as `record_seq`
        /// (not the check records' stored geometry, which the chain does not hash).
        let columns: String
        let canonical: @Sendable (Row) -> Data

        static let checks = Chained(
            records: "onemap_checks", chain: "onemap_record_chain",
            columns: """
                c.seq AS record_seq, c.id, c.created_at, c.project_code, c.project_name, c.key_name, c.verdict, c.input_format, \
                c.input, c.site, c.layer_versions, c.result
                """, canonical: { Fields(row: $0).canonical })
    }

    static func verify(_ db: Database, _ chained: Chained, keptHead: Head?) throws -> Verification {
        var walk = Walk()
        let entries = try Row.fetchCursor(
            db,
            sql: """
                SELECT ch.seq AS chained_seq, ch.record_id, ch.hash, \(chained.columns)
                FROM \(chained.chain) ch LEFT JOIN \(chained.records) c ON c.id = ch.record_id ORDER BY ch.seq
                """)
        while let row = try entries.next() {
            let found = (row["id"] as String?) != nil
            walk.visit(
                chainedSeq: row["chained_seq"], recordID: row["record_id"], hash: row["hash"],
                record: found ? chained.canonical(row) : nil, recordSeq: row["record_seq"])
        }
        for row in try Row.fetchAll(
            db,
            sql: "SELECT id, seq FROM \(chained.records) WHERE id NOT IN (SELECT record_id FROM \(chained.chain)) ORDER BY seq")
        {
            walk.unchained(id: row[0], seq: row[1])
        }
        let keptNow = try keptHead.flatMap { kept in
            try Row.fetchOne(db, sql: "SELECT record_id, hash FROM \(chained.chain) WHERE seq = ?", arguments: [kept.seq])
                .map { Head(seq: kept.seq, recordID: $0[0], hash: $0[1]) }
        }
        return walk.finish(head: try head(db, chain: chained.chain), kept: keptHead, keptNow: keptNow)
    }

    /// The judgement of a chain, fed its links in order by either backend's reader.
    public struct Walk {
        var previous = RecordChain.genesis
        var checked = 0
        var findings: [Finding] = []

        public init() {}

        /// One link: the position it was made at, the record it names, and that record as it
        /// is now (its canonical bytes; nil when gone) with its position now.
        package mutating func visit(chainedSeq: Int64, recordID id: String, hash: Data, record: Data?, recordSeq: Int64?) {
            defer { previous = hash }
            guard let record, let now = recordSeq else {
                findings.append(
                    Finding(kind: .deleted, recordID: id, seq: chainedSeq, description: "record \(id) (position \(chainedSeq)) was deleted")
                )
                return
            }
            guard now == chainedSeq else {
                findings.append(
                    Finding(
                        kind: .reordered, recordID: id, seq: chainedSeq,
                        description:
                            "record \(id) was recorded at position \(chainedSeq) and now sits at \(now): the records were reordered"))
                return
            }
            checked += 1
            if RecordChain.link(previous, record) != hash {
                findings.append(
                    Finding(
                        kind: .changed, recordID: id, seq: chainedSeq,
                        description:
                            "record \(id) (position \(chainedSeq)) does not match its link: it was changed after it was recorded, or a record before it was deleted or inserted"
                    ))
            }
        }

        /// A record the chain does not name.
        package mutating func unchained(id: String, seq: Int64) {
            findings.append(
                Finding(
                    kind: .inserted, recordID: id, seq: seq,
                    description: "record \(id) (position \(seq)) is not on the chain: it was inserted afterwards"))
        }

        /// `keptNow`: what the chain holds now at the kept head's position.
        package func finish(head: Head?, kept: Head?, keptNow: Head?) -> Verification {
            var findings = self.findings
            if let kept, keptNow != kept {
                findings.append(
                    Finding(
                        kind: .head, recordID: kept.recordID, seq: kept.seq,
                        description:
                            "the chain no longer holds the kept head \(kept): records were deleted from its end, or the chain was rewritten"
                    ))
            }
            return Verification(checked: checked, head: head, findings: findings)
        }
    }

    /// Where the head is kept beside the records file: `onemap-records.sqlite` → `onemap-records.head`
    /// (`.access.head` for the access records' chain).
    public static func headPath(records: String, suffix: String = ".head") -> String {
        (records.hasSuffix(".sqlite") ? String(records.dropLast(7)) : records) + suffix
    }

    public static func readHead(records: String) -> Head? { readHead(at: headPath(records: records)) }

    static func readHead(at path: String) -> Head? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Head(line: $0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}

/// Writes the chain's head beside the records file after commits: replaced whole (a write to
/// a temporary file, then a rename), never behind a head it wrote already.
final class ChainHeadFile: Sendable {
    let path: String
    private let written = Mutex<Int64>(0)

    init(records: String) { path = RecordChain.headPath(records: records) }
    init(path: String) { self.path = path }

    func publish(_ head: RecordChain.Head?) {
        guard let head else { return }
        written.withLock { last in
            guard head.seq > last else { return }
            let temporary = path + ".tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: Data((head.description + "\n").utf8)),
                rename(temporary, path) == 0
            else { return }
            last = head.seq
        }
    }
}

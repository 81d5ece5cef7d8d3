import Conflicts
import Foundation
import LayerStore
import PostgresNIO

/// The hash chain over the check records in PostgreSQL, as `RecordChain` keeps it in a records
/// file. The database links each record itself, in a trigger: every replica stores records, and
/// a link made by the database under one lock cannot be made out of order by two replicas at
/// once. Links are numbered in the order they were made (`link`), which under concurrent
/// replicas need not be the records' `seq` order.
enum PostGISRecordChain {
    /// The table, the canonical bytes (the same as `RecordChain.Fields.canonical`: each field
    /// as a 4-byte big-endian length and its bytes, a missing one as 0xFFFFFFFF) and the
    /// trigger; one statement each, as postgres-nio's extended protocol takes them.
    static let schema: [String] =
        [
            """
            CREATE TABLE IF NOT EXISTS onemap.record_chain(
                link bigserial PRIMARY KEY, check_seq bigint NOT NULL, record_id text NOT NULL UNIQUE, hash bytea NOT NULL)
            """,
            """
            CREATE OR REPLACE FUNCTION onemap.chain_field(b bytea) RETURNS bytea LANGUAGE sql IMMUTABLE AS
            $$ SELECT CASE WHEN b IS NULL THEN '\\xffffffff'::bytea ELSE int4send(length(b)) || b END $$
            """,
            """
            CREATE OR REPLACE FUNCTION onemap.chain_bytes(c onemap.checks) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$ SELECT
                onemap.chain_field(convert_to(c.id, 'UTF8')) || onemap.chain_field(convert_to(c.created_at, 'UTF8'))
                || onemap.chain_field(convert_to(c.project_code, 'UTF8')) || onemap.chain_field(convert_to(c.project_name, 'UTF8'))
                || onemap.chain_field(convert_to(c.key_name, 'UTF8')) || onemap.chain_field(convert_to(c.verdict, 'UTF8'))
                || onemap.chain_field(convert_to(c.input_format, 'UTF8')) || onemap.chain_field(c.input)
                || onemap.chain_field(convert_to(c.site, 'UTF8')) || onemap.chain_field(convert_to(c.layer_versions, 'UTF8'))
                || onemap.chain_field(c.result) $$
            """
        ]
        + checks.linking(function: "onemap.chain_check", lock: 7142004, bytes: "onemap.chain_bytes", trigger: "checks_chain") + [
            // Records stored before the chain existed (a database from schema 1), linked in their order.
            """
            DO $$ DECLARE r onemap.checks; previous bytea; BEGIN
                PERFORM pg_advisory_xact_lock(7142004);
                SELECT hash INTO previous FROM onemap.record_chain ORDER BY link DESC LIMIT 1;
                FOR r IN SELECT * FROM onemap.checks c
                    WHERE NOT EXISTS (SELECT 1 FROM onemap.record_chain ch WHERE ch.record_id = c.id) ORDER BY seq
                LOOP
                    previous := sha256(coalesce(previous, decode(repeat('00', 32), 'hex')) || onemap.chain_bytes(r));
                    INSERT INTO onemap.record_chain(check_seq, record_id, hash) VALUES (r.seq, r.id, previous);
                END LOOP;
            END $$
            """
        ]

    /// The check records' chain, as the walk reads it.
    static let checks = PostGISChain(
        records: "onemap.checks", chain: "onemap.record_chain", chainedSeq: "check_seq", name: "record chain",
        columns: """
            c.created_at, c.project_code, c.project_name, c.key_name, c.verdict, c.input_format, c.input, c.site, c.layer_versions, c.result
            """,
        canonical: { id, r in
            RecordChain.Fields(
                id: id, createdAt: try r[6].decode(String.self), projectCode: try r[7].decode(String?.self),
                projectName: try r[8].decode(String?.self), keyName: try r[9].decode(String?.self), verdict: try r[10].decode(String.self),
                inputFormat: try r[11].decode(String.self), input: Data(buffer: try r[12].decode(ByteBuffer.self)),
                site: try r[13].decode(String.self), layerVersions: try r[14].decode(String.self),
                result: Data(buffer: try r[15].decode(ByteBuffer.self))
            ).canonical
        })
}

/// A chain the database links in a trigger (the check records', the access records'): its
/// tables, and how a record is read back to recompute its link. One walk judges both.
struct PostGISChain: Sendable {
    let records: String
    let chain: String
    /// The chain's column naming the record's `seq` when it was linked.
    let chainedSeq: String
    /// For messages: "record chain", "access chain".
    let name: String
    /// The record's columns after `c.seq, c.id`, in the order `canonical` reads them (from 6).
    let columns: String
    /// The record's canonical bytes, from its id and its row (`c.seq` at 4, `c.id` at 5).
    let canonical: @Sendable (String, PostgresRandomAccessRow) throws -> Data

    /// The trigger that links each record as it is stored, under one lock, so replicas storing
    /// at once make one chain: `function` (the SQL `bytes` function gives a record's canonical
    /// bytes) and the trigger `trigger` on the records table.
    func linking(function: String, lock: Int, bytes: String, trigger: String) -> [String] {
        [
            """
            CREATE OR REPLACE FUNCTION \(function)() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE previous bytea;
            BEGIN
                PERFORM pg_advisory_xact_lock(\(lock));
                SELECT hash INTO previous FROM \(chain) ORDER BY link DESC LIMIT 1;
                INSERT INTO \(chain)(\(chainedSeq), record_id, hash)
                VALUES (NEW.seq, NEW.id, sha256(coalesce(previous, decode(repeat('00', 32), 'hex')) || \(bytes)(NEW)));
                RETURN NULL;
            END $$
            """,
            "DROP TRIGGER IF EXISTS \(trigger) ON \(records)",
            "CREATE TRIGGER \(trigger) AFTER INSERT ON \(records) FOR EACH ROW EXECUTE FUNCTION \(function)()"
        ]
    }

    /// The chain's last link (its `seq` is the link's number).
    func head(_ db: PostGISDatabase) async throws -> RecordChain.Head? {
        let rows = try await db.query(
            "SELECT link, record_id, hash FROM \(chain) ORDER BY link DESC LIMIT 1", "reading the \(name)'s head")
        for try await (link, id, hash) in rows.decode((Int64, String, ByteBuffer).self) {
            return RecordChain.Head(seq: link, recordID: id, hash: Data(buffer: hash))
        }
        return nil
    }

    /// Walks the chain in link order against the records as they are now.
    func verify(_ db: PostGISDatabase, keptHead: RecordChain.Head?) async throws -> RecordChain.Verification {
        do {
            return try await walk(db, keptHead: keptHead)
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError.database("\(db.location): verifying the \(name) failed: \(PostGISDatabase.reason(error))")
        }
    }

    private func walk(_ db: PostGISDatabase, keptHead: RecordChain.Head?) async throws -> RecordChain.Verification {
        var walk = RecordChain.Walk()
        let entries = try await db.query(
            """
            SELECT ch.link, ch.\(chainedSeq), ch.record_id, ch.hash, c.seq, c.id, \(columns)
            FROM \(chain) ch LEFT JOIN \(records) c ON c.id = ch.record_id ORDER BY ch.link
            """, "reading the \(name)")
        for try await row in entries {
            let r = row.makeRandomAccess()
            let record = try (try r[5].decode(String?.self)).map { try canonical($0, r) }
            walk.visit(
                chainedSeq: try r[1].decode(Int64.self), recordID: try r[2].decode(String.self),
                hash: Data(buffer: try r[3].decode(ByteBuffer.self)), record: record, recordSeq: try r[4].decode(Int64?.self))
        }
        let unchained = try await db.query(
            "SELECT id, seq FROM \(records) c WHERE NOT EXISTS (SELECT 1 FROM \(chain) ch WHERE ch.record_id = c.id) ORDER BY seq",
            "finding records off the \(name)")
        for try await (id, seq) in unchained.decode((String, Int64).self) { walk.unchained(id: id, seq: seq) }
        var keptNow: RecordChain.Head? = nil
        if let kept = keptHead {
            let rows = try await db.query(
                "SELECT record_id, hash FROM \(chain) WHERE link = \(kept.seq)", "reading the kept head's link")
            for try await (id, hash) in rows.decode((String, ByteBuffer).self) {
                keptNow = RecordChain.Head(seq: kept.seq, recordID: id, hash: Data(buffer: hash))
            }
        }
        return walk.finish(head: try await head(db), kept: keptHead, keptNow: keptNow)
    }
}

extension PostGISDatabase {
    /// A query's rows, its failure to start said as what it was doing.
    func query(_ sql: String, _ doing: @autoclosure () -> String) async throws -> PostgresRowSequence {
        do {
            return try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            throw StoreError.database("\(location): \(doing()) failed: \(Self.reason(error))")
        }
    }

    /// The head of the chain over this database's check records.
    public func recordChainHead() async throws -> RecordChain.Head? { try await PostGISRecordChain.checks.head(self) }

    /// Every link of the chain recomputed (`onemap records verify --db postgresql://…`).
    public func verifyRecordChain(keptHead: RecordChain.Head?) async throws -> RecordChain.Verification {
        try await PostGISRecordChain.checks.verify(self, keptHead: keptHead)
    }
}

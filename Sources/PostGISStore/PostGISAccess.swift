import Conflicts
import Foundation
import LayerStore
import Logging
import PostgresNIO

/// Every replica's access records (全留痕) in the database its replicas share, on a chain the
/// database links in a trigger, as it links the check records' (`PostGISRecordChain`). A
/// replica stores each read in its records file first and hands it on here a moment later
/// (`AccessRecords`); `GET /v1/access` on any replica and `onemap access … --db postgresql://…`
/// read them here.
///
/// Used from Dispatch threads, through a connection's EventLoopFuture API, for the reason
/// `PostGISRecords` gives.
public final class PostGISAccess: AccessUpstream, Sendable {
    public let location: PostGISLocation
    private let connection: RecordConnection

    public init(location: PostGISLocation) {
        self.location = location
        var logger = Logger(label: "onemap.postgis.access")
        logger.logLevel = .error
        connection = RecordConnection(location: location, logger: logger)
    }

    public func close() { connection.close() }

    /// The table, the canonical bytes (`AccessRecords.Record.canonical`: each field as a 4-byte
    /// length and its bytes, a missing one as 0xFFFFFFFF; `onemap.chain_field` comes with the
    /// check records' chain) and the trigger, one statement each.
    static let schema: [String] =
        [
            """
            CREATE TABLE IF NOT EXISTS onemap.access(
                seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, at text NOT NULL, who text NOT NULL, subject text,
                route text NOT NULL, layer text NOT NULL, what text NOT NULL, returned bigint, request_id text)
            """,
            "CREATE INDEX IF NOT EXISTS access_at ON onemap.access(at)",
            """
            CREATE TABLE IF NOT EXISTS onemap.access_chain(
                link bigserial PRIMARY KEY, access_seq bigint NOT NULL, record_id text NOT NULL UNIQUE, hash bytea NOT NULL)
            """,
            """
            CREATE OR REPLACE FUNCTION onemap.access_bytes(a onemap.access) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$ SELECT
                onemap.chain_field(convert_to(a.id, 'UTF8')) || onemap.chain_field(convert_to(a.at, 'UTF8'))
                || onemap.chain_field(convert_to(a.who, 'UTF8')) || onemap.chain_field(convert_to(a.subject, 'UTF8'))
                || onemap.chain_field(convert_to(a.route, 'UTF8')) || onemap.chain_field(convert_to(a.layer, 'UTF8'))
                || onemap.chain_field(convert_to(a.what, 'UTF8')) || onemap.chain_field(convert_to(a.returned::text, 'UTF8'))
                || onemap.chain_field(convert_to(a.request_id, 'UTF8')) $$
            """
        ] + chain.linking(function: "onemap.chain_access", lock: 7142005, bytes: "onemap.access_bytes", trigger: "access_chain")

    /// The access records' chain, as the walk reads it.
    static let chain = PostGISChain(
        records: "onemap.access", chain: "onemap.access_chain", chainedSeq: "access_seq", name: "access chain",
        columns: "c.at, c.who, c.subject, c.route, c.layer, c.what, c.returned, c.request_id",
        canonical: { id, r in
            try record(seq: 0, id: id, r, from: 6).canonical
        })

    /// A record from a row's columns `at` … `request_id`, starting at `first`.
    static func record(seq: Int64, id: String, _ r: PostgresRandomAccessRow, from first: Int) throws -> AccessRecords.Record {
        AccessRecords.Record(
            seq: seq, id: id, at: try r[first].decode(String.self), who: try r[first + 1].decode(String.self),
            subject: try r[first + 2].decode(String?.self), route: try r[first + 3].decode(String.self),
            layer: try r[first + 4].decode(String.self), what: try r[first + 5].decode(String.self),
            returned: try r[first + 6].decode(Int64?.self).map { Int($0) }, requestID: try r[first + 7].decode(String?.self))
    }

    /// One INSERT of the records, in one commit; the database numbers and links them. A record
    /// offered again (its first answer was lost) is there already, and kept as it was.
    public func store(_ records: [AccessRecords.Record]) throws {
        guard !records.isEmpty else { return }
        var binds = PostgresBindings(capacity: records.count * 9)
        var values: [String] = []
        for r in records {
            let first = binds.count + 1
            binds.append(r.id)
            binds.append(r.at)
            binds.append(r.who)
            binds.append(r.subject)
            binds.append(r.route)
            binds.append(r.layer)
            binds.append(r.what)
            binds.append(r.returned.map { Int64($0) })
            binds.append(r.requestID)
            values.append("(" + (first..<(first + 9)).map { "$\($0)" }.joined(separator: ",") + ")")
        }
        let sql = """
            INSERT INTO onemap.access(id, at, who, subject, route, layer, what, returned, request_id)
            VALUES \(values.joined(separator: ",")) ON CONFLICT (id) DO NOTHING
            """
        do {
            _ = try connection.open().query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: connection.logger).wait()
        } catch {
            throw RecordUpstreamUnavailable(
                "\(location): the access records could not be stored: \(PostGISDatabase.reason(error)); they wait in this server's records file"
            )
        }
    }

    /// Every replica's records, newest first, as `AccessRecords.list` gives one file's.
    public func list(who: String?, layer: String?, since: String?, limit: Int, offset: Int) throws -> (
        items: [AccessRecords.Record], total: Int
    ) {
        var conditions: [String] = []
        var binds = PostgresBindings()
        func condition(_ column: String, _ op: String, _ value: String?) {
            guard let value else { return }
            binds.append(value)
            conditions.append("\(column) \(op) $\(binds.count)")
        }
        condition("who", "=", who)
        condition("layer", "=", layer)
        condition("at", ">=", since.map(AccessRecords.sinceBound))
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = """
            SELECT seq, id, at, who, subject, route, layer, what, returned, request_id, count(*) OVER () FROM onemap.access \(filter)
            ORDER BY seq DESC LIMIT \(limit) OFFSET \(offset)
            """
        do {
            let rows = try connection.open().query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: connection.logger).wait()
            var items: [AccessRecords.Record] = []
            var total = 0
            for row in rows {
                let r = row.makeRandomAccess()
                items.append(try Self.record(seq: try r[0].decode(Int64.self), id: try r[1].decode(String.self), r, from: 2))
                total = Int(try r[10].decode(Int64.self))
            }
            if items.isEmpty && offset > 0 {
                // Past the end the window counts nothing: count apart.
                let counted = try connection.open().query(
                    PostgresQuery(unsafeSQL: "SELECT count(*) FROM onemap.access \(filter)", binds: binds), logger: connection.logger
                ).wait()
                total = try counted.first.map { Int(try $0.decode(Int64.self)) } ?? 0
            }
            return (items, total)
        } catch {
            throw RecordUpstreamUnavailable("\(location): the access records could not be read: \(PostGISDatabase.reason(error))")
        }
    }
}

extension PostGISDatabase {
    /// The head of the chain over every replica's access records.
    public func accessChainHead() async throws -> RecordChain.Head? { try await PostGISAccess.chain.head(self) }

    /// Every link of the access chain recomputed (`onemap access verify --db postgresql://…`).
    public func verifyAccessChain(keptHead: RecordChain.Head?) async throws -> RecordChain.Verification {
        try await PostGISAccess.chain.verify(self, keptHead: keptHead)
    }
}

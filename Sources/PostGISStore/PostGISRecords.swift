import Conflicts
import Foundation
import LayerStore
import Logging
import PostgresNIO
import Synchronization

/// A replica's check records in the database its replicas share: each record is stored there
/// before the check is acknowledged, and announced on `onemap_checks`; each replica copies the
/// others' records into its own records file (`copyNew`, which `PostGISFollower` calls), where
/// it lists, reads and draws them as its own.
///
/// A record is stored from the thread that saves it (a Dispatch thread), through a connection's
/// EventLoopFuture API, which runs on NIO's own threads. Not through an async pool: on Linux,
/// Swift's tasks and Dispatch's blocking work share one thread pool, and threads waiting for a
/// task that waits for a thread stalled checks for seconds under load.
public final class PostGISRecords: RecordUpstream, Sendable {
    public let location: PostGISLocation
    let logger: Logger
    /// The connections records are stored through, one per lane of `group`.
    private let connections: [RecordConnection]
    /// Records stored at the same moment, in one statement.
    private let group: GroupCall<CheckRecords.Record>
    /// The server's records, to copy the others' into; set when the server is built.
    private let local = Mutex<CheckRecords?>(nil)
    /// The database's last record copied.
    private let copiedUpTo = Mutex<Int64>(0)
    /// Records this replica stored and has not seen come back yet: they are kept here already,
    /// so their announcements are let pass (copying them back cost each check a query and a
    /// commit of the records file).
    private let own = Mutex<Set<String>>([])
    /// Past this many, an announcement of our own record copies anyway, to move past them.
    static let ownLimit = 10_000

    public init(location: PostGISLocation) {
        self.location = location
        var logger = Logger(label: "onemap.postgis.records")
        logger.logLevel = .error
        self.logger = logger
        let connections = (0..<2).map { _ in RecordConnection(location: location, logger: logger) }
        self.connections = connections
        group = GroupCall(limit: 256, lanes: connections.count) { records, lane in
            let outcome = Result { try Self.storeAll(records, on: connections[lane]) }
            return records.map { _ in outcome }
        }
    }

    /// Closes the connections records are stored through.
    public func close() { for c in connections { c.close() } }

    public func attach(_ records: CheckRecords) { local.withLock { $0 = records } }

    /// Stores the record and announces it; waits for it, since the check is acknowledged only
    /// once it is stored. Records stored at the same moment share a statement and a commit.
    public func store(_ record: CheckRecords.Record) throws {
        own.withLock { _ = $0.insert(record.summary.id) }
        try group.run(record)
    }

    /// One INSERT of every record given, each announced, in one commit.
    private static func storeAll(_ records: [CheckRecords.Record], on connection: RecordConnection) throws {
        var binds = PostgresBindings(capacity: records.count * 11)
        var values: [String] = []
        for record in records {
            let s = record.summary
            let first = binds.count + 1
            binds.append(s.id)
            binds.append(s.createdAt)
            binds.append(s.projectCode)
            binds.append(s.projectName)
            binds.append(s.keyName)
            binds.append(s.verdict)
            binds.append(record.inputFormat)
            binds.append(ByteBuffer(data: record.input))
            binds.append(record.site)
            binds.append(String(decoding: try JSONEncoder().encode(record.versions), as: UTF8.self))
            binds.append(ByteBuffer(data: record.result))
            values.append("(" + (first..<(first + 11)).map { "$\($0)" }.joined(separator: ",") + ")")
        }
        let sql = """
            WITH stored AS (
                INSERT INTO onemap.checks(id, created_at, project_code, project_name, key_name, verdict, input_format, input, site,
                    layer_versions, result)
                VALUES \(values.joined(separator: ","))
                RETURNING id)
            SELECT pg_notify('\(PostGISDatabase.checksChannel)', id) FROM stored
            """
        do {
            _ = try connection.open().query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: connection.logger).wait()
        } catch {
            throw RecordUpstreamUnavailable(
                "\(connection.location): the check record could not be stored: \(PostGISDatabase.reason(error))")
        }
    }

    /// Whether the record announced as `id` needs copying: not when it is this replica's own
    /// (unless many of those wait to be passed).
    func wants(_ id: String) -> Bool {
        own.withLock { $0.count > Self.ownLimit || !$0.contains(id) }
    }

    /// Copies the records the database has and this replica has not (all of them the first
    /// time), in the order they were stored.
    func copyNew(_ db: PostGISDatabase) async throws {
        guard let records = local.withLock({ $0 }) else { return }
        let after = copiedUpTo.withLock { $0 }
        var batch: [CheckRecords.Record] = []
        var last = after
        let rows = try await db.connection.query(
            """
            SELECT seq, id, created_at, project_code, project_name, key_name, verdict, input_format, input, site, layer_versions, result
            FROM onemap.checks WHERE seq > \(after) ORDER BY seq
            """, logger: db.logger)
        for try await (seq, id, createdAt, code, name, key, verdict, format, input, site, versions, result) in rows.decode(
            (Int64, String, String, String?, String?, String?, String, String, ByteBuffer, String, String, ByteBuffer).self)
        {
            batch.append(
                CheckRecords.Record(
                    summary: .init(id: id, createdAt: createdAt, projectCode: code, projectName: name, verdict: verdict, keyName: key),
                    inputFormat: format, input: Data(buffer: input), site: site,
                    versions: try JSONDecoder().decode([String: LayerVersionRef].self, from: Data(versions.utf8)),
                    result: Data(buffer: result), geojson: Data()))
            last = seq
            if own.withLock({ $0.remove(id) != nil }) { batch.removeLast() }
            if batch.count == 512 {
                try records.copyIn(batch)
                batch.removeAll()
            }
        }
        try records.copyIn(batch)
        copiedUpTo.withLock { $0 = max($0, last) }
    }
}

/// A connection used from Dispatch threads through its EventLoopFuture API, made again when it
/// is lost.
final class RecordConnection: Sendable {
    let location: PostGISLocation
    let logger: Logger
    private let current = Mutex<PostgresConnection?>(nil)

    init(location: PostGISLocation, logger: Logger) {
        self.location = location
        self.logger = logger
    }

    /// The open connection, connecting first if there is none (or it was lost).
    func open() throws -> PostgresConnection {
        if let c = current.withLock({ $0 }), !c.isClosed { return c }
        let made = try PostgresConnection.connect(
            on: PostgresConnection.defaultEventLoopGroup.any(), configuration: try location.configuration(), id: 2, logger: logger
        ).wait()
        let kept = current.withLock { c -> PostgresConnection in
            if let c, !c.isClosed { return c }
            c = made
            return made
        }
        if kept !== made { try? made.close().wait() }
        return kept
    }

    func close() {
        if let c = current.withLock({ c -> PostgresConnection? in
            defer { c = nil }; return c
        }) {
            try? c.close().wait()
        }
    }
}

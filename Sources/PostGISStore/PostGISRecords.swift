import Conflicts
import Dispatch
import Foundation
import LayerStore
import Logging
import PostgresNIO
import Synchronization

/// A replica's check records in the database its replicas share: each record is stored there
/// (through a connection pool) before the check is acknowledged, and announced on
/// `onemap_checks`; each replica copies the others' records into its own records file
/// (`copyNew`, which `PostGISFollower` calls), where it lists, reads and draws them as its own.
public final class PostGISRecords: RecordUpstream, Sendable {
    public let location: PostGISLocation
    let client: PostgresClient
    let logger: Logger
    /// The server's records, to copy the others' into; set when the server is built.
    private let local = Mutex<CheckRecords?>(nil)
    /// The database's last record copied.
    private let copiedUpTo = Mutex<Int64>(0)
    /// Longest a record's store may take before the check is answered with an error.
    static let timeoutSeconds = 10.0

    public init(location: PostGISLocation) {
        self.location = location
        var logger = Logger(label: "onemap.postgis.records")
        logger.logLevel = .error
        self.logger = logger
        client = PostgresClient(configuration: location.clientConfiguration(), backgroundLogger: logger)
    }

    /// Runs the pool until the task is cancelled.
    public func run() async { await client.run() }

    public func attach(_ records: CheckRecords) { local.withLock { $0 = records } }

    /// Stores the record and announces it, in one statement (one commit); waits for it, since
    /// the check is acknowledged only once it is stored.
    public func store(_ record: CheckRecords.Record) throws {
        let s = record.summary
        let versions = String(decoding: try JSONEncoder().encode(record.versions), as: UTF8.self)
        let query: PostgresQuery = """
            WITH stored AS (
                INSERT INTO onemap.checks(id, created_at, project_code, project_name, key_name, verdict, input_format, input, site,
                    layer_versions, result)
                VALUES (\(s.id), \(s.createdAt), \(s.projectCode), \(s.projectName), \(s.keyName), \(s.verdict), \(record.inputFormat),
                    \(ByteBuffer(data: record.input)), \(record.site), \(versions), \(ByteBuffer(data: record.result)))
                RETURNING id)
            SELECT pg_notify(\(PostGISDatabase.checksChannel), id) FROM stored
            """
        let (client, logger, location) = (self.client, self.logger, self.location)
        let outcome = Mutex<Result<Void, Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                _ = try await client.query(query, logger: logger).collect()
                outcome.withLock { $0 = .success(()) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        guard done.wait(timeout: .now() + Self.timeoutSeconds) == .success else {
            throw RecordUpstreamUnavailable("\(location): the check record was not stored within \(Int(Self.timeoutSeconds)) s")
        }
        if case .failure(let error) = outcome.withLock({ $0 })! {
            throw RecordUpstreamUnavailable("\(location): the check record could not be stored: \(PostGISDatabase.reason(error))")
        }
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
            if batch.count == 512 {
                try records.copyIn(batch)
                batch.removeAll()
            }
        }
        try records.copyIn(batch)
        copiedUpTo.withLock { $0 = max($0, last) }
    }
}

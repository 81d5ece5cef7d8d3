import Foundation
import GeoCore
import GRDB
import LayerStore

/// The durable record of every check (全留痕). A record is written in one transaction
/// before the answer is given, and is never changed afterwards (the table refuses it).
public struct CheckRecords: Sendable {
    public let store: Store
    /// Most bytes a check's answer and its stored GeoJSON may take together. Records are
    /// kept forever, so one request must not store tens of megabytes.
    public var maxAnswerBytes: Int

    public static let defaultMaxAnswerBytes = 4 << 20

    public init(store: Store, maxAnswerBytes: Int = defaultMaxAnswerBytes) {
        self.store = store
        self.maxAnswerBytes = maxAnswerBytes
    }

    public struct Summary: Codable, Sendable {
        public var id: String
        public var createdAt: String
        public var projectCode: String?
        public var projectName: String?
        public var verdict: String
        public var keyName: String?
    }

    public struct Record: Sendable {
        public var summary: Summary
        public var inputFormat: String
        public var input: Data
        /// The site as GeoJSON geometry (lon/lat).
        public var site: String
        public var versions: [String: LayerVersionRef]
        /// The JSON answer, byte for byte as it was first returned.
        public var result: Data
        /// The site and conflict geometry (CheckGeoJSON), for the report.
        public var geojson: Data
    }

    public struct Request: Sendable {
        public var projectCode: String?
        public var projectName: String?
        public var keyName: String?
        public var inputFormat: String
        public var input: Data
        public init(projectCode: String?, projectName: String?, keyName: String?, inputFormat: String, input: Data) {
            self.projectCode = projectCode; self.projectName = projectName; self.keyName = keyName
            self.inputFormat = inputFormat; self.input = input
        }
    }

    /// Stores the outcome and returns the record, whose `result` is the bytes to send.
    public func save(_ outcome: CheckOutcome, request: Request, now: Date = Date()) throws -> Record {
        var result = outcome.result
        result.id = Self.newID(now)
        let stamp = ISO8601DateFormatter()
        stamp.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        result.createdAt = stamp.string(from: now)
        result.projectCode = request.projectCode
        result.projectName = request.projectName
        let json = try result.json()
        var writer = GeoJSONWriter()
        writer.geometry(outcome.site.geometry)
        let site = writer.text
        let versions = String(decoding: try JSONEncoder().encode(outcome.versions), as: UTF8.self)
        let geojson = try CheckGeoJSON.data(outcome)
        guard json.count + geojson.count <= maxAnswerBytes else {
            throw AnswerTooLarge(bytes: json.count + geojson.count, limit: maxAnswerBytes,
                                 features: outcome.result.layers.map { ($0.layer, $0.features.count) })
        }
        try store.pool.write { db in
            try db.execute(sql: """
                INSERT INTO onemap_checks(id, created_at, project_code, project_name, key_name, verdict, input_format, input, site, layer_versions, result, geojson)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
                """, arguments: [result.id, result.createdAt, request.projectCode, request.projectName, request.keyName,
                                 result.verdict.rawValue, request.inputFormat, request.input, site, versions, json, geojson])
        }
        return Record(summary: Summary(id: result.id!, createdAt: result.createdAt!, projectCode: request.projectCode,
                                       projectName: request.projectName, verdict: result.verdict.rawValue, keyName: request.keyName),
                      inputFormat: request.inputFormat, input: request.input, site: site, versions: outcome.versions, result: json,
                      geojson: geojson)
    }

    public func get(_ id: String) throws -> Record? {
        try store.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM onemap_checks WHERE id = ?", arguments: [id]) else { return nil }
            return try Self.record(row)
        }
    }

    public func list(projectCode: String?, limit: Int, offset: Int) throws -> (items: [Summary], total: Int) {
        try store.pool.read { db in
            let filter = projectCode == nil ? "" : "WHERE project_code = ?"
            let args: StatementArguments = projectCode.map { [$0] } ?? []
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_checks \(filter)", arguments: args) ?? 0
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM onemap_checks \(filter) ORDER BY seq DESC LIMIT ? OFFSET ?",
                                        arguments: args + [limit, offset])
            return (rows.map(Self.summary), total)
        }
    }

    static func summary(_ row: Row) -> Summary {
        Summary(id: row["id"], createdAt: row["created_at"], projectCode: row["project_code"], projectName: row["project_name"],
                verdict: row["verdict"], keyName: row["key_name"])
    }

    static func record(_ row: Row) throws -> Record {
        let versionsJSON: String = row["layer_versions"]
        return Record(summary: summary(row), inputFormat: row["input_format"], input: row["input"], site: row["site"],
                      versions: try JSONDecoder().decode([String: LayerVersionRef].self, from: Data(versionsJSON.utf8)),
                      result: row["result"], geojson: row["geojson"])
    }

    /// Sortable and unguessable: the time, then randomness.
    static func newID(_ now: Date) -> String {
        let millis = UInt64(now.timeIntervalSince1970 * 1000)
        var random = SystemRandomNumberGenerator()
        let tail = (0..<10).map { _ in String(UInt8.random(in: 0..<36, using: &random), radix: 36) }.joined()
        return "chk_" + String(millis, radix: 36) + tail
    }
}

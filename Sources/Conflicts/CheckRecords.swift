import Foundation
import GRDB
import GeoCore
import LayerStore
import Synchronization

/// The durable record of every check (全留痕). A record is written in one transaction
/// before the answer is given, and is never changed afterwards (the table refuses it).
public struct CheckRecords: Sendable {
    public let store: Store
    /// Most bytes a check's answer and its stored GeoJSON may take together. Records are
    /// kept forever, so one request must not store tens of megabytes.
    public var maxAnswerBytes: Int
    /// Draws the geometry of records saved without it (the server's checker, sharing its plans).
    public let checker: ConflictChecker
    /// Records written at the same time share a transaction (and its fsync).
    let commit: GroupCommit
    let backfill: GeometryBackfill
    let sizes = BlobSizes()
    let headFile: ChainHeadFile
    /// Where every record is also stored before it is acknowledged, for the other replicas
    /// (a PostgreSQL database); nil on one machine.
    public let upstream: (any RecordUpstream)?

    public static let defaultMaxAnswerBytes = 4 << 20

    /// `drawingQuietSeconds`: how long no check must have run before waiting records' geometry
    /// is drawn in the background (tests that need records to stay waiting make it long).
    public init(
        store: Store, maxAnswerBytes: Int = defaultMaxAnswerBytes, checker: ConflictChecker? = nil, drawingQuietSeconds: Double = 0.03,
        upstream: (any RecordUpstream)? = nil
    ) {
        self.store = store
        self.upstream = upstream
        self.maxAnswerBytes = maxAnswerBytes
        self.checker = checker ?? ConflictChecker(store: store)
        commit = GroupCommit(store: store)
        headFile = ChainHeadFile(records: store.recordsPath)
        // Records stored before the chain existed are linked onto it in their order, once.
        try? store.pool.write { try RecordChain.linkUnchained($0) }
        backfill = GeometryBackfill(
            store: store, checker: self.checker, commit: commit, quietNanoseconds: UInt64(drawingQuietSeconds * 1e9))
    }

    public struct Summary: Codable, Sendable {
        public var id: String
        public var createdAt: String
        public var projectCode: String?
        public var projectName: String?
        public var verdict: String
        public var keyName: String?

        package init(id: String, createdAt: String, projectCode: String?, projectName: String?, verdict: String, keyName: String?) {
            self.id = id
            self.createdAt = createdAt
            self.projectCode = projectCode
            self.projectName = projectName
            self.verdict = verdict
            self.keyName = keyName
        }
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

        package init(
            summary: Summary, inputFormat: String, input: Data, site: String, versions: [String: LayerVersionRef], result: Data,
            geojson: Data
        ) {
            self.summary = summary
            self.inputFormat = inputFormat
            self.input = input
            self.site = site
            self.versions = versions
            self.result = result
            self.geojson = geojson
        }
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

    /// Stores the outcome of a check that kept its pieces, geometry and all, and returns the
    /// record, whose `result` is the bytes to send.
    public func save(_ outcome: CheckOutcome, request: Request, now: Date = Date()) throws -> Record {
        var record = try prepare(outcome, request: request, now: now)
        record.geojson = try CheckGeoJSON.data(outcome)
        try checkSize(record.result.count + record.geojson.count, outcome)
        // The shared store first: it is the record's home when there is one (see RecordUpstream).
        try upstream?.store(record)
        let head = Mutex<RecordChain.Head?>(nil)
        try commit.write { [record] db in
            let linked = try Self.insert(record, db: db)
            head.withLock { $0 = linked }
        }
        headFile.publish(head.withLock { $0 })
        return record
    }

    /// A check saved with the versions it read gone (dropped by a pruning since): its
    /// geometry could not be drawn, so it is not stored; checking again reads what is there now.
    public struct VersionsGone: Error, CustomStringConvertible {
        public var description: String { "a layer version this check read was dropped before it was recorded; check again" }
    }

    /// Stores the outcome of a check made without its pieces: the answer, the site and the
    /// versions now, in the same commit as every other record ready at that moment; the
    /// geometry is drawn afterwards (`CheckGeometry`), in the background or by the first
    /// reader that needs it. The least that geometry will take (the conflicting features'
    /// own, `CheckGeometry.featureGeometryBytes`) is held to the cap with the answer and the site.
    /// `siteText` is the site as `CheckRecords.siteText` writes it, when the caller wrote it
    /// beside the check.
    public func save(withoutGeometry outcome: CheckOutcome, siteText: String? = nil, request: Request, now: Date = Date()) throws -> Record
    {
        var record = try prepare(outcome, request: request, now: now, siteText: siteText)
        let known = record.result.count + record.site.utf8.count
        if !(sizes.bound(outcome).map { known + $0 <= maxAnswerBytes } ?? false) {
            try store.snapshot { db in
                guard try Store.hasVersions(db, outcome.versions.mapValues(\.version)) else { throw VersionsGone() }
                guard known + (try CheckGeometry.featureGeometryBound(outcome, db: db, sizes: sizes)) > maxAnswerBytes else { return }
                try checkSize(known + (try CheckGeometry.featureGeometryBytes(outcome, db: db)), outcome)
            }
        }
        // With no conflict and no feature listed, a check keeps no piece: its geometry is the site alone.
        let drawn = outcome.result.layers.allSatisfy { !$0.conflict && $0.features.isEmpty }
        if drawn { record.geojson = try CheckGeoJSON.data(outcome) }
        // The shared store first: a record it refuses is kept nowhere (the check is answered
        // 503), and one stored there that this file then fails to take comes back with the
        // other replicas' records (`copyIn`).
        try upstream?.store(record)
        backfill.checkStarted()
        var saved = false
        defer { backfill.checkEnded(pending: saved && !drawn ? 1 : 0) }
        let head = Mutex<RecordChain.Head?>(nil)
        try commit.write { [record] db in
            guard try Store.hasVersions(db, outcome.versions.mapValues(\.version)) else { throw VersionsGone() }
            let linked = try Self.insert(record, db: db)
            head.withLock { $0 = linked }
            if !drawn {
                try Self.awaitGeometry(record.summary.id, db: db)
            }
        }
        saved = true
        headFile.publish(head.withLock { $0 })
        return record
    }

    /// Records another replica made (copied from the database they share), stored as they
    /// were made; one already here is left as it is. Their geometry is drawn here, as that of
    /// a record saved without it, when it is first needed or in the background.
    public func copyIn(_ records: [Record]) throws {
        guard !records.isEmpty else { return }
        let head = Mutex<RecordChain.Head?>(nil)
        try commit.write { db in
            for record in records {
                guard try Int.fetchOne(db, sql: "SELECT 1 FROM onemap_checks WHERE id = ?", arguments: [record.summary.id]) == nil
                else { continue }
                if let linked = try Self.insert(record, db: db) { head.withLock { $0 = linked } }
                try Self.awaitGeometry(record.summary.id, db: db)
            }
        }
        headFile.publish(head.withLock { $0 })
        backfill.resume()
    }

    /// The site as a record stores it: GeoJSON geometry, numbers in shortest round-trip form.
    public static func siteText(_ site: Site) -> String {
        var writer = GeoJSONWriter()
        writer.geometry(site.geometry)
        return writer.text
    }

    func prepare(_ outcome: CheckOutcome, request: Request, now: Date, siteText: String? = nil) throws -> Record {
        var result = outcome.result
        result.id = Self.newID(now)
        result.createdAt = Self.timestamp(now)
        result.projectCode = request.projectCode
        result.projectName = request.projectName
        return Record(
            summary: Summary(
                id: result.id!, createdAt: result.createdAt!, projectCode: request.projectCode,
                projectName: request.projectName, verdict: result.verdict.rawValue, keyName: request.keyName),
            inputFormat: request.inputFormat, input: request.input, site: siteText ?? Self.siteText(outcome.site),
            versions: outcome.versions,
            result: try result.json(), geojson: Data())
    }

    func checkSize(_ bytes: Int, _ outcome: CheckOutcome) throws {
        guard bytes <= maxAnswerBytes else {
            throw AnswerTooLarge(bytes: bytes, limit: maxAnswerBytes, features: outcome.result.layers.map { ($0.layer, $0.features.count) })
        }
    }

    /// Marks a stored record as waiting for its geometry (drawn when first read, or in the
    /// background).
    static func awaitGeometry(_ id: String, db: Database) throws {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO onemap_check_geometry_pending(check_id) VALUES (?)").execute(arguments: [id])
    }

    /// Stores the record; one already here with its id is left as it is: a replica's own
    /// record can come back from the shared store (`copyIn`) before its own commit. Returns
    /// the chain's new head, nil when the record was here already.
    @discardableResult
    static func insert(_ record: Record, db: Database) throws -> RecordChain.Head? {
        let versions = String(decoding: try JSONEncoder().encode(record.versions), as: UTF8.self)
        let s = record.summary
        try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO onemap_checks(id, created_at, project_code, project_name, key_name, verdict, input_format, input, site, layer_versions, result, geojson)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
                """
        ).execute(arguments: [
            s.id, s.createdAt, s.projectCode, s.projectName, s.keyName, s.verdict, record.inputFormat, record.input,
            record.site, versions, record.result, record.geojson
        ])
        guard db.changesCount == 1 else { return nil }
        let fields = RecordChain.Fields(
            id: s.id, createdAt: s.createdAt, projectCode: s.projectCode, projectName: s.projectName, keyName: s.keyName,
            verdict: s.verdict, inputFormat: record.inputFormat, input: record.input, site: record.site, layerVersions: versions,
            result: record.result)
        return try RecordChain.append(seq: db.lastInsertedRowID, id: s.id, canonical: fields.canonical, db: db)
    }

    /// The record, with its geometry unless `geometry` is false (then `geojson` is empty):
    /// geometry not drawn yet is drawn now, and kept.
    public func get(_ id: String, geometry: Bool = true) throws -> Record? {
        let found = try store.pool.read { db -> Record? in
            let columns =
                geometry
                ? "c.*, g.geojson AS drawn"
                : "c.seq, c.id, c.created_at, c.project_code, c.project_name, c.key_name, c.verdict, c.input_format, c.input, c.site, c.layer_versions, c.result, X'' AS geojson, NULL AS drawn"
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT \(columns) FROM onemap_checks c \(geometry ? "LEFT JOIN onemap_check_geometry g ON g.check_id = c.id" : "") WHERE c.id = ?
                        """, arguments: [id])
            else { return nil }
            var record = try Self.record(row)
            if let drawn: Data = row["drawn"] { record.geojson = drawn }
            return record
        }
        guard var record = found, geometry, record.geojson.isEmpty else { return found }
        record.geojson = try drawGeometry(id)
        return record
    }

    /// Draws a record's geometry now, keeps it, and returns what is kept.
    func drawGeometry(_ id: String) throws -> Data {
        let geojson = try store.snapshot { db in try CheckGeometry.draw(id, db: db, checker: checker) }
        try commit.write { db in try CheckGeometry.keep(id, geojson, db: db) }
        return try store.pool.read { db in
            try Data.fetchOne(db, sql: "SELECT geojson FROM onemap_check_geometry WHERE check_id = ?", arguments: [id])
        } ?? geojson
    }

    /// Draws, in the background, the geometry records of an earlier process left undrawn.
    public func resumeDrawing() { backfill.resume() }

    /// Drops a layer's oldest versions (`Store.prune`), first drawing, in the same
    /// transaction, the geometry of every record that waits for one of them.
    @discardableResult
    public func prune(_ layer: String, keep: Int) throws -> [Store.VersionSummary] {
        try store.prune(layer, keep: keep) { db, doomed in
            for id in try Store.recordsAwaitingGeometry(db, layer: layer, versions: Set(doomed.map(\.version))) {
                try CheckGeometry.keep(id, try CheckGeometry.draw(id, db: db, checker: checker), db: db)
            }
        }
    }

    /// `keyName`: only the records this key or person made (a scoped caller's own).
    public func list(projectCode: String?, keyName: String? = nil, limit: Int, offset: Int) throws -> (items: [Summary], total: Int) {
        try store.pool.read { db in
            var conditions: [String] = []
            var args: StatementArguments = []
            if let projectCode { conditions.append("project_code = ?"); args += [projectCode] }
            if let keyName { conditions.append("key_name = ?"); args += [keyName] }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_checks \(filter)", arguments: args) ?? 0
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM onemap_checks \(filter) ORDER BY seq DESC LIMIT ? OFFSET ?",
                arguments: args + [limit, offset])
            return (rows.map(Self.summary), total)
        }
    }

    /// A record's summary without its blobs; nil when there is no such record.
    public static func summary(_ id: String, db: Database) throws -> Summary? {
        try Row.fetchOne(
            db, sql: "SELECT id, created_at, project_code, project_name, verdict, key_name FROM onemap_checks WHERE id = ?",
            arguments: [id]
        ).map(Self.summary)
    }

    static func summary(_ row: Row) -> Summary {
        Summary(
            id: row["id"], createdAt: row["created_at"], projectCode: row["project_code"], projectName: row["project_name"],
            verdict: row["verdict"], keyName: row["key_name"])
    }

    static func record(_ row: Row) throws -> Record {
        let versionsJSON: String = row["layer_versions"]
        return Record(
            summary: summary(row), inputFormat: row["input_format"], input: row["input"], site: row["site"],
            versions: try JSONDecoder().decode([String: LayerVersionRef].self, from: Data(versionsJSON.utf8)),
            result: row["result"], geojson: row["geojson"])
    }

    /// ISO 8601 in UTC with milliseconds, as `ISO8601DateFormatter` with fractional seconds
    /// writes it ("2026-12-05T05:24:00.123Z", to the nearest millisecond), without making a
    /// formatter per record.
    static func timestamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = time_t(millis / 1000 - (millis % 1000 < 0 ? 1 : 0))
        let ms = Int((millis % 1000 + 1000) % 1000)
        var t = tm()
        gmtime_r(&seconds, &t)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let msText = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        return "\(t.tm_year + 1900)-\(two(t.tm_mon + 1))-\(two(t.tm_mday))T\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)).\(msText)Z"
    }

    /// Sortable and unguessable: the time, then randomness.
    static func newID(_ now: Date, prefix: String = "chk_") -> String {
        let millis = UInt64(now.timeIntervalSince1970 * 1000)
        var random = SystemRandomNumberGenerator()
        let tail = (0..<10).map { _ in String(UInt8.random(in: 0..<36, using: &random), radix: 36) }.joined()
        return prefix + String(millis, radix: 36) + tail
    }
}

import Foundation
import GeoCore
import LayerStore
import PostgresNIO

/// Brings a local store up to date with the layers' current versions in PostGIS: a replica
/// answers checks, tiles and features from memory, built from a local SpatiaLite copy as a
/// one-machine OneMap builds them, so every part of the engine runs the same on either backend.
/// The copy is a cache of the database: a version is copied once, under its own number, and
/// only the current version of each layer is copied.
public struct PostGISMirror: Sendable {
    /// Where the rows are read: the database, or a hot standby of it.
    public let database: PostGISDatabase
    public let store: Store
    /// With a standby as `database`: its primary, whose write position the standby must have
    /// replayed before a copy, so that it holds every version the primary announced.
    public let primary: PostGISDatabase?
    static let batchRows = 4096
    /// Longest a copy waits for a standby to catch up.
    static let replaySeconds = 30.0

    public init(database: PostGISDatabase, store: Store, primary: PostGISDatabase? = nil) {
        self.database = database
        self.store = store
        self.primary = primary
    }

    /// Runs `body` with a mirror that reads from `standby` when one is given (connected here,
    /// and closed after `body`), else from `primary`.
    public static func with<T>(
        primary: PostGISDatabase, standby: PostGISLocation?, store: Store, _ body: (PostGISMirror) async throws -> T
    ) async throws -> T {
        guard let standby else { return try await body(PostGISMirror(database: primary, store: store)) }
        return try await PostGISDatabase.with(standby) { read in
            try await body(PostGISMirror(database: read, store: store, primary: primary))
        }
    }

    /// One layer version copied, or found copied already.
    public struct Copied: Sendable {
        public var layer: String
        public var kind: LayerKind
        public var version: Int
        public var count: Int
        public var seconds: Double
    }

    /// Copies every layer's current version the store lacks; returns those it copied.
    public func sync() async throws -> [Copied] {
        try await catchUp()
        return try await copyMissing(try await database.layers())
    }

    /// With a standby: waits until it holds what the primary has committed now.
    private func catchUp() async throws {
        guard let primary else { return }
        try await database.waitForReplay(to: try await primary.writePosition(), seconds: Self.replaySeconds)
    }

    /// Copies these versions of `layer` (by number) beside its current one, those the store
    /// lacks: what `onemap diff` compares.
    public func copy(layer: String, versions numbers: [Int]) async throws -> [Copied] {
        try await catchUp()
        let all = try await database.versions(of: layer)
        for n in numbers where !all.contains(where: { $0.version == n }) {
            throw StoreError.unknownVersion(layer: layer, version: String(n))
        }
        return try await copyMissing(all.filter { numbers.contains($0.version) })
    }

    private func copyMissing(_ versions: [PostGISDatabase.StoredVersion]) async throws -> [Copied] {
        var copied: [Copied] = []
        for stored in versions {
            let version = stored.mirrored
            guard try !MirrorWriter.has(version, in: store) else { continue }
            let started = Date()
            let count = try await copy(version, current: stored.current)
            copied.append(
                Copied(
                    layer: version.spec.name, kind: version.spec.kind, version: version.version, count: count,
                    seconds: Date().timeIntervalSince(started)))
        }
        return copied
    }

    /// Streams one version's rows from PostGIS into the store; returns the count. The rows
    /// are read and converted on this task while a second writes the batches before them, so
    /// the database's reading and SQLite's writing overlap.
    private func copy(_ version: MirroredVersion, current: Bool) async throws -> Int {
        let table = version.table
        let fields = version.fields
        let columns = fields.map { PostGISImporter.quoted($0.name) + "," }.joined()
        // The geometry as it is stored (extended WKB, in the binary results postgres-nio asks
        // for): no ST_AsBinary on the server, and no parsing here (`SpatiaLiteGeometry.fromWKB`).
        let sql =
            "SELECT om_id, om_source_fid, om_area_m2, om_length_m, om_minx, om_miny, om_maxx, om_maxy, \(columns) "
            + "geom FROM onemap.\(table) ORDER BY om_fid"
        let batches = BatchHandoff<[MirroredRow]>(capacity: 4)
        let store = self.store
        async let written: Int = {
            do {
                var writer = try MirrorWriter(store: store, version: version)
                var count = 0
                while let batch = try await batches.take() {
                    try writer.append(batch)
                    count += batch.count
                }
                try writer.finish(current: current)
                return count
            } catch {
                // The reader stops at its next batch.
                await batches.fail(error)
                throw error
            }
        }()
        do {
            var batch: [MirroredRow] = []
            batch.reserveCapacity(Self.batchRows)
            let rows = try await database.connection.query(PostgresQuery(unsafeSQL: sql), logger: database.logger)
            for try await row in rows {
                batch.append(try Self.row(row.makeRandomAccess(), fields: fields))
                if batch.count == Self.batchRows {
                    try await batches.put(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { try await batches.put(batch) }
            await batches.finish()
        } catch {
            await batches.fail(error)
            _ = try? await written
            if let e = error as? StoreError { throw e }
            throw StoreError.database(
                "\(database.location): reading version \(version.version) of '\(version.spec.name)' failed: \(PostGISDatabase.reason(error))"
            )
        }
        return try await written
    }

    /// One stored feature from its row.
    static func row(_ cells: PostgresRandomAccessRow, fields: [FieldDefinition]) throws -> MirroredRow {
        var attributes: [AttributeValue] = []
        attributes.reserveCapacity(fields.count)
        for (i, field) in fields.enumerated() {
            let cell = cells[8 + i]
            switch field.type {
            case .integer: attributes.append(try cell.decode(Int64?.self).map { .integer($0) } ?? .null)
            case .real: attributes.append(try cell.decode(Double?.self).map { .real($0) } ?? .null)
            case .text: attributes.append(try cell.decode(String?.self).map { .text($0) } ?? .null)
            }
        }
        let box = BoundingBox(
            try cells[4].decode(Double.self), try cells[5].decode(Double.self), try cells[6].decode(Double.self),
            try cells[7].decode(Double.self))
        let wkb = try cells[8 + fields.count].decode(ByteBuffer.self)
        let srid = LayerImporter.storageSRID
        let blob = try wkb.withUnsafeReadableBytes { bytes in
            try SpatiaLiteGeometry.fromWKB(bytes, srid: srid, box: box)
                ?? SpatiaLiteGeometry.encode(WKB.decode(Array(bytes)), srid: srid, box: box)
        }
        return MirroredRow(
            id: try cells[0].decode(String.self), sourceFID: try cells[1].decode(Int64.self), area: try cells[2].decode(Double.self),
            length: try cells[3].decode(Double.self), box: box, attributes: attributes, blob: blob)
    }
}

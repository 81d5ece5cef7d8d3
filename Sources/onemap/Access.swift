import ArgumentParser
import Conflicts
import Foundation
import LayerStore
import PostGISStore

/// `onemap access list|head|verify`: the reads of restricted data on record (全留痕).
struct AccessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access", abstract: "List who read restricted layers, or check that record's chain.",
        discussion: """
            Every answer of the server that holds features of a restricted layer (feature pages and
            features, identify, tiles) is recorded: who, which layer, through which route, what was
            asked, how many features, when, and the request id. The records are linked by SHA-256 like
            the check records: `head` prints the last link, `verify` recomputes them all.
            They are kept in the records file beside a SpatiaLite database. Replicas of a PostgreSQL
            database keep them there too, on a chain of their own that links every replica's: give
            its URL as --db (a replica's cache file holds only that replica's reads).
            """,
        subcommands: [List.self, Head.self, Verify.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The access records, newest first.")
        @Option(help: "Only this key or person, as records name them (a key's name, or sso:NAME (SUBJECT)).") var who: String?
        @Option(help: "Only reads of this layer.") var layer: String?
        @Option(help: "Only reads at or after this time (ISO 8601, UTC: 2026-12-07 or 2026-12-07T08:00:00Z).") var since: String?
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "Machine-readable output.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            if let since, !AccessRecords.isTime(since) {
                throw ValidationError("--since '\(since)' is not a date (2026-12-07) or a UTC time (2026-12-07T08:00:00Z)")
            }
            guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
            let (items, total): ([AccessRecords.Record], Int)
            if let location = try database.upstream() {
                let shared = PostGISAccess(location: location)
                defer { shared.close() }
                (items, total) = try shared.list(who: who, layer: layer, since: since, limit: limit, offset: 0)
            } else {
                (items, total) = try AccessRecords(store: try AccessCommand.file(database)).list(
                    who: who, layer: layer, since: since, limit: limit)
            }
            if json { return try Terminal.printJSON(Page(total: total, items: items)) }
            if items.isEmpty { return print("no access records\(who == nil && layer == nil && since == nil ? " yet" : " match")") }
            for r in items {
                print(
                    Terminal.pad(r.at, 26) + Terminal.pad(r.who, 28) + Terminal.pad(r.layer, 16)
                        + Terminal.pad(r.returned.map { "\($0) features" } ?? "-", 14) + r.route + " " + r.what
                        + (r.requestID.map { "  [\($0)]" } ?? ""))
            }
            if total > items.count { print("… \(total - items.count) more (--limit)") }
        }
    }

    struct Page: Encodable {
        let total: Int
        let items: [AccessRecords.Record]
    }

    struct Head: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the access chain's head: position, record id and SHA-256.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let found: RecordChain.Head?
            if let location = try database.upstream() {
                found = try await PostGISDatabase.with(location) { try await $0.accessChainHead() }
            } else {
                found = try AccessCommand.file(database).snapshot { try AccessRecords.head($0) }
            }
            guard let head = found else { return print("no access records yet") }
            print(head.description)
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every link of the access chain; exit 1 and name each record that no longer fits.")
        @Option(help: "A head printed earlier by `onemap access head`, to check instead of the one kept beside the file.")
        var head: String?
        @Flag(help: "Machine-readable output.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await RecordsCommand.verify(
                head: head, printedBy: "onemap access head", json: json, database: database,
                inDatabase: { try await $0.verifyAccessChain(keptHead: $1) },
                inFile: {
                    let store = try AccessCommand.file(database)
                    return (
                        AccessRecords.readHead(records: store.recordsPath),
                        { kept in try store.snapshot { try AccessRecords.verify($0, keptHead: kept) } }
                    )
                })
        }
    }

    static func file(_ database: DatabaseOptions) throws -> Store {
        guard FileManager.default.fileExists(atPath: database.target) else { throw ValidationError("no database at \(database.target)") }
        return try Store(path: database.target)
    }
}

import ArgumentParser
import Conflicts
import Foundation
import LayerStore
import PostGISStore

/// `onemap records head|verify`: the tamper-evident chain over the check records (全留痕).
struct RecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records", abstract: "Print the check records' chain head, or verify the chain.",
        discussion: """
            Every check record is linked to the one before it by a SHA-256 hash. `head` prints the last
            link: keep it somewhere else (a mail, a ticket); `verify` recomputes every link and names the
            first record that was changed, deleted, inserted or reordered, and whether a kept head still
            holds.
            """,
        subcommands: [Head.self, Verify.self])

    struct Head: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the chain's head: position, record id and SHA-256.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let found: RecordChain.Head?
            if let location = try database.upstream() {
                found = try await PostGISDatabase.with(location) { try await $0.recordChainHead() }
            } else {
                found = try RecordsCommand.file(database).snapshot { try RecordChain.head($0) }
            }
            guard let head = found else {
                print("no check records yet")
                return
            }
            print(head.description)
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every link of the chain; exit 1 and name each record that no longer fits.")
        @Option(
            help: "A head printed earlier by `onemap records head` (POSITION ID SHA256), to check instead of the one kept beside the file.")
        var head: String?
        @Flag(help: "Machine-readable output.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await RecordsCommand.verify(
                head: head, printedBy: "onemap records head", json: json, database: database,
                inDatabase: { try await $0.verifyRecordChain(keptHead: $1) },
                inFile: {
                    let store = try RecordsCommand.file(database)
                    return (
                        RecordChain.readHead(records: store.recordsPath),
                        { kept in try store.snapshot { try RecordChain.verify($0, keptHead: kept) } }
                    )
                })
        }
    }

    /// `verify` of a chain (the check records', the access records'): against the head given
    /// (`--head`, as `printedBy` prints it) or, in a file, the one kept beside it; in the
    /// database its URL names, or in the file. Exits 1 when anything is wrong.
    static func verify(
        head: String?, printedBy: String, json: Bool, database: DatabaseOptions,
        inDatabase: (PostGISDatabase, RecordChain.Head?) async throws -> RecordChain.Verification,
        inFile: () throws -> (kept: RecordChain.Head?, walk: (RecordChain.Head?) throws -> RecordChain.Verification)
    ) async throws {
        let given = try head.map { line in
            guard let head = RecordChain.Head(line: line) else {
                throw ValidationError("--head '\(line)' is not POSITION RECORD-ID SHA256, as `\(printedBy)` prints it")
            }
            return head
        }
        let result: RecordChain.Verification
        let kept: RecordChain.Head?
        if let location = try database.upstream() {
            // PostgreSQL keeps no head beside the records: check the one given, if any.
            kept = given
            result = try await PostGISDatabase.with(location) { try await inDatabase($0, kept) }
        } else {
            let (beside, walk) = try inFile()
            kept = given ?? beside
            result = try walk(kept)
        }
        try report(result, kept: kept, json: json)
        if !result.findings.isEmpty { throw ExitCode(1) }
    }

    /// Prints what `verify` found, for a person or (`json`) a program.
    static func report(_ result: RecordChain.Verification, kept: RecordChain.Head?, json: Bool) throws {
        if json {
            try Terminal.printJSON([
                "checked": String(result.checked), "head": result.head?.description ?? "", "kept_head": kept?.description ?? "",
                "findings": result.findings.map(\.description).joined(separator: "\n")
            ])
            return
        }
        for f in result.findings { print("\(f.kind.rawValue): \(f.description)") }
        let against = kept.map { "; the kept head \($0.seq) holds" } ?? "; no head kept beside the file to check the end against"
        if result.findings.isEmpty {
            print("\(result.checked) records, every link holds\(against)")
        } else {
            print("\(result.findings.count) problem(s) in \(result.checked) records")
        }
    }

    /// The SpatiaLite file whose records are verified.
    static func file(_ database: DatabaseOptions) throws -> Store {
        guard FileManager.default.fileExists(atPath: database.target) else { throw ValidationError("no database at \(database.target)") }
        let store = try Store(path: database.target)
        // Links any record stored before the chain existed, as a server would at its start.
        _ = CheckRecords(store: store)
        return store
    }
}

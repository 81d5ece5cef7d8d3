import ArgumentParser
import Foundation
import LayerStore
import PostGISStore

/// Options every command that touches the database shares, and the store a command reads.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "The database: a SpatiaLite file or a postgresql:// URL (default: $ONEMAP_DB, else ./onemap.sqlite).")
    var db: String?
    @Option(
        help: ArgumentHelp(
            "With a postgresql:// --db: the SpatiaLite file that keeps this machine's copy of its layers (made if missing; default: ~/.cache/onemap/DATABASE@HOST-PORT.sqlite).",
            valueName: "file"))
    var cache: String?
    @Option(
        name: .customLong("read-db"),
        help: ArgumentHelp(
            "With a postgresql:// --db: a hot standby of it to copy the layers from (nearer, or to spare the primary); notifications, records and keys stay on --db.",
            valueName: "url"))
    var readDB: String?

    /// The file or URL the command is to use.
    var target: String { Store.resolvePath(db) }

    /// The PostgreSQL database named, nil for a SpatiaLite file.
    func upstream() throws -> PostGISLocation? {
        PostGISLocation.isURL(target) ? try PostGISLocation(url: target) : nil
    }

    /// The hot standby the layers are copied from, if `--read-db` names one.
    func standby() throws -> PostGISLocation? {
        guard let readDB, !readDB.isEmpty else { return nil }
        guard PostGISLocation.isURL(readDB), try upstream() != nil else {
            throw ValidationError("--read-db takes a postgresql:// URL of a standby, beside a postgresql:// --db")
        }
        return try PostGISLocation(url: readDB)
    }

    /// Where the copy of `location`'s layers is kept: one file per database, so a second
    /// command finds the layers it copied already.
    func cachePath(for location: PostGISLocation) -> String {
        if let cache, !cache.isEmpty { return cache }
        let environment = ProcessInfo.processInfo.environment
        let base =
            environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSTemporaryDirectory()) + "/.cache")
        let host = location.host.hasPrefix("/") ? "socket" : location.host
        let name = "\(location.database)@\(host)-\(location.port)".map { $0.isLetter || $0.isNumber || "-_.@".contains($0) ? $0 : "_" }
        return "\(base)/onemap/\(String(name)).sqlite"
    }

    /// The store a command reads: the SpatiaLite file, or for a PostgreSQL database the local
    /// copy of its layers' current versions, brought up to date first. Reading through the
    /// copy runs the engine as it runs on a file (and as a replica runs it), so the answers
    /// are the same on either backend.
    func open() async throws -> Store {
        guard let location = try upstream() else {
            guard FileManager.default.fileExists(atPath: target) else {
                throw ValidationError("no database at \(target): load one first with `onemap load`")
            }
            return try Store(path: target)
        }
        return try await Self.copy(location, standby: try standby(), into: cachePath(for: location))
    }

    /// The store at `path`, made with its directory if missing: a copy of the database, which
    /// is where everything in it was made durable, so not synced on every commit itself.
    static func cacheStore(_ path: String) throws -> Store {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        return try Store(path: path, durability: .cache)
    }

    /// `location`'s current layers copied into the store at `path` (made if missing).
    static func copy(
        _ location: PostGISLocation, standby: PostGISLocation?, into path: String, versions: [String: [Int]] = [:]
    ) async throws -> Store {
        let store = try cacheStore(path)
        let copied = try await PostGISDatabase.with(location) { db in
            try await PostGISMirror.with(primary: db, standby: standby, store: store) { mirror in
                var copied = try await mirror.sync()
                for (layer, numbers) in versions { copied += try await mirror.copy(layer: layer, versions: numbers) }
                return copied
            }
        }
        for c in copied {
            FileHandle.standardError.write(
                Data(
                    "copied version \(c.version) of '\(c.layer)' (\(c.count) features) from \(standby ?? location) in \(String(format: "%.1f", c.seconds)) s\n"
                        .utf8))
        }
        Replica.afterCopying(copied, store: store, wait: true)
        return store
    }
}

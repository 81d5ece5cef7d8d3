import ArgumentParser
import Foundation
import LayerStore
import PostGISStore

/// `onemap keys create|list|revoke`: API keys for the approval system and for people who may
/// see restricted layers. Run on the server's machine, where the database file is, or anywhere
/// with a postgresql:// --db, where every replica of that database takes them.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create, list and revoke API keys.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a key and print it once; only its hash is stored.",
            discussion:
                "viewer reads restricted layers and check records; planner also posts checks; approver also reruns them; admin also manages keys."
        )
        @Option(help: "viewer, planner, approver or admin.") var role: Role
        @Option(help: "A name for the key, recorded with every check it makes (default: ROLE-N).") var name: String?
        @Option(help: "Limit the key to these administrative areas: county or township codes, comma-separated (331123,331121).")
        var scope: String?
        @Flag(help: "Machine-readable output.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let limit: DataScope?
            do {
                limit = try scope.map(DataScope.init(text:))
            } catch let e as DataScope.InvalidCode {
                throw ValidationError("--scope: \(e.description)")
            }
            let (key, secret) = try await database.keys().makeKey(role: role, name: name, scope: limit)
            if json {
                try Terminal.printJSON(
                    [
                        "id": String(key.id), "name": key.name, "role": key.role.rawValue, "secret": secret,
                        "scope": key.scope?.description ?? ""
                    ])
                return
            }
            print(secret)
            FileHandle.standardError.write(
                Data(
                    """
                    key \(key.id) '\(key.name)' (\(key.role.rawValue)\(key.scope.map { ", scope \($0)" } ?? "")) created. This is the only time the key is shown:
                    keep it in the client's secret store and send it as 'Authorization: Bearer …'.

                    """.utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys (never their secrets).")
        @Flag(help: "Machine-readable output.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let keys = try await database.keys().allKeys()
            if json { try Terminal.printJSON(keys); return }
            if keys.isEmpty { print("No keys. Try: onemap keys create --role approver --name 审批系统"); return }
            print(
                Terminal.pad("id", 6) + Terminal.pad("name", 24) + Terminal.pad("role", 10) + Terminal.pad("scope", 16)
                    + Terminal.pad("key", 14) + Terminal.pad("created", 26) + "revoked")
            for k in keys {
                print(
                    Terminal.pad(String(k.id), 6) + Terminal.pad(k.name, 24) + Terminal.pad(k.role.rawValue, 10)
                        + Terminal.pad(k.scope?.description ?? "-", 16) + Terminal.pad(k.prefix + "…", 14) + Terminal.pad(k.createdAt, 26)
                        + (k.revokedAt ?? "-"))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id or name; it stops working on the next request.")
        @Argument(help: "The key's id or name, as `onemap keys list` shows.") var key: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            do {
                let k = try await database.keys().revokeKey(key)
                print("revoked key \(k.id) '\(k.name)' (\(k.role.rawValue)) at \(k.revokedAt ?? "")")
            } catch let e as StoreError {
                throw ValidationError(e.description)
            }
        }
    }
}

extension Role: ExpressibleByArgument {}

extension DatabaseOptions {
    /// Where keys are made: the database file, or the PostgreSQL database the replicas share.
    func keys() throws -> any KeyAdministration {
        if let location = try upstream() { return PostGISKeys(location: location) }
        return KeyRing(store: try Store(path: target))
    }
}

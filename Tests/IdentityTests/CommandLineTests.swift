import Conflicts
import Foundation
import FuzzSupport
import GRDB
import LayerStore
import Testing

/// The commands as a user runs them: `serve --auth` refusing a bad configuration, keys with
/// a scope, and `records verify` naming a record changed in the file.
struct CommandLineTests {
    @Test(.enabled(if: OneMapCommand.isBuilt)) func aBadAuthConfigurationStopsTheServerSayingWhere() throws {
        let store = try scopedStore()
        let dir = (store.path as NSString).deletingLastPathComponent
        let config = dir + "/auth.yaml"
        try "issuer: https://sso.example\naudience: onemap\njwks: jwks.json\nalgorithms: [HS256]\nroles: {a: admin}\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let bad = try OneMapCommand.run(["serve", "--db", store.path, "--port", "0", "--auth", config])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("auth.yaml:4: key 'algorithms': 'HS256' is not accepted"), "\(bad.stderr)")
        try "issuer: https://sso.example\naudience: onemap\njwks: missing.json\nroles: {a: admin}\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let missing = try OneMapCommand.run(["serve", "--db", store.path, "--port", "0", "--auth", config])
        #expect(missing.status != 0 && missing.stderr.contains("jwks: cannot read \(dir)/missing.json"), "\(missing.stderr)")
    }

    @Test(.enabled(if: OneMapCommand.isBuilt)) func keysTakeAScopeAndRecordsVerify() throws {
        let store = try scopedStore()
        let made = try OneMapCommand.run(["keys", "create", "--role", "approver", "--name", "遂昌审批", "--scope", "331123", "--db", store.path]
        )
        #expect(made.status == 0 && made.stderr.contains("scope 331123"), "\(made.stderr)")
        let bad = try OneMapCommand.run(["keys", "create", "--role", "viewer", "--scope", "3311", "--db", store.path])
        #expect(bad.status != 0 && bad.stderr.contains("'3311' is not an administrative code"), "\(bad.stderr)")
        let list = try OneMapCommand.run(["keys", "list", "--db", store.path])
        #expect(list.stdout.contains("331123"))

        // Two checks recorded from the command line, then one changed in the file.
        let siteFile = (store.path as NSString).deletingLastPathComponent + "/site.geojson"
        try site(atX: 120.0).write(toFile: siteFile, atomically: true, encoding: .utf8)
        for _ in 0..<2 {
            let check = try OneMapCommand.run(["check", siteFile, "--db", store.path, "--format", "json"])
            #expect(check.status == 0, "\(check.stderr)")
        }
        let head = try OneMapCommand.run(["records", "head", "--db", store.path])
        #expect(head.status == 0 && head.stdout.split(separator: " ").count == 3, "\(head.stdout)")
        let clean = try OneMapCommand.run(["records", "verify", "--db", store.path])
        #expect(clean.status == 0 && clean.stdout.contains("2 records, every link holds; the kept head 2 holds"), "\(clean.stdout)")
        var config = Configuration()
        config.foreignKeysEnabled = false
        let raw = try DatabaseQueue(path: store.recordsPath, configuration: config)
        let changed = try raw.write { db -> String in
            try db.execute(sql: "DROP TRIGGER onemap_checks_no_update")
            let id = try String.fetchOne(db, sql: "SELECT id FROM onemap_checks ORDER BY seq LIMIT 1")!
            try db.execute(sql: "UPDATE onemap_checks SET verdict = 'clear' WHERE id = ?", arguments: [id])
            return id
        }
        try raw.close()
        let tampered = try OneMapCommand.run(["records", "verify", "--db", store.path])
        #expect(tampered.status == 1 && tampered.stdout.contains("changed: record \(changed) (position 1)"), "\(tampered.stdout)")
    }

    @Test(.enabled(if: OneMapCommand.isBuilt)) func accessRecordsListAndVerify() throws {
        let store = try scopedStore()
        let records = AccessRecords(store: store)
        for (who, layer) in [("sso:李四 (u-7)", "secret"), ("审批系统", "secret"), ("sso:李四 (u-7)", "secret")] {
            records.note(
                AccessRecords.Note(who: who, subject: nil, route: "GET /tiles", layer: layer, what: "tile", returned: nil, requestID: "r"))
        }
        try records.flush()
        let list = try OneMapCommand.run(["access", "list", "--who", "sso:李四 (u-7)", "--db", store.path])
        #expect(
            list.status == 0 && list.stdout.split(separator: "\n").count == 2 && list.stdout.contains("GET /tiles tile"), "\(list.stdout)")
        let json = try OneMapCommand.run(["access", "list", "--json", "--since", "2000-01-01", "--db", store.path])
        #expect(json.stdout.contains(#""total" : 3"#), "\(json.stdout)")
        let badSince = try OneMapCommand.run(["access", "list", "--since", "last week", "--db", store.path])
        #expect(badSince.status != 0 && badSince.stderr.contains("--since 'last week' is not a date"), "\(badSince.stderr)")
        let head = try OneMapCommand.run(["access", "head", "--db", store.path])
        #expect(head.status == 0 && head.stdout.hasPrefix("3 acc_"), "\(head.stdout)")
        let clean = try OneMapCommand.run(["access", "verify", "--db", store.path])
        #expect(clean.status == 0 && clean.stdout.contains("3 records, every link holds; the kept head 3 holds"), "\(clean.stdout)")
        let raw = try DatabaseQueue(path: store.recordsPath)
        try raw.write { db in
            try db.execute(sql: "DROP TRIGGER onemap_access_no_delete")
            try db.execute(sql: "DELETE FROM onemap_access WHERE seq = 3")
        }
        try raw.close()
        let cut = try OneMapCommand.run(["access", "verify", "--db", store.path])
        #expect(cut.status == 1 && cut.stdout.contains("deleted: record acc_"), "\(cut.stdout)")
    }
}

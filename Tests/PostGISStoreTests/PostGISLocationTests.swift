import LayerStore
import Testing

@testable import PostGISStore

struct PostGISLocationTests {
    let env: [String: String] = [:]

    @Test func urlsAsLibpqWritesThem() throws {
        let a = try PostGISLocation(url: "postgresql://planner:s3cr%40t@db.lishui.gov.cn:6432/onemap?sslmode=require", environment: env)
        #expect(a.host == "db.lishui.gov.cn" && a.port == 6432 && a.user == "planner" && a.database == "onemap")
        #expect(a.password == "s3cr@t" && a.tls == .require)
        // The password never shows.
        #expect(a.description == "postgresql://planner@db.lishui.gov.cn:6432/onemap?sslmode=require")

        let b = try PostGISLocation(url: "postgres://postgres@localhost/onemap", environment: env)
        #expect(b.port == 5432 && b.tls == .prefer && b.password == nil)

        // A socket directory as the host, percent-encoded or as a parameter; never encrypted.
        let c = try PostGISLocation(url: "postgresql://postgres@%2Fvar%2Frun%2Fpostgresql/onemap?sslmode=require", environment: env)
        #expect(c.host == "/var/run/postgresql" && c.tls == .disable)
        let d = try PostGISLocation(url: "postgresql:///onemap?host=/tmp/pg&port=5433&user=om", environment: env)
        #expect(d.host == "/tmp/pg" && d.port == 5433 && d.user == "om" && d.database == "onemap")

        let e = try PostGISLocation(url: "postgresql://u@[::1]:5999/x", environment: env)
        #expect(e.host == "::1" && e.port == 5999)
    }

    @Test func whatTheUrlLeavesOutComesFromLibpqsEnvironment() throws {
        let env = ["PGHOST": "pg.internal", "PGPORT": "5544", "PGUSER": "reviewer", "PGPASSWORD": "pw"]
        let l = try PostGISLocation(url: "postgresql://", environment: env)
        #expect(l.host == "pg.internal" && l.port == 5544 && l.user == "reviewer" && l.password == "pw")
        // The database defaults to the user's name, as in libpq.
        #expect(l.database == "reviewer")
    }

    @Test func badUrlsSayWhatIsWrongWithoutThePassword() {
        func message(_ url: String) -> String {
            do {
                _ = try PostGISLocation(url: url, environment: env)
                return ""
            } catch { return "\(error)" }
        }
        #expect(message("mysql://u@h/db").contains("is not a postgresql:// URL"))
        #expect(message("postgresql://u@h:99999/db").contains("port"))
        #expect(message("postgresql://u@h:five/db").contains("port"))
        let unknown = message("postgresql://u:hunter2@h/db?sslmode=allow")
        #expect(unknown.contains("sslmode=allow") && unknown.contains("verify-full"))
        #expect(!unknown.contains("hunter2") && unknown.contains("u:***@h"))
        #expect(message("postgresql://u@h/db?target_session_attrs=any").contains("'target_session_attrs'"))
        #expect(message("postgresql://u@h/db/extra").contains("more than a database name"))
    }

    @Test func spatiaLiteCommandsRefuseAUrlInsteadOfMakingAFileOfIt() {
        #expect(throws: StoreError.self) { try Store(path: "postgresql://postgres@localhost/onemap") }
    }
}

import Foundation
import Logging
import PostgresNIO
import Testing

@testable import PostGISStore

/// A fresh database of its own for each test, in the cluster `.ci/with-postgres` started
/// (`make test` runs the tests inside it): tests run in parallel and must not see each other's
/// layers.
enum TestDatabase {
    static var clusterURL: String? { ProcessInfo.processInfo.environment["ONEMAP_TEST_POSTGRES"] }

    /// The URL of a new, empty database; nil (with the test failed, saying why) outside a cluster.
    static func fresh(sourceLocation: SourceLocation = #_sourceLocation) async throws -> String? {
        guard let url = clusterURL else {
            Issue.record(
                "ONEMAP_TEST_POSTGRES is not set: run these tests through `make test` or `.ci/with-postgres swift test`",
                sourceLocation: sourceLocation)
            return nil
        }
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await withConnection(url) { c in
            _ = try await c.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger).collect()
        }
        let base = url[..<(url.lastIndex(of: "/")!)]
        let query = url.firstIndex(of: "?").map { String(url[$0...]) } ?? ""
        return base + "/" + name + query
    }

    /// The same database on the cluster's hot standby (`.ci/with-postgres` starts one).
    static func onStandby(_ url: String) throws -> String {
        guard let standby = ProcessInfo.processInfo.environment["ONEMAP_TEST_POSTGRES_STANDBY"] else {
            throw TestSetupError("ONEMAP_TEST_POSTGRES_STANDBY is not set: run inside .ci/with-postgres")
        }
        let name = url[url.index(after: url.lastIndex(of: "/")!)...].prefix { $0 != "?" }
        let base = standby[..<(standby.lastIndex(of: "/")!)]
        let query = standby.firstIndex(of: "?").map { String(standby[$0...]) } ?? ""
        return base + "/" + name + query
    }

    struct TestSetupError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    static let logger = Logger(label: "onemap.tests.postgis")

    /// A plain connection to `url`, for what a test checks behind OneMap's back.
    static func withConnection<T>(_ url: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let config = try PostGISLocation(url: url).configuration()
        let c = try await PostgresConnection.connect(configuration: config, id: 99, logger: logger)
        do {
            let out = try await body(c)
            try await c.close()
            return out
        } catch {
            try? await c.close()
            throw error
        }
    }

    /// The first column of each row of `sql`, as `T`.
    static func values<T: PostgresDecodable & Sendable>(_ url: String, _ sql: String, as: T.Type) async throws -> [T] {
        try await withConnection(url) { c in
            var out: [T] = []
            for try await v in try await c.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(T.self) { out.append(v) }
            return out
        }
    }
}

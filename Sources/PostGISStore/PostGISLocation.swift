import Foundation
import LayerStore
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL/PostGIS database is, from a URL as libpq writes it:
/// `postgresql://user:password@host:5432/onemap?sslmode=require`, or a Unix socket directory
/// as the host (`postgresql://postgres@%2Fvar%2Frun%2Fpostgresql/onemap`, or `?host=/dir`).
/// What the URL leaves out comes from libpq's environment variables (PGUSER, PGPASSWORD,
/// PGHOST, PGPORT), as `psql` takes it, so one URL works for both.
public struct PostGISLocation: Sendable, CustomStringConvertible {
    /// How the connection is encrypted: libpq's `sslmode` values that mean something here.
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        /// Encrypted, and the server's certificate checked against the system's CAs and the host name.
        case verifyFull = "verify-full"
    }

    public let host: String
    public let port: Int
    public let user: String
    public let database: String
    public let tls: TLSMode
    let password: String?

    /// Whether `text` names a PostgreSQL database rather than a SpatiaLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        func bad(_ why: String) -> StoreError {
            .invalidRequest("the database URL '\(Self.redacted(text))' \(why) (expected postgresql://user[:password]@host[:port]/database)")
        }
        guard Self.isURL(text) else { throw bad("is not a postgresql:// URL") }
        // URLComponents does not take a percent-encoded socket path as a host; the authority
        // is read by hand, the query by URLComponents.
        let rest = text[text.range(of: "://")!.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = rest[authorityEnd...]
        var query: [URLQueryItem] = []
        if let q = path.firstIndex(of: "?") {
            guard let items = URLComponents(string: "x:?" + path[path.index(after: q)...])?.queryItems else {
                throw bad("has a query that cannot be read")
            }
            query = items
            path = path[..<q]
        }
        var userInfo: Substring? = nil
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
        }
        func decoded(_ s: Substring, _ what: String) throws -> String {
            guard let d = String(s).removingPercentEncoding else { throw bad("has a \(what) with a broken %-escape") }
            return d
        }
        var user: String? = nil
        var password: String? = nil
        if let userInfo {
            if let colon = userInfo.firstIndex(of: ":") {
                user = try decoded(userInfo[..<colon], "user name")
                password = try decoded(userInfo[userInfo.index(after: colon)...], "password")
            } else {
                user = try decoded(userInfo, "user name")
            }
        }
        var host: String? = nil
        var port: Int? = nil
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw bad("has an IPv6 host without its ']'") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") {
                port = Int(after.dropFirst()) ?? -1
            } else if !after.isEmpty {
                throw bad("has text after its IPv6 host")
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = try decoded(hostPort[..<colon], "host")
            port = Int(hostPort[hostPort.index(after: colon)...]) ?? -1
        } else if !hostPort.isEmpty {
            host = try decoded(hostPort, "host")
        }
        if host?.isEmpty == true { host = nil }
        var tls = TLSMode.prefer
        for item in query {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw bad("asks for sslmode=\(value); OneMap knows \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tls = mode
            case "host": host = value
            case "port": port = Int(value) ?? -1
            case "user": user = value
            case "password": password = value
            case "dbname": path = Substring("/" + value)
            case "application_name", "connect_timeout": break
            default: throw bad("has the parameter '\(item.name)', which OneMap does not know")
            }
        }
        let resolvedPort = port ?? environment["PGPORT"].flatMap { Int($0) } ?? 5432
        guard (1...65535).contains(resolvedPort) else { throw bad("has a port that is not a number from 1 to 65535") }
        self.port = resolvedPort
        self.host = host ?? environment["PGHOST"] ?? "localhost"
        self.user = user ?? environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        self.password = password ?? environment["PGPASSWORD"]
        let name = try decoded(path.drop(while: { $0 == "/" }), "database name")
        guard !name.contains("/") else { throw bad("has a path of more than a database name") }
        database = name.isEmpty ? self.user : name
        // A local socket is not encrypted (libpq does not try either).
        self.tls = self.host.hasPrefix("/") ? .disable : tls
    }

    /// The URL without its password: for messages, logs and `/health`.
    public var description: String {
        let place = host.hasPrefix("/") ? host.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? host : host
        return "postgresql://\(user)@\(place):\(port)/\(database)" + (tls == .prefer ? "" : "?sslmode=\(tls.rawValue)")
    }

    /// A URL as given, with any password replaced: what an error may repeat.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@") else { return url }
        let user = url[scheme.upperBound..<at]
        guard let colon = user.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    /// The driver's configuration for this location.
    func configuration() throws -> PostgresConnection.Configuration {
        if host.hasPrefix("/") {
            return .init(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        }
        var client = TLSConfiguration.makeClientConfiguration()
        if tls != .verifyFull { client.certificateVerification = .none }
        let tlsSetting: PostgresConnection.Configuration.TLS
        switch tls {
        case .disable: tlsSetting = .disable
        case .prefer: tlsSetting = .prefer(try NIOSSLContext(configuration: client))
        case .require, .verifyFull: tlsSetting = .require(try NIOSSLContext(configuration: client))
        }
        var config = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tlsSetting)
        config.options.connectTimeout = .seconds(10)
        return config
    }
}

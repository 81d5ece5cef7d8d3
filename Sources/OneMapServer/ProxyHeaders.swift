import Foundation
import Hummingbird
import NIOCore

/// What a reverse proxy says about the client: `X-Forwarded-Host`, `-Proto` and `-For`.
/// Anyone can send these headers, so they are believed only when the server is told it sits
/// behind a proxy that sets them (`onemap serve --trust-proxy`); otherwise the connection
/// and the Host header are what count.
struct ProxyHeaders {
    let trusted: Bool

    static let forwardedHost = HTTPFields.Element.Name("X-Forwarded-Host")!
    static let forwardedProto = HTTPFields.Element.Name("X-Forwarded-Proto")!
    static let forwardedFor = HTTPFields.Element.Name("X-Forwarded-For")!

    /// The URL the client used to reach us, for absolute links (GDAL and QGIS follow them).
    /// Anything odd in the host falls back to a safe value.
    func baseURL(_ request: Request) -> String {
        let scheme = trusted && request.headers[Self.forwardedProto]?.lowercased() == "https" ? "https" : "http"
        let candidate = (trusted ? request.headers[Self.forwardedHost] : nil) ?? request.head.authority ?? "localhost"
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
        let host =
            !candidate.isEmpty && candidate.count < 256 && candidate.unicodeScalars.allSatisfy(allowed.contains) ? candidate : "localhost"
        return "\(scheme)://\(host)"
    }

    /// The client's address, for per-client limits: the peer, or behind a trusted proxy the
    /// address that proxy appended to `X-Forwarded-For` (the last one: earlier ones are the
    /// client's own say).
    func client(_ request: Request, peer: SocketAddress?) -> String {
        if trusted, let list = request.headers[values: Self.forwardedFor].last,
            let last = list.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty, last.count <= 64
        {
            return last
        }
        return peer?.ipAddress ?? "unknown"
    }
}

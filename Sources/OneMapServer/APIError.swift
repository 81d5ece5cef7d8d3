import Conflicts
import Foundation
import GRDB
import Hummingbird
import LayerStore

/// Every error the API returns: a status and `{"error": "...", "detail": "..."}`, where
/// `detail` points at the problem (line, point, key) so the caller can fix their request.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let error: String
    public let detail: String
    /// `WWW-Authenticate` on a 401, `Retry-After` on a 503, …
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ error: String, _ detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try JSONSerialization.data(
            withJSONObject: ["error": error, "detail": detail], options: [.sortedKeys, .withoutEscapingSlashes])
        var h = headers
        h[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func notFound(_ what: String) -> APIError { APIError(.notFound, "not found", what) }

    /// Maps the domain's errors to HTTP: bad input is the caller's (4xx), anything else ours.
    static func from(_ error: Error) -> APIError? {
        switch error {
        case let e as APIError: return e
        case let e as SiteError:
            switch e.kind {
            case .malformed: return APIError(.badRequest, "malformed site", e.message)
            case .invalid: return APIError(.unprocessableContent, "invalid site", e.message)
            case .tooLarge: return APIError(.contentTooLarge, "site too large", e.message)
            }
        case let e as AnswerTooLarge:
            return APIError(.contentTooLarge, "answer too large", e.description)
        case let e as StoreError:
            switch e {
            // A layer the caller may not see is answered exactly as one that does not exist.
            case .unknownLayer: return APIError(.notFound, "unknown layer", e.description)
            case .notFound(let m): return APIError(.notFound, "not found", m)
            case .unknownVersion: return APIError(.notFound, "unknown version", e.description)
            case .invalidRequest(let m): return APIError(.unprocessableContent, "cannot answer", m)
            case .conflict(let m): return APIError(.conflict, "conflict", m)
            case .unknownKey: return APIError(.notFound, "unknown key", e.description)
            // The server's data, not the request, is at fault; said plainly, since an approval
            // system must see why no verdict came.
            case .cannotCheck(let m): return APIError(.internalServerError, "cannot check", m)
            default: return nil
            }
        case let e as HTTPResponseError where e.status == .contentTooLarge:
            // NIO's too-many-bytes error, raised while collecting the body.
            return APIError(.contentTooLarge, "request too large", "the body exceeds the server's limit")
        default:
            return nil
        }
    }
}

/// Turns every thrown error into a JSON answer; unexpected ones are logged and become a 500
/// that reveals nothing internal. Nothing a request does can take the process down.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The documented methods of each path: the router answers 404 for a path it knows under
    /// another method, which RFC 9110 says is a 405 with `Allow`.
    var methods: MethodTable? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            if error.status == .notFound, let allowed = methods?.methods(for: request.uri.path), !allowed.contains(request.method.rawValue)
            {
                return try APIError(
                    .methodNotAllowed, "method not allowed", "\(request.uri.path) takes \(allowed.joined(separator: ", "))",
                    headers: [.allow: allowed.joined(separator: ", ")]
                ).response(from: request, context: context)
            }
            let api = APIError(error.status, error.status.reasonPhrase.lowercased(), error.body ?? error.status.reasonPhrase)
            return try api.response(from: request, context: context)
        } catch {
            if let api = APIError.from(error) { return try api.response(from: request, context: context) }
            context.logger.error("unexpected error on \(request.method) \(request.uri.path): \(Self.loggable(error))")
            return try APIError(.internalServerError, "internal error", "the server could not complete the request; it has been logged")
                .response(from: request, context: context)
        }
    }

    /// An unexpected error as one log line of bounded length. A database error is its code
    /// and message with the start of its statement: a whole statement can be tens of
    /// kilobytes (a large filter) and can carry what a caller sent.
    static func loggable(_ error: Error, limit: Int = 500) -> String {
        let text: String
        if let e = error as? DatabaseError {
            text =
                "SQLite error \(e.extendedResultCode.rawValue): \(e.message ?? "no message")"
                + (e.sql.map { " in: \($0.prefix(120))…" } ?? "")
        } else {
            text = String(reflecting: error)
        }
        return text.count > limit ? String(text.prefix(limit)) + "… (\(text.count) characters)" : text
    }
}

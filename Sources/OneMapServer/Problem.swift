import Conflicts
import Features
import Foundation
import Hummingbird
import LayerStore

/// Every error the API answers, on every route: RFC 9457 problem details as
/// `application/problem+json`. `type` is `about:blank`, so `title` is the status's phrase;
/// `detail` points at the problem (line, point, key, parameter) so the caller can fix their
/// request; `instance` is the path asked for; `code` (a `ProblemCode`) says what kind of
/// problem it is, and is the OGC exception code OGC clients read.
///
/// `error` (the short phrase of the old `{"error", "detail"}` body, which approval systems
/// read) and `description` (the OGC exception's, equal to `detail`) are still sent, and
/// deprecated: they go in the release after the next. The README says so.
public struct Problem: HTTPResponseError, Sendable {
    public static let mediaType = "application/problem+json"

    public let status: HTTPResponse.Status
    public let code: ProblemCode
    /// The short phrase, e.g. "unknown layer": the deprecated `error` member.
    public let error: String
    public let detail: String
    /// `WWW-Authenticate` on a 401, `Retry-After` on a 503, …
    public var headers: HTTPFields

    public init(
        _ status: HTTPResponse.Status, _ error: String, _ detail: String, code: ProblemCode? = nil, headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code ?? ProblemCode(status: status.code)
        self.error = error
        self.detail = detail
        self.headers = headers
    }

    /// With `type` absent or `about:blank`, RFC 9457 §4.2.1 has the title be the status's phrase.
    public var title: String {
        let phrase = status.reasonPhrase
        return phrase.isEmpty ? code.rawValue : phrase
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body: [String: Any] = [
            "type": "about:blank", "title": title, "status": status.code, "detail": detail, "code": code.rawValue,
            "instance": request.uri.path, "error": error, "description": detail
        ]
        var h = headers
        h[.contentType] = Self.mediaType
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func notFound(_ what: String) -> Problem { Problem(.notFound, "not found", what) }

    /// A 400 for the body rather than a parameter.
    static func badBody(_ error: String, _ detail: String) -> Problem { Problem(.badRequest, error, detail, code: .invalidRequestBody) }

    /// Maps the domain's errors to HTTP: bad input is the caller's (4xx), anything else ours.
    static func from(_ error: Error) -> Problem? {
        switch error {
        case let e as Problem: return e
        case let e as FeatureError:
            // An OGC exception keeps its code; its status says what the rest is.
            let code = ProblemCode(rawValue: e.code) ?? ProblemCode(status: e.status)
            return Problem(.init(code: e.status), e.code, e.description, code: code)
        case let e as SiteError:
            switch e.kind {
            case .malformed: return Problem(.badRequest, "malformed site", e.message, code: .invalidRequestBody)
            case .invalid: return Problem(.unprocessableContent, "invalid site", e.message)
            case .tooLarge: return Problem(.contentTooLarge, "site too large", e.message)
            }
        case let e as AnswerTooLarge:
            return Problem(.contentTooLarge, "answer too large", e.description)
        case let e as KeysUnavailable:
            return Problem(.serviceUnavailable, "keys unavailable", e.description, headers: [.retryAfter: "5"])
        case let e as RecordUpstreamUnavailable:
            return Problem(.serviceUnavailable, "records unavailable", e.description, headers: [.retryAfter: "5"])
        case let e as StoreError:
            switch e {
            // A layer the caller may not see is answered exactly as one that does not exist.
            case .unknownLayer: return Problem(.notFound, "unknown layer", e.description)
            case .notFound(let m): return Problem(.notFound, "not found", m)
            case .unknownVersion: return Problem(.notFound, "unknown version", e.description)
            case .invalidRequest(let m): return Problem(.unprocessableContent, "cannot answer", m)
            case .conflict(let m): return Problem(.conflict, "conflict", m)
            case .unknownKey: return Problem(.notFound, "unknown key", e.description)
            // The server's data, not the request, is at fault; said plainly, since an approval
            // system must see why no verdict came.
            case .cannotCheck(let m): return Problem(.internalServerError, "cannot check", m)
            default: return nil
            }
        case let e as HTTPResponseError where e.status == .contentTooLarge:
            // NIO's too-many-bytes error, raised while collecting the body.
            return Problem(.contentTooLarge, "request too large", "the body exceeds the server's limit")
        default:
            return nil
        }
    }
}

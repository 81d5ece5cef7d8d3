/// The `code` member of every problem. OGC API clients read `code` from an exception, so the
/// feature routes keep OGC's names (`InvalidParameterValue`, `NotFound`, `NotAcceptable`)
/// and the rest of the API answers with names of the same kind, which a client can switch on
/// without parsing the text of `detail`.
public enum ProblemCode: String, CaseIterable, Sendable {
    /// A query or path parameter is wrong (OGC's code).
    case invalidParameterValue = "InvalidParameterValue"
    /// The request body is malformed: not JSON, an unknown key, a value of the wrong kind.
    case invalidRequestBody = "InvalidRequestBody"
    /// Any other request the server refuses to read, e.g. one HTTP itself rejects.
    case badRequest = "BadRequest"
    case unauthorized = "Unauthorized"
    case forbidden = "Forbidden"
    /// No such resource, or one the caller may not see: answered alike (OGC's code).
    case notFound = "NotFound"
    case methodNotAllowed = "MethodNotAllowed"
    /// No representation the `Accept` header allows (OGC's code).
    case notAcceptable = "NotAcceptable"
    case conflict = "Conflict"
    case contentTooLarge = "ContentTooLarge"
    /// Well-formed input that cannot be used: a site's unclosed ring, a zone mismatch.
    case unprocessableContent = "UnprocessableContent"
    case tooManyRequests = "TooManyRequests"
    /// Unexpected, or the server's own data is at fault (OGC's `ServerError`).
    case serverError = "ServerError"
    /// Busy, past the time limit, not ready, or a viewer file missing: retry later.
    case serviceUnavailable = "ServiceUnavailable"
    /// A pinned tile URL whose versions are no longer current: a redirect, not a failure.
    case versionNotCurrent = "VersionNotCurrent"

    /// The code a status means when the place that answers it names none.
    init(status: Int) {
        switch status {
        case 400: self = .invalidParameterValue
        case 401: self = .unauthorized
        case 403: self = .forbidden
        case 404: self = .notFound
        case 405: self = .methodNotAllowed
        case 406: self = .notAcceptable
        case 409: self = .conflict
        case 413: self = .contentTooLarge
        case 422: self = .unprocessableContent
        case 429: self = .tooManyRequests
        case 300..<400: self = .versionNotCurrent
        case 500..<503, 504...: self = .serverError
        case 503: self = .serviceUnavailable
        default: self = .badRequest
        }
    }
}

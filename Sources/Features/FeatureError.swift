/// An OGC API exception: an HTTP status, the OGC exception code and what went wrong. Bad
/// input is the caller's (400), a missing collection or feature is 404; both say exactly what
/// to change. The server answers it as a problem (RFC 9457) whose `code` is this code.
public struct FeatureError: Error, CustomStringConvertible, Sendable {
    public let status: Int
    /// The OGC exception code, e.g. `InvalidParameterValue`.
    public let code: String
    public let description: String

    public init(status: Int, code: String, description: String) {
        self.status = status
        self.code = code
        self.description = description
    }

    public static func invalidParameter(_ name: String, _ message: String) -> FeatureError {
        FeatureError(status: 400, code: "InvalidParameterValue", description: "\(name): \(message)")
    }

    public static func notFound(_ message: String) -> FeatureError {
        FeatureError(status: 404, code: "NotFound", description: message)
    }

    public static func notAcceptable(_ message: String) -> FeatureError {
        FeatureError(status: 406, code: "NotAcceptable", description: message)
    }
}

import Foundation
import GRDB
import Hummingbird

/// Turns every thrown error into a `Problem`, Hummingbird's own (404, 405, 413) included;
/// unexpected ones are logged and become a 500 that reveals nothing internal. Nothing a
/// request does can take the process down.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The documented methods of each path: the router answers 404 for a path it knows under
    /// another method, which RFC 9110 says is a 405 with `Allow`.
    var methods: MethodTable? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            if error.status == .notFound, let allowed = methods?.methods(for: request.uri.path), !allowed.contains(request.method.rawValue)
            {
                return try Problem(
                    .methodNotAllowed, "method not allowed", "\(request.uri.path) takes \(allowed.joined(separator: ", "))",
                    headers: [.allow: allowed.joined(separator: ", ")]
                ).response(from: request, context: context)
            }
            // HTTPError's own headers (e.g. Allow) are kept; its body text becomes the detail.
            let problem = Problem(
                error.status, error.status.reasonPhrase.lowercased(), error.body ?? error.status.reasonPhrase, headers: error.headers)
            return try problem.response(from: request, context: context)
        } catch {
            if let problem = Problem.from(error) { return try problem.response(from: request, context: context) }
            context.logger.error("unexpected error on \(request.method) \(request.uri.path): \(Self.loggable(error))")
            return try Problem(.internalServerError, "internal error", "the server could not complete the request; it has been logged")
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

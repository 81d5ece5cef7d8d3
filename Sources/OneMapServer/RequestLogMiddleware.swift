import Foundation
import Hummingbird
import Logging

/// Gives every request an id (the caller's X-Request-Id when it is sane, else Hummingbird's
/// own per-request id), echoes it in the response, and logs one structured line per request
/// with its status and duration, so a check in the approval system's logs can be found in ours.
///
/// This runs for every tile, so it stays cheap: no UUID (a random-number syscall per
/// request), no `String(format:)`, and the id Hummingbird already put in the logger's
/// metadata is reused rather than a second one made.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id: String
        if let given = RequestLog.sane(request.headers[RequestLog.header]) {
            id = given
            context.logger[metadataKey: "request_id"] = .string(given)
        } else {
            id = context.id
        }
        let started = DispatchTime.now().uptimeNanoseconds
        var response = try await next(request, context)
        response.headers[RequestLog.header] = id
        RequestLog.log(
            context.logger, method: request.method.rawValue, path: request.uri.path, status: response.status.code,
            micros: (DispatchTime.now().uptimeNanoseconds - started) / 1000)
        return response
    }
}

/// The request id and the log line.
enum RequestLog {
    static let header = HTTPFields.Element.Name("X-Request-Id")!

    /// The caller's id if it is one we can echo and log unquoted (1–64 of `[A-Za-z0-9._-]`).
    static func sane(_ given: String?) -> String? {
        guard let given, given.utf8.count <= 64, given.utf8.allSatisfy({ allowed($0) }) else { return nil }
        return given
    }

    static func log(_ logger: Logger, method: String, path: String, status: Int, micros: UInt64) {
        logger.info(
            "request",
            metadata: [
                "method": .string(method), "path": .string(path),
                "status": .stringConvertible(status), "ms": .string(milliseconds(micros))
            ])
    }

    /// Letters, digits and `-_.`: what can go into a header and a log line unquoted.
    static func allowed(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F || b == 0x2E
    }

    /// "12.34" from microseconds, two decimals, without Foundation's formatter.
    static func milliseconds(_ micros: UInt64) -> String {
        let hundredths = (micros + 5) / 10
        let frac = hundredths % 100
        return "\(hundredths / 100)." + (frac < 10 ? "0" : "") + "\(frac)"
    }
}

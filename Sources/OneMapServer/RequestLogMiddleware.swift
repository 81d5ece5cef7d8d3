import Foundation
import Hummingbird
import Logging

/// Gives every request an id (the caller's X-Request-Id when it is sane, else a new one),
/// echoes it in the response, and logs one structured line per request with its status and
/// duration, so a check in the approval system's logs can be found in ours.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    static var header: HTTPFields.Element.Name { HTTPFields.Element.Name("X-Request-Id")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let given = request.headers[Self.header]
        let id = given.flatMap { $0.count <= 64 && $0.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) } ? $0 : nil }
            ?? UUID().uuidString.lowercased()
        var context = context
        context.logger[metadataKey: "request_id"] = .string(id)
        let started = DispatchTime.now().uptimeNanoseconds
        var response = try await next(request, context)
        response.headers[Self.header] = id
        let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        context.logger.info("request", metadata: [
            "method": .string(request.method.rawValue), "path": .string(request.uri.path),
            "status": .stringConvertible(response.status.code), "ms": .string(String(format: "%.2f", ms)),
        ])
        return response
    }
}

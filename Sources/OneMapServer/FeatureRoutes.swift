import Features
import Foundation
import Hummingbird
import LayerStore

/// OGC API – Features at the root: landing page, conformance, collections, items, features
/// and queryables. The work is done by `Features.FeatureService`; this only speaks HTTP.
/// Errors here are OGC exceptions (`{"code", "description"}`), as OGC clients expect.
struct FeatureRoutes {
    let service: FeatureService
    let deadline: Deadline

    init(server: ServerContext) {
        service = FeatureService(store: server.store, maxLimit: server.configuration.limits.maxPageSize)
        deadline = server.deadline
    }

    func register(on router: Router<OneMapRequestContext>) {
        let service = self.service
        let deadline = self.deadline
        router.get("/") { request, context in try await Self.respond(request, context) { try service.landing($0) } }
        router.get("conformance") { request, context in try await Self.respond(request, context) { try service.conformance($0) } }
        router.get("collections") { request, context in try await Self.respond(request, context) { try await service.collections($0) } }
        router.get("collections/:collectionId") { request, context in
            let id = Self.decoded(try context.parameters.require("collectionId"))
            return try await Self.respond(request, context) { try await service.collection(id, $0) }
        }
        router.get("collections/:collectionId/items") { request, context in
            let id = Self.decoded(try context.parameters.require("collectionId"))
            // A page of a large layer with a costly filter is the slow request here.
            return try await Self.respond(request, context) { r in try await deadline.run { try await service.items(id, r) } }
        }
        router.get("collections/:collectionId/items/:featureId") { request, context in
            let id = Self.decoded(try context.parameters.require("collectionId"))
            let featureId = Self.decoded(try context.parameters.require("featureId"))
            return try await Self.respond(request, context) { try await service.item(id, featureId: featureId, $0) }
        }
        router.get("collections/:collectionId/queryables") { request, context in
            let id = Self.decoded(try context.parameters.require("collectionId"))
            return try await Self.respond(request, context) { try await service.queryables(id, $0) }
        }
    }

    static func decoded(_ s: String) -> String { s.removingPercentEncoding ?? s }

    static func featureRequest(_ request: Request, _ context: OneMapRequestContext) -> FeatureRequest {
        FeatureRequest(query: QueryParameters(query: request.uri.query), accept: request.headers[.accept], baseURL: baseURL(request),
                       caller: context.caller)
    }

    /// The URL the client used to reach us, for absolute links (GDAL and QGIS follow them);
    /// a proxy's X-Forwarded-* wins. Anything odd in the host falls back to a safe value.
    static func baseURL(_ request: Request) -> String {
        let forwardedProto = HTTPFields.Element.Name("X-Forwarded-Proto").flatMap { request.headers[$0] }
        let forwardedHost = HTTPFields.Element.Name("X-Forwarded-Host").flatMap { request.headers[$0] }
        let scheme = forwardedProto == "https" ? "https" : "http"
        let candidate = forwardedHost ?? request.head.authority ?? "localhost"
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
        let host = !candidate.isEmpty && candidate.count < 256 && candidate.unicodeScalars.allSatisfy(allowed.contains) ? candidate : "localhost"
        return "\(scheme)://\(host)"
    }

    static func respond(_ request: Request, _ context: OneMapRequestContext,
                        _ body: (FeatureRequest) async throws -> FeatureResponse) async throws -> Response {
        do {
            return response(try await body(featureRequest(request, context)))
        } catch let e as FeatureError {
            return response(.exception(e))
        }
    }

    static func response(_ f: FeatureResponse) -> Response {
        var headers: HTTPFields = [.contentType: f.contentType]
        for (name, value) in f.headers {
            if let n = HTTPFields.Element.Name(name) { headers[n] = value }
        }
        return Response(status: .init(code: f.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: f.body)))
    }
}

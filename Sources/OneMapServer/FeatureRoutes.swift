import Features
import Foundation
import Hummingbird
import LayerStore

/// OGC API – Features at the root: landing page, conformance, collections, items, features
/// and queryables. The work is done by `Features.FeatureService`; this only speaks HTTP.
/// Errors here are OGC exceptions (`{"code", "description"}`), as OGC clients expect.
struct FeatureRoutes {
    let service: FeatureService

    init(store: Store, configuration: ServerConfiguration) {
        service = FeatureService(store: store, maxLimit: configuration.limits.maxPageSize)
    }

    func register(on router: Router<BasicRequestContext>) {
        let service = self.service
        router.get("/") { request, _ in try await Self.respond(request) { try service.landing($0) } }
        router.get("conformance") { request, _ in try await Self.respond(request) { try service.conformance($0) } }
        router.get("collections") { request, _ in try await Self.respond(request) { try await service.collections($0) } }
        router.get("collections/:collectionId") { request, context in
            let id = Self.decoded(try context.parameters.require("collectionId"))
            return try await Self.respond(request) { try await service.collection(id, $0) }
        }
        router.get("collections/:collectionId/items") { request, context in
            let id = Self.decoded(try context.parameters.require("collectionId"))
            return try await Self.respond(request) { try await service.items(id, $0) }
        }
        router.get("collections/:collectionId/items/:featureId") { request, context in
            let id = Self.decoded(try context.parameters.require("collectionId"))
            let featureId = Self.decoded(try context.parameters.require("featureId"))
            return try await Self.respond(request) { try await service.item(id, featureId: featureId, $0) }
        }
        router.get("collections/:collectionId/queryables") { request, context in
            let id = Self.decoded(try context.parameters.require("collectionId"))
            return try await Self.respond(request) { try await service.queryables(id, $0) }
        }
    }

    static func decoded(_ s: String) -> String { s.removingPercentEncoding ?? s }

    static func featureRequest(_ request: Request) -> FeatureRequest {
        FeatureRequest(query: QueryParameters(query: request.uri.query), accept: request.headers[.accept], baseURL: baseURL(request))
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

    static func respond(_ request: Request, _ body: (FeatureRequest) async throws -> FeatureResponse) async throws -> Response {
        do {
            return response(try await body(featureRequest(request)))
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

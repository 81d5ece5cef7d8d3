import Features
import Foundation
import Hummingbird
import LayerStore

/// OGC API – Features at the root: landing page, conformance, collections, items, features
/// and queryables. The work is done by `Features.FeatureService`; this only speaks HTTP.
/// Errors (`FeatureError`) become problems like every other route's, with the OGC exception
/// code as `code`, which is what OGC clients read.
struct FeatureRoutes {
    let service: FeatureService
    let server: ServerContext
    let proxy: ProxyHeaders

    init(server: ServerContext) {
        service = FeatureService(
            store: server.store, maxLimit: server.configuration.limits.maxPageSize, alsoConformsTo: TileRoutes.conformance)
        self.server = server
        proxy = server.proxy
    }

    func register(on router: some RouterMethods<OneMapRequestContext>) {
        let (service, server) = (self.service, self.server)
        router.get("/") { request, context in try await respond(request, context) { try service.landing($0) } }
        router.get("conformance") { request, context in try await respond(request, context) { try service.conformance($0) } }
        router.get("collections") { request, context in try await respond(request, context) { try await service.collections($0) } }
        router.get("collections/:collectionId") { request, context in
            let id = Self.decoded(try context.parameters.require("collectionId"))
            return try await respond(request, context) { try await service.collection(id, $0) }
        }
        router.get("collections/:collectionId/items") { request, context in
            let id = Self.decoded(try context.parameters.require("collectionId"))
            // A page of a large layer with a costly filter is the slow request here.
            return try await respond(request, context) { r in try await server.expensive("feature page") { try await service.items(id, r) }
            }
        }
        router.get("collections/:collectionId/items/:featureId") { request, context in
            let id = Self.decoded(try context.parameters.require("collectionId"))
            let featureId = Self.decoded(try context.parameters.require("featureId"))
            return try await respond(request, context) { try await service.item(id, featureId: featureId, $0) }
        }
        router.get("collections/:collectionId/queryables") { request, context in
            let id = Self.decoded(try context.parameters.require("collectionId"))
            return try await respond(request, context) { try await service.queryables(id, $0) }
        }
    }

    static func decoded(_ s: String) -> String { s.removingPercentEncoding ?? s }

    func featureRequest(_ request: Request, _ context: OneMapRequestContext) -> FeatureRequest {
        FeatureRequest(
            query: QueryParameters(query: request.uri.query), accept: request.headers[.accept], baseURL: proxy.baseURL(request),
            caller: context.caller)
    }

    func respond(
        _ request: Request, _ context: OneMapRequestContext,
        _ body: (FeatureRequest) async throws -> FeatureResponse
    ) async throws -> Response {
        let answer = try await body(featureRequest(request, context))
        if let read = answer.restrictedRead {
            AccessNotes(records: server.access).note(
                context.caller, requestID: RequestLog.id(request, context), route: "GET /collections/{id}/items", layer: read.layer,
                what: read.what, returned: read.returned)
        }
        return Self.response(answer)
    }

    static func response(_ f: FeatureResponse) -> Response {
        var headers: HTTPFields = [.contentType: f.contentType]
        for (name, value) in f.headers {
            if let n = HTTPFields.Element.Name(name) { headers[n] = value }
        }
        return Response(status: .init(code: f.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: f.body)))
    }
}

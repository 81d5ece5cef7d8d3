import Conflicts
import Foundation
import Hummingbird
import LayerStore

/// Builds the OneMap HTTP application. Every route is registered here, in one place.
public func buildApplication(store: Store, configuration: ServerConfiguration) -> some ApplicationProtocol {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: JSONErrorMiddleware())
    HealthRoutes(store: store).register(on: router)
    CheckRoutes(store: store, configuration: configuration).register(on: router.group("v1/checks"))
    LayerRoutes(store: store).register(on: router)
    LedgerRoutes(store: store).register(on: router)
    ViewerRoutes(vendorDirectory: configuration.vendorDirectory).register(on: router)
    FeatureRoutes(store: store, configuration: configuration).register(on: router)
    IdentifyRoutes(store: store).register(on: router)
    OpenAPIRoutes().register(on: router)
    TileRoutes(store: store).register(on: router)
    StyleRoutes().register(on: router)
    // Unknown paths answer with the same JSON error shape as everything else.
    router.get("**") { request, _ -> Response in throw APIError.notFound("no route for \(request.uri.path)") }
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "OneMap")
    )
}

extension Response {
    static func json(_ data: Data, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json(object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        json(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), status: status)
    }
}

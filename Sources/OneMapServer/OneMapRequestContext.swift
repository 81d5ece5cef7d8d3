import Hummingbird
import LayerStore
import NIOCore

/// Hummingbird's per-request context plus who is asking. `AuthMiddleware` sets the caller
/// from the `Authorization` header before any route runs; routes only read it.
public struct OneMapRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var caller: Caller = .anonymous
    /// The connection's peer (nil when there is no socket, as in router tests).
    public let remoteAddress: SocketAddress?

    public init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

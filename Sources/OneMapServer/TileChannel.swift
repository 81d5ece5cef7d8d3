import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// Hummingbird's HTTP/1.1 connection with the tile fast path put in front of the HTTP decoder.
///
/// Hummingbird's own hook (`additionalChannelHandlers`) places handlers after the decoder,
/// where a request has already cost its decoding; so this wraps `HTTP1Channel`, lets it build
/// its pipeline, then puts `TileFastPath` first. The fast path needs to know when requests it
/// handed on have been answered, which only a handler past the HTTP codec can see (where
/// answers are still `HTTPResponsePart`s): `ResponseTally`, placed by Hummingbird's hook.
struct TileChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let fastPath: @Sendable (ResponseTally) -> TileFastPath

    init(responder: @escaping HTTPChannelHandler.Responder, fastPath: @escaping @Sendable (ResponseTally) -> TileFastPath) {
        self.http1 = HTTP1Channel(responder: responder, configuration: .init(additionalChannelHandlers: [ResponseTally()]))
        self.fastPath = fastPath
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let fastPath = self.fastPath
        return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let tally = try pipeline.handler(type: ResponseTally.self)
            try pipeline.addHandler(fastPath(tally), position: .first)
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

/// Counts the requests the fast path handed on and the answers the router has finished, so
/// the fast path answers only when nothing handed on is still waiting (HTTP/1.1 answers go
/// out in the order the requests came).
final class ResponseTally: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Both only touched on the connection's event loop.
    var handedOn = 0
    private(set) var answered = 0
    var unanswered: Int { handedOn - answered }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { answered += 1 }
        context.write(data, promise: promise)
    }
}

import NIOCore
import NIOHTTPTypes

/// Closes a connection whose answers have not drained for `timeout`: a client that sends
/// requests and never reads the answers. Backpressure already stops the server reading from
/// it, so it costs no memory; but Hummingbird's idle timer waits while an answer is in
/// progress, and without this the connection would stay open, counted against the
/// connection limit, for as long as the client likes.
final class StalledWriteHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let timeout: TimeAmount
    private var closing: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            closing?.cancel()
            closing = nil
        } else if closing == nil {
            closing = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
                self?.closing = nil
                context.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing?.cancel()
        closing = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closing?.cancel()
        closing = nil
    }
}

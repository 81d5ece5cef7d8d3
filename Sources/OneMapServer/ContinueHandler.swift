import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with `100 Continue`, so a client that waits before sending
/// its body (curl does, for bodies over 1 MiB) sends it at once. Neither NIO's decoder nor
/// Hummingbird does this.
///
/// HTTP/1.1 answers go out in the order the requests came, and the 100 is part of its
/// request's answer: a request read while earlier ones are still being answered (pipelined)
/// gets its 100 once the last of those answers has been written.
final class ContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Requests read whose answers have not all been written.
    private var unanswered = 0
    /// Which of them (counted from the oldest unanswered, 0 first) wait for their 100.
    private var waiting: [Int] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            if Self.expectsContinue(head) {
                if unanswered == 0 {
                    context.writeAndFlush(wrapOutboundOut(Self.continueHead), promise: nil)
                } else {
                    waiting.append(unanswered)
                }
            }
            unanswered += 1
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        context.write(data, promise: promise)
        unanswered -= 1
        waiting = waiting.map { $0 - 1 }
        if waiting.first == 0 {
            waiting.removeFirst()
            context.write(wrapOutboundOut(Self.continueHead), promise: nil)
        }
    }

    static let continueHead = HTTPResponsePart.head(HTTPResponse(status: .continue))

    /// RFC 9110 §10.1.1: the token is case-insensitive, and it is the only expectation there is.
    static func expectsContinue(_ head: HTTPRequest) -> Bool {
        head.headerFields[values: .expect].contains { $0.lowercased() == "100-continue" }
    }
}

@testable import OneMapServer
import Testing

/// The tile fast path frames requests itself, in front of NIO's decoder: where a request ends
/// must never be guessed wrong, and only plain anonymous tile GETs may be `quick`.
struct RequestHeadTests {
    static func frame(_ text: String) -> RequestHead.Framing {
        Array(text.utf8).withUnsafeBytes { RequestHead.frame($0) }
    }

    static let tile = "GET /tiles/farmland/16/54613/27454.mvt HTTP/1.1\r\nHost: x\r\n"

    @Test func aPlainTileRequestIsQuick() {
        let text = Self.tile + "Accept-Encoding: gzip\r\nIf-None-Match: \"ab\"\r\nX-Request-Id: r-1\r\nConnection: keep-alive\r\n\r\n"
        let quick = RequestHead.Quick(target: "/tiles/farmland/16/54613/27454.mvt", acceptEncoding: "gzip", ifNoneMatch: "\"ab\"", requestID: "r-1")
        #expect(Self.frame(text) == .request(headLength: text.utf8.count, bodyLength: 0, quick: quick))
        // Names in any case, values trimmed.
        let shouted = Self.tile + "ACCEPT-ENCODING:   br, gzip \t\r\n\r\n"
        guard case .request(_, _, let q?) = Self.frame(shouted) else { Issue.record("not quick"); return }
        #expect(q.acceptEncoding == "br, gzip")
    }

    @Test func onlyTheFirstRequestIsFramed() {
        let one = Self.tile + "\r\n"
        guard case .request(let length, 0, _?) = Self.frame(one + one + "GET /tiles/a") else { Issue.record("not framed"); return }
        #expect(length == one.utf8.count)
    }

    @Test func aHeadNotAllHereWaits() {
        for partial in ["", "G", "GET /tiles/farmland/16/1/2.mvt HTTP/1.1\r", Self.tile, Self.tile + "\r"] {
            #expect(Self.frame(partial) == .incomplete, "\(partial.debugDescription)")
        }
        // Past the limit without an end, the decoder takes over (and applies its own limits).
        let long = Self.tile + "X-Long: " + String(repeating: "a", count: RequestHead.longest)
        #expect(Self.frame(long) == .unframable)
    }

    @Test func aBodyIsFramedByItsLengthAndNeverQuick() {
        let post = "POST /v1/checks HTTP/1.1\r\nContent-Length: 12\r\nContent-Type: application/json\r\n\r\n"
        #expect(Self.frame(post + "{\"site\": 1}") == .request(headLength: post.utf8.count, bodyLength: 12, quick: nil))
        let getWithBody = Self.tile + "content-length: 3\r\n\r\nabc"
        #expect(Self.frame(getWithBody) == .request(headLength: getWithBody.utf8.count - 3, bodyLength: 3, quick: nil))
        // A zero length is no body.
        guard case .request(_, 0, _?) = Self.frame(Self.tile + "Content-Length: 0\r\n\r\n") else { Issue.record("not quick"); return }
    }

    @Test func doubtfulFramingIsTheDecoders() {
        let doubtful = [
            Self.tile + "Transfer-Encoding: chunked\r\n\r\n",
            Self.tile + "Content-Length: 3\r\nContent-Length: 3\r\n\r\n",
            Self.tile + "Content-Length: +3\r\n\r\n",
            Self.tile + "Content-Length: 3, 3\r\n\r\n",
            Self.tile + "Content-Length:\r\n\r\n",
            Self.tile + "Content-Length: 99999999999999999999\r\n\r\n",
            "GET /tiles/farmland/16/1/2.mvt HTTP/1.1\nHost: x\n\n",  // bare LFs
            Self.tile + "X-A: 1\n\r\n",
            Self.tile + "X-A: 1\r\n folded\r\n\r\n",
            "\r\n" + Self.tile + "\r\n",  // a leading empty line
        ]
        for text in doubtful {
            #expect(Self.frame(text) == .unframable, "\(text.debugDescription)")
        }
    }

    @Test func anythingButAPlainAnonymousTileGetIsFramedButNotQuick() {
        let notQuick = [
            Self.tile + "Authorization: Bearer om_x\r\n\r\n",
            Self.tile + "Connection: close\r\n\r\n",
            Self.tile + "Connection: keep-alive, Upgrade\r\nUpgrade: h2c\r\n\r\n",
            Self.tile + "Expect: 100-continue\r\n\r\n",
            Self.tile + "Accept-Encoding: gzip\r\nAccept-Encoding: br\r\n\r\n",
            Self.tile + "If-None-Match: \"a\"\r\nif-none-match: \"b\"\r\n\r\n",
            Self.tile + "Bad Name: 1\r\n\r\n",
            Self.tile + "NoColon\r\n\r\n",
            Self.tile + "X-A: a\u{01}b\r\n\r\n",
            "GET /tiles/farmland/16/1/2.mvt?x=1 HTTP/1.1\r\n\r\n",
            "GET /tiles/%66armland/16/1/2.mvt HTTP/1.1\r\n\r\n",
            "GET /tiles/{a,b}/16/1/2.mvt HTTP/1.1\r\n\r\n",
            "GET /tiles/farmland/16/1/2.mvt HTTP/1.0\r\n\r\n",
            "HEAD /tiles/farmland/16/1/2.mvt HTTP/1.1\r\n\r\n",
            "get /tiles/farmland/16/1/2.mvt HTTP/1.1\r\n\r\n",
            "GET /v1/layers HTTP/1.1\r\n\r\n",
            "GET  /tiles/farmland/16/1/2.mvt HTTP/1.1\r\n\r\n",
            "GET /tiles/farmland/16/1/2.mvt  HTTP/1.1\r\n\r\n",
            "nonsense\r\n\r\n",
        ]
        for text in notQuick {
            #expect(Self.frame(text) == .request(headLength: text.utf8.count, bodyLength: 0, quick: nil), "\(text.debugDescription)")
        }
    }
}

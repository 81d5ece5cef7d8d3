/// Finds where one HTTP/1.1 request ends in the bytes a connection sent, and reads from its
/// head just what the tile fast path needs, without NIO's HTTP decoder.
///
/// Why: for a cached tile the decoder, the conversion to `HTTPRequest` and the response
/// encoder cost more than the answer itself. So the fast path sits in front of the decoder
/// (see TileFastPath): it answers what it can and hands every other request on, as the very
/// bytes that came, one whole request at a time, so the decoder always starts at a request
/// boundary.
///
/// It is deliberately narrow. Framing is only ever guessed where it cannot be wrong: a head
/// ends at the first empty CRLF line, and a body is what `Content-Length` says. Anything
/// else that bears on framing (`Transfer-Encoding`, a bare LF, a folded header line, a
/// doubtful length, a head that does not end within `longest` bytes) is `unframable`, and
/// the connection is the decoder's from there on. A request that is framed but odd in any
/// other way (another method or version, a target with an escape or a query, a key, a
/// header name or value the decoder might refuse) is framed but not `quick`: the router
/// answers it, or the decoder refuses it, as it would without the fast path.
struct RequestHead {
    /// What a request the fast path may answer says: `GET <target> HTTP/1.1`, no body, no key.
    struct Quick: Equatable {
        var target: String
        var acceptEncoding: String?
        var ifNoneMatch: String?
        var requestID: String?
    }

    enum Framing: Equatable {
        /// The head has not all come yet.
        case incomplete
        /// One request: its head's length in bytes, then its body's.
        case request(headLength: Int, bodyLength: Int, quick: Quick?)
        /// Framing is not certain: hand these bytes and all that follow to the decoder.
        case unframable
    }

    /// Longer heads than this are the decoder's (its own limit is 80 KiB); a tile request's
    /// head is a few hundred bytes.
    static let longest = 16 * 1024

    static func frame(_ bytes: UnsafeRawBufferPointer) -> Framing {
        var reader = Reader()
        var lineStart = 0
        var lineNumber = 0
        while lineStart < bytes.count {
            guard let lf = bytes[lineStart...].firstIndex(of: LF) else { break }
            guard lf > lineStart, bytes[lf - 1] == CR else {
                // A bare LF (or a line that is one): not a line ending we frame by.
                return .unframable
            }
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<(lf - 1)])
            if line.isEmpty {
                // Leading empty lines may be skipped by the decoder; leave it those.
                guard lineNumber > 0 else { return .unframable }
                let length = reader.contentLength ?? 0
                return .request(headLength: lf + 1, bodyLength: length, quick: reader.quick(bodyLength: length))
            }
            let fine = lineNumber == 0 ? reader.requestLine(line) : reader.headerLine(line)
            guard fine else { return .unframable }
            lineNumber += 1
            lineStart = lf + 1
        }
        return bytes.count > longest ? .unframable : .incomplete
    }

    private static let CR = UInt8(ascii: "\r"), LF = UInt8(ascii: "\n")

    /// The head read line by line. Each step returns false when framing is in doubt.
    private struct Reader {
        var target: String?
        var quickSoFar = true
        var contentLength: Int?
        var acceptEncoding: String?, ifNoneMatch: String?, requestID: String?

        func quick(bodyLength: Int) -> Quick? {
            guard quickSoFar, bodyLength == 0, let target else { return nil }
            return Quick(target: target, acceptEncoding: acceptEncoding, ifNoneMatch: ifNoneMatch, requestID: requestID)
        }

        mutating func requestLine(_ line: UnsafeRawBufferPointer) -> Bool {
            let get = "GET /tiles/".utf8, version = " HTTP/1.1".utf8
            guard line.count > get.count + version.count, line.starts(with: get), line.reversed().starts(with: version.reversed()) else {
                quickSoFar = false
                return true
            }
            let path = line[4..<(line.count - version.count)]
            if path.allSatisfy(Self.plainPathByte) {
                target = String(decoding: path, as: UTF8.self)
            } else {
                quickSoFar = false
            }
            return true
        }

        /// Letters, digits and `/._,-`: a tile path needs nothing else, and with nothing else
        /// there is no escape or query for the router to read differently.
        static func plainPathByte(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == 0x2F || b == 0x2E || b == 0x5F || b == 0x2C || b == 0x2D
        }

        mutating func headerLine(_ line: UnsafeRawBufferPointer) -> Bool {
            // A folded continuation line (obsolete) could carry anything, a length included.
            guard let first = line.first, first != 0x20, first != 0x09 else { return false }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                quickSoFar = false  // the decoder refuses it
                return true
            }
            let name = UnsafeRawBufferPointer(rebasing: line[..<colon])
            var value = line[(colon + 1)...]
            while let b = value.first, b == 0x20 || b == 0x09 { value = value.dropFirst() }
            while let b = value.last, b == 0x20 || b == 0x09 { value = value.dropLast() }
            if !name.allSatisfy(Self.tokenByte) || value.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
                quickSoFar = false
            }
            switch Self.lowercased(name) {
            case "content-length":
                // One length, of digits only: anything else and the body's end is in doubt.
                guard contentLength == nil, !value.isEmpty, value.count <= 15,
                      value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(String(decoding: value, as: UTF8.self))
                else { return false }
                contentLength = n
            case "transfer-encoding":
                return false
            case "authorization", "upgrade", "expect":
                // A key is checked by the router; the others change what the exchange is.
                quickSoFar = false
            case "connection":
                if TileFastPath.endsConnection(String(decoding: value, as: UTF8.self)) { quickSoFar = false }
            case "accept-encoding":
                acceptEncoding = once(acceptEncoding, value)
            case "if-none-match":
                ifNoneMatch = once(ifNoneMatch, value)
            case "x-request-id":
                requestID = once(requestID, value)
            default:
                break
            }
            return true
        }

        /// A header the answer depends on, said twice, is the router's to combine.
        private mutating func once(_ earlier: String?, _ value: Slice<UnsafeRawBufferPointer>) -> String {
            if earlier != nil { quickSoFar = false }
            return String(decoding: value, as: UTF8.self)
        }

        static func tokenByte(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || "!#$%&'*+-.^_`|~".utf8.contains(b)
        }

        /// The name in lower case when it is short enough to be one we look at, else "".
        static func lowercased(_ name: UnsafeRawBufferPointer) -> String {
            guard name.count <= 17 else { return "" }
            return String(unsafeUninitializedCapacity: name.count) { out in
                for (i, b) in name.enumerated() { out[i] = b >= 0x41 && b <= 0x5A ? b + 0x20 : b }
                return name.count
            }
        }
    }
}

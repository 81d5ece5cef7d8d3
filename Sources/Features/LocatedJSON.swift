import Foundation

/// A JSON value with the character (1-based) where it starts, so that a CQL2 JSON filter's
/// errors can point into the text the client sent. Foundation's reader keeps no positions.
struct LocatedJSON {
    indirect enum Value {
        case object([(key: String, value: LocatedJSON)])
        case array([LocatedJSON])
        case string(String)
        case number(Double)
        case bool(Bool)
        case null
    }

    let value: Value
    let position: Int

    func member(_ key: String) -> LocatedJSON? {
        guard case .object(let members) = value else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// What the value is, for messages.
    var kind: String {
        switch value {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    /// The value as Foundation's JSON reader would give it (for the GeoJSON geometry reader).
    var foundation: Any {
        switch value {
        case .object(let members):
            var out: [String: Any] = [:]
            for (k, v) in members where out[k] == nil { out[k] = v.foundation }
            return out
        case .array(let items): return items.map(\.foundation)
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return b
        case .null: return NSNull()
        }
    }

    /// Reads one JSON document (RFC 8259), nesting at most `maxDepth` arrays and objects.
    static func parse(_ text: String, maxDepth: Int) throws -> LocatedJSON {
        var reader = Reader(chars: Array(text), maxDepth: maxDepth)
        reader.skipSpace()
        let value = try reader.value()
        reader.skipSpace()
        guard reader.i == reader.chars.count else { throw reader.error("unexpected text after the JSON value") }
        return value
    }

    struct Reader {
        let chars: [Character]
        let maxDepth: Int
        var i = 0
        var depth = 0

        func error(_ message: String, at: Int? = nil) -> CQL2SyntaxError {
            CQL2SyntaxError(message: message, position: (at ?? i) + 1)
        }

        mutating func skipSpace() {
            while i < chars.count, chars[i] == " " || chars[i] == "\n" || chars[i] == "\t" || chars[i] == "\r" || chars[i] == "\r\n" {
                i += 1
            }
        }

        mutating func value() throws -> LocatedJSON {
            guard i < chars.count else { throw error("the JSON ends where a value was expected") }
            let start = i
            switch chars[i] {
            case "{": return LocatedJSON(value: try object(), position: start + 1)
            case "[": return LocatedJSON(value: try array(), position: start + 1)
            case "\"": return LocatedJSON(value: .string(try string()), position: start + 1)
            case "t": try word("true"); return LocatedJSON(value: .bool(true), position: start + 1)
            case "f": try word("false"); return LocatedJSON(value: .bool(false), position: start + 1)
            case "n": try word("null"); return LocatedJSON(value: .null, position: start + 1)
            case "-", "0"..."9": return LocatedJSON(value: .number(try number()), position: start + 1)
            default: throw error("expected a JSON value, found '\(chars[i])'")
            }
        }

        mutating func word(_ w: String) throws {
            let start = i
            for c in w {
                guard i < chars.count, chars[i] == c else { throw error("expected '\(w)'", at: start) }
                i += 1
            }
        }

        mutating func enter() throws {
            depth += 1
            guard depth <= maxDepth else { throw error("the JSON nests deeper than \(maxDepth) levels") }
        }

        mutating func object() throws -> Value {
            try enter()
            defer { depth -= 1 }
            i += 1
            var members: [(key: String, value: LocatedJSON)] = []
            skipSpace()
            if i < chars.count, chars[i] == "}" { i += 1; return .object(members) }
            while true {
                skipSpace()
                guard i < chars.count, chars[i] == "\"" else { throw error("expected a member name in double quotes") }
                let key = try string()
                skipSpace()
                guard i < chars.count, chars[i] == ":" else { throw error("expected ':' after the member name \"\(key)\"") }
                i += 1
                skipSpace()
                members.append((key, try value()))
                skipSpace()
                guard i < chars.count else { throw error("the object is not closed with '}'") }
                if chars[i] == "," { i += 1; continue }
                if chars[i] == "}" { i += 1; return .object(members) }
                throw error("expected ',' or '}' in the object, found '\(chars[i])'")
            }
        }

        mutating func array() throws -> Value {
            try enter()
            defer { depth -= 1 }
            i += 1
            var items: [LocatedJSON] = []
            skipSpace()
            if i < chars.count, chars[i] == "]" { i += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value())
                skipSpace()
                guard i < chars.count else { throw error("the array is not closed with ']'") }
                if chars[i] == "," { i += 1; continue }
                if chars[i] == "]" { i += 1; return .array(items) }
                throw error("expected ',' or ']' in the array, found '\(chars[i])'")
            }
        }

        mutating func string() throws -> String {
            let start = i
            i += 1
            var s = ""
            while i < chars.count {
                let c = chars[i]
                if c == "\"" { i += 1; return s }
                if c == "\\" {
                    i += 1
                    guard i < chars.count else { break }
                    switch chars[i] {
                    case "\"": s.append("\"")
                    case "\\": s.append("\\")
                    case "/": s.append("/")
                    case "b": s.append("\u{8}")
                    case "f": s.append("\u{C}")
                    case "n": s.append("\n")
                    case "r": s.append("\r")
                    case "t": s.append("\t")
                    case "u":
                        var code = try hex4()
                        // A UTF-16 surrogate pair, \uD83D\uDE00.
                        if (0xD800...0xDBFF).contains(code), i + 2 < chars.count, chars[i + 1] == "\\", chars[i + 2] == "u" {
                            i += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else {
                                throw error("a \\u escape pairs a high surrogate with no low one")
                            }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(code) else { throw error("\\u escape of an unpaired surrogate") }
                        s.unicodeScalars.append(scalar)
                    default: throw error("unknown escape \\\(chars[i]) in a string")
                    }
                    i += 1
                    continue
                }
                if let a = c.asciiValue, a < 0x20 { throw error("a control character inside a string must be escaped") }
                s.append(c)
                i += 1
            }
            throw error("the string starting here is not closed with \"", at: start)
        }

        /// The four hex digits after `\u` (i is on the `u`); i ends on the last digit.
        mutating func hex4() throws -> UInt32 {
            guard i + 4 < chars.count, let v = UInt32(String(chars[(i + 1)...(i + 4)]), radix: 16) else {
                throw error("\\u needs four hexadecimal digits")
            }
            i += 4
            return v
        }

        mutating func number() throws -> Double {
            let start = i
            var s = ""
            while i < chars.count, let a = chars[i].asciiValue, "0123456789+-.eE".utf8.contains(a) {
                s.append(chars[i])
                i += 1
            }
            // JSON's grammar: no leading zeros, no bare point, no plus sign in front.
            let valid = s.range(of: #"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"#, options: .regularExpression) != nil
            guard valid, let n = Double(s), n.isFinite else { throw error("'\(s)' is not a JSON number", at: start) }
            return n
        }
    }
}

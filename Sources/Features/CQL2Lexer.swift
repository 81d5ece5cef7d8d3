/// A piece of CQL2 text as the parser reads it: a word, a literal or a mark.
struct Token {
    enum Kind: Equatable, CustomStringConvertible {
        case word(String)
        case quotedIdentifier(String)
        case string(String)
        case number(Double)
        case compare(CQL2Comparison)
        case leftParen, rightParen, comma, minus
        /// `+ * / % ^`: arithmetic (`-` is `minus`, also a sign).
        case arithmetic(CQL2Arithmetic)
        case end

        var description: String {
            switch self {
            case .word(let w): return w
            case .quotedIdentifier(let w): return "\"\(w)\""
            case .string(let s): return "'\(s.count > 40 ? String(s.prefix(37)) + "..." : s)'"
            case .number(let n): return String(n)
            case .compare(let op): return "'\(op.rawValue)'"
            case .leftParen: return "'('"
            case .rightParen: return "')'"
            case .comma: return "','"
            case .minus: return "'-'"
            case .arithmetic(let op): return "'\(op.rawValue)'"
            case .end: return "the end of the filter"
            }
        }
    }
    let kind: Kind
    /// 1-based character position in the filter.
    let position: Int
}

/// Cuts CQL2 text into tokens, each with its position, so that errors can say where.
struct Lexer {
    let chars: [Character]
    init(_ text: String) { chars = Array(text) }

    func error(_ message: String, _ at: Int) -> CQL2SyntaxError { CQL2SyntaxError(message: message, position: at + 1) }

    static func isIdentifierStart(_ c: Character) -> Bool { c == "_" || c == ":" || c.isLetter }
    static func isIdentifierPart(_ c: Character) -> Bool { isIdentifierStart(c) || c == "." || c.isNumber }

    func tokens() throws -> [Token] {
        var out: [Token] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            let start = i
            switch c {
            case "(": out.append(Token(kind: .leftParen, position: start + 1)); i += 1
            case ")": out.append(Token(kind: .rightParen, position: start + 1)); i += 1
            case ",": out.append(Token(kind: .comma, position: start + 1)); i += 1
            case "=": out.append(Token(kind: .compare(.equal), position: start + 1)); i += 1
            case "<":
                if i + 1 < chars.count, chars[i + 1] == "=" {
                    out.append(Token(kind: .compare(.lessOrEqual), position: start + 1)); i += 2
                } else if i + 1 < chars.count, chars[i + 1] == ">" {
                    out.append(Token(kind: .compare(.notEqual), position: start + 1)); i += 2
                } else {
                    out.append(Token(kind: .compare(.less), position: start + 1)); i += 1
                }
            case ">":
                if i + 1 < chars.count, chars[i + 1] == "=" {
                    out.append(Token(kind: .compare(.greaterOrEqual), position: start + 1)); i += 2
                } else {
                    out.append(Token(kind: .compare(.greater), position: start + 1)); i += 1
                }
            case "-": out.append(Token(kind: .minus, position: start + 1)); i += 1
            case "+": out.append(Token(kind: .arithmetic(.plus), position: start + 1)); i += 1
            case "*": out.append(Token(kind: .arithmetic(.times), position: start + 1)); i += 1
            case "/": out.append(Token(kind: .arithmetic(.divide), position: start + 1)); i += 1
            case "%": out.append(Token(kind: .arithmetic(.remainder), position: start + 1)); i += 1
            case "^": out.append(Token(kind: .arithmetic(.power), position: start + 1)); i += 1
            case "'": out.append(Token(kind: .string(try quoted(from: &i)), position: start + 1))
            case "\"": out.append(Token(kind: .quotedIdentifier(try quotedName(from: &i)), position: start + 1))
            default:
                if c.isASCII && (c.isNumber || (c == "." && i + 1 < chars.count && chars[i + 1].isASCII && chars[i + 1].isNumber)) {
                    out.append(Token(kind: .number(try number(from: &i)), position: start + 1))
                } else if Self.isIdentifierStart(c) {
                    var s = ""
                    while i < chars.count, Self.isIdentifierPart(chars[i]) { s.append(chars[i]); i += 1 }
                    out.append(Token(kind: .word(s), position: start + 1))
                } else {
                    throw error("unexpected character '\(c)'", start)
                }
            }
        }
        out.append(Token(kind: .end, position: chars.count + 1))
        return out
    }

    /// A '…' string from `i` (its opening quote), '' standing for one quote; `i` moves past it.
    private func quoted(from i: inout Int) throws -> String {
        let start = i
        var s = ""
        i += 1
        while i < chars.count {
            if chars[i] == "'" {
                if i + 1 < chars.count, chars[i + 1] == "'" { s.append("'"); i += 2; continue }
                i += 1
                return s
            }
            s.append(chars[i])
            i += 1
        }
        throw error("the string starting here is not closed with '", start)
    }

    /// A "…" property name from `i` (its opening quote); `i` moves past it.
    private func quotedName(from i: inout Int) throws -> String {
        let start = i
        var s = ""
        i += 1
        while i < chars.count {
            if chars[i] == "\"" {
                i += 1
                guard !s.isEmpty else { break }
                return s
            }
            s.append(chars[i])
            i += 1
        }
        throw error("a quoted property name must be closed with \" and not empty", start)
    }

    /// A number from `i` (a digit, or a point before one), with an exponent if any; `i` moves past it.
    private func number(from i: inout Int) throws -> Double {
        let start = i
        var s = ""
        while i < chars.count, chars[i].isASCII, chars[i].isNumber || chars[i] == "." { s.append(chars[i]); i += 1 }
        if i < chars.count, chars[i] == "e" || chars[i] == "E" {
            s.append("e")
            i += 1
            if i < chars.count, chars[i] == "+" || chars[i] == "-" { s.append(chars[i]); i += 1 }
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { s.append(chars[i]); i += 1 }
        }
        guard let n = Double(s), n.isFinite else { throw error("'\(s)' is not a number", start) }
        if i < chars.count, Self.isIdentifierStart(chars[i]) {
            throw error("a number runs into a name here; separate them with a space", i)
        }
        return n
    }
}

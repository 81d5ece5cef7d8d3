/// The values of CQL2 text: literals, properties, CASEI/ACCENTI and arithmetic. `+ -` bind
/// loosest, then `* / % div`, then `^` (to the right, so 2^3^2 is 2^9), then a sign; so
/// -2^2 is -4, as in mathematics. `a - b - c` is `(a - b) - c`.
extension CQL2Parser {
    mutating func scalar() throws -> CQL2Scalar {
        try nested { try $0.sum() }
    }

    mutating func sum() throws -> CQL2Scalar {
        var left = try product()
        while true {
            if accept(.arithmetic(.plus)) {
                left = .arithmetic(.plus, left, try product())
            } else if accept(.minus) {
                left = .arithmetic(.minus, left, try product())
            } else {
                return left
            }
        }
    }

    mutating func product() throws -> CQL2Scalar {
        var left = try signed()
        while true {
            let op: CQL2Arithmetic
            switch peek.kind {
            case .arithmetic(.times): op = .times
            case .arithmetic(.divide): op = .divide
            case .arithmetic(.remainder): op = .remainder
            default:
                guard isKeyword("DIV") else { return left }
                op = .wholeDivide
            }
            _ = next()
            left = .arithmetic(op, left, try signed())
        }
    }

    mutating func signed() throws -> CQL2Scalar {
        if accept(.arithmetic(.plus)) { return try nested { try $0.signed() } }
        if accept(.minus) {
            let operand = try nested { try $0.signed() }
            if case .number(let n) = operand { return .number(-n) }
            return .arithmetic(.minus, .number(0), operand)
        }
        return try power()
    }

    mutating func power() throws -> CQL2Scalar {
        let base = try primary()
        guard accept(.arithmetic(.power)) else { return base }
        return .arithmetic(.power, base, try nested { try $0.signed() })
    }

    mutating func primary() throws -> CQL2Scalar {
        values += 1
        guard values <= Self.maxValues else {
            throw error("the filter has more than \(Self.maxValues) values and properties; ask in several requests")
        }
        let token = next()
        switch token.kind {
        case .string(let s): return .string(s)
        case .number(let n): return .number(n)
        case .leftParen:
            let inner = try scalar()
            try expect(.rightParen, "')' closing the parenthesis opened at character \(token.position)")
            return inner
        case .quotedIdentifier(let name):
            noteProperty(name, at: token)
            return .property(name)
        case .word(let w):
            let keyword = w.uppercased()
            switch keyword {
            case "TRUE": return .boolean(true)
            case "FALSE": return .boolean(false)
            case "DATE", "TIMESTAMP": return try instant(keyword)
            case "CASEI" where peek.kind == .leftParen, "ACCENTI" where peek.kind == .leftParen:
                _ = next()
                let inner = try scalar()
                try expect(.rightParen, "')' closing \(keyword)")
                return keyword == "CASEI" ? .casei(inner) : .accenti(inner)
            case "NULL", "AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "DIV":
                throw error("expected a property name or a value, found \(keyword)", at: token)
            default:
                if peek.kind == .leftParen {
                    throw error(
                        "unknown function \(w)(): the functions of this server's filters are CASEI, ACCENTI, DATE, TIMESTAMP and the S_ spatial functions",
                        at: token)
                }
                noteProperty(w, at: token)
                return .property(w)
            }
        default:
            throw error("expected a property name or a value, found \(token.kind)", at: token)
        }
    }

    /// `DATE('2024-01-31')` or `TIMESTAMP('2024-01-31T08:00:00Z')`, its keyword just read.
    mutating func instant(_ keyword: String) throws -> CQL2Scalar {
        try expect(.leftParen, "'(' after \(keyword)")
        let valueToken = peek
        guard case .string(let s) = next().kind else { throw error("\(keyword) needs a quoted value", at: valueToken) }
        try expect(.rightParen, "')'")
        let isDate = keyword == "DATE"
        guard isDate ? Self.isDate(s) : Self.isTimestamp(s) else {
            throw error(
                isDate ? "'\(s)' is not a date (YYYY-MM-DD)" : "'\(s)' is not a timestamp (YYYY-MM-DDThh:mm:ss[.f]Z)",
                at: valueToken)
        }
        return isDate ? .date(s) : .timestamp(s)
    }
}

import Foundation
import GRDB

/// What CQL2 asks of a value that SQLite does not do itself, as SQL functions in Swift:
/// case and accent folding (Unicode's, not SQLite's ASCII-only `lower`), the remainder and
/// whole division of real numbers (SQLite's `%` truncates reals to integers first) and powers.
/// Every one gives NULL, never an error, for a NULL or a division by zero: the row then simply
/// does not match.
enum FilterFunctions {
    static let casei = "om_casei"
    static let accenti = "om_accenti"
    static let remainder = "om_remainder"
    static let wholeDivide = "om_div"
    static let power = "om_power"

    static func foldCase(_ s: String) -> String { s.folding(options: [.caseInsensitive], locale: nil) }
    static func foldAccents(_ s: String) -> String { s.folding(options: [.diacriticInsensitive], locale: nil) }

    static func number(_ v: DatabaseValue) -> Double? {
        switch v.storage {
        case .int64(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// A finite result as SQLite's integer when it is one, so `7 div 2 = 3` compares as integers.
    static func result(_ d: Double) -> DatabaseValue {
        guard d.isFinite else { return .null }
        if d == d.rounded(), abs(d) < 9e15 { return Int64(d).databaseValue }
        return d.databaseValue
    }

    static func functions() -> [DatabaseFunction] {
        [
            DatabaseFunction(casei, argumentCount: 1, pure: true) { v in
                guard case .string(let s) = v[0].storage else { return nil }
                return foldCase(s)
            },
            DatabaseFunction(accenti, argumentCount: 1, pure: true) { v in
                guard case .string(let s) = v[0].storage else { return nil }
                return foldAccents(s)
            },
            DatabaseFunction(remainder, argumentCount: 2, pure: true) { v in
                guard let a = number(v[0]), let b = number(v[1]), b != 0 else { return DatabaseValue.null }
                return result(fmod(a, b))
            },
            DatabaseFunction(wholeDivide, argumentCount: 2, pure: true) { v in
                guard let a = number(v[0]), let b = number(v[1]), b != 0 else { return DatabaseValue.null }
                return result((a / b).rounded(.towardZero))
            },
            DatabaseFunction(power, argumentCount: 2, pure: true) { v in
                guard let a = number(v[0]), let b = number(v[1]) else { return DatabaseValue.null }
                return result(pow(a, b))
            }
        ]
    }

    /// Runs `body` with the functions on this connection, and takes them off again, as
    /// `SpatialFunction` does, so a pooled connection carries nothing between requests.
    static func with<T>(db: Database, _ body: () throws -> T) rethrows -> T {
        let all = functions()
        for f in all { db.add(function: f) }
        defer { for f in all { db.remove(function: f) } }
        return try body()
    }
}

import JWTKit

/// A token's payload as it came: every claim kept, whatever its name, because which claims
/// carry the roles and the scope is configuration (`AuthConfiguration`), not code.
/// Its checks (`iss`, `aud`, `exp`, `nbf`) are made by `TokenVerifier`, which names the one
/// that failed.
struct TokenClaims: JWTPayload {
    var values: [String: ClaimValue]

    func verify(using algorithm: some JWTAlgorithm) async throws {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        var values: [String: ClaimValue] = [:]
        for key in container.allKeys { values[key.stringValue] = try container.decode(ClaimValue.self, forKey: key) }
        self.values = values
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        for (k, v) in values { try container.encode(v, forKey: AnyKey(stringValue: k)) }
    }

    /// The claim at a dotted path (`realm_access.roles`).
    func value(at path: String) -> ClaimValue? {
        var parts = path.split(separator: ".").map(String.init)
        guard !parts.isEmpty, var current = values[parts.removeFirst()] else { return nil }
        for part in parts {
            guard case .object(let o) = current, let next = o[part] else { return nil }
            current = next
        }
        return current
    }

    /// A claim given as one text or a list of texts (`roles: "a"` or `roles: ["a", "b"]`);
    /// numbers count as their text, since some providers send XZQDM as a number.
    func texts(at path: String) -> [String] {
        switch value(at: path) {
        case .text(let s): return [s]
        case .number(let n): return [ClaimValue.number(n).text ?? ""]
        case .list(let items): return items.compactMap(\.text)
        default: return []
        }
    }

    /// A NumericDate claim (`exp`, `nbf`, `iat`): seconds since 1970.
    func seconds(_ name: String) -> Double? {
        if case .number(let n) = values[name] { return n }
        return nil
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// One JSON value of a claim.
indirect enum ClaimValue: Codable, Sendable, Equatable {
    case text(String)
    case number(Double)
    case bool(Bool)
    case list([ClaimValue])
    case object([String: ClaimValue])
    case null

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .text(s)
        } else if let l = try? c.decode([ClaimValue].self) {
            self = .list(l)
        } else {
            self = .object(try c.decode([String: ClaimValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .text(let s): try c.encode(s)
        case .number(let n): try c.encode(n)
        case .bool(let b): try c.encode(b)
        case .list(let l): try c.encode(l)
        case .object(let o): try c.encode(o)
        case .null: try c.encodeNil()
        }
    }

    /// A text, or a whole number written without a decimal point.
    var text: String? {
        switch self {
        case .text(let s): return s
        case .number(let n) where n == n.rounded() && abs(n) < 1e15: return String(Int64(n))
        default: return nil
        }
    }
}

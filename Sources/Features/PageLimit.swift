/// The `limit` of a paged list (features, check records). OGC API – Features Part 1 says a
/// limit above the server's maximum is no error (/req/core/fc-limit-response-1): the page
/// holds the maximum and a `next` link goes on. Zero, a negative or anything not a whole
/// number is still refused, with what was sent.
public struct PageLimit: Sendable, Equatable {
    /// The items a page holds.
    public let value: Int
    /// True when the caller asked for more than the maximum and was given the maximum.
    public let capped: Bool

    public static func parse(_ raw: String?, default fallback: Int, maximum: Int) throws -> PageLimit {
        guard let raw else { return PageLimit(value: min(fallback, maximum), capped: false) }
        if let n = Int(raw), n >= 1 { return PageLimit(value: min(n, maximum), capped: n > maximum) }
        // Digits past Int's range still name a number above the maximum.
        let digits = raw.hasPrefix("+") ? raw.utf8.dropFirst() : raw.utf8[...]
        if !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            digits.contains(where: { $0 != UInt8(ascii: "0") })
        {
            return PageLimit(value: maximum, capped: true)
        }
        throw FeatureError.invalidParameter(
            "limit",
            "'\(raw.prefix(80))' must be a whole number of at least 1 (a page holds at most \(maximum); more is answered with \(maximum))")
    }
}

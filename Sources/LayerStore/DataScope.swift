import Foundation

/// The administrative areas a caller's data is limited to (分级分类): county codes (XZQDM,
/// 6 digits, 331123 遂昌县), township codes (9 digits) or village codes (12). A code covers
/// every code it begins: 331123 covers the township 331123101. A caller without a scope is
/// limited only by its role.
public struct DataScope: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Sorted, without repeats, and none covered by another.
    public let codes: [String]

    public struct InvalidCode: Error, CustomStringConvertible {
        public let code: String
        public var description: String {
            "'\(code)' is not an administrative code (6 digits for a county, 9 for a township, 12 for a village)"
        }
    }

    public init(codes: [String]) throws {
        var kept: [String] = []
        for raw in Set(codes.map { $0.trimmingCharacters(in: .whitespaces) }).sorted() {
            guard [6, 9, 12].contains(raw.count), raw.allSatisfy(\.isASCII), raw.allSatisfy(\.isNumber) else {
                throw InvalidCode(code: raw)
            }
            if kept.contains(where: { raw.hasPrefix($0) }) { continue }
            kept.append(raw)
        }
        guard !kept.isEmpty else { throw InvalidCode(code: "") }
        self.codes = kept
    }

    /// `331123,331121`, as keys store and the command line takes it.
    public init(text: String) throws { try self.init(codes: text.split(separator: ",").map(String.init)) }

    public init(from decoder: any Decoder) throws { try self.init(codes: try [String](from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try codes.encode(to: encoder) }

    /// Whether the area with this code lies within the scope.
    public func covers(_ code: String) -> Bool { codes.contains { code.hasPrefix($0) } }

    /// Whether part of the area with this code lies within the scope: a county covers none of
    /// a township scope's other townships, but does overlap it.
    public func overlaps(_ code: String) -> Bool { codes.contains { code.hasPrefix($0) || $0.hasPrefix(code) } }

    public var description: String { codes.joined(separator: ",") }
}

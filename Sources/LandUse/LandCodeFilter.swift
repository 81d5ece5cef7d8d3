/// Which 图斑 an audit keeps, by their 地类: `code 01*` (codes as a rule names them, comma-
/// separated), `code not 01*` (永久基本农田 on land that is not 耕地: 永农非耕), `group 建设用地`
/// (a 三大类), `group not 农用地`. A code the classification does not know (kept by a load that
/// reports rather than fails) is in no class and no group, so only a `not` filter keeps it.
public struct LandCodeFilter: Sendable, CustomStringConvertible {
    public let description: String
    private let codes: Set<String>
    private let negated: Bool

    public struct SyntaxError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String, classification: LandClassification = .standard) throws {
        description = text
        var words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let usage = "expected 'code [not] PATTERN[,PATTERN…]' (e.g. code not 01*) or 'group [not] 农用地|建设用地|未利用地'"
        guard words.count >= 2, ["code", "group"].contains(words[0].lowercased()) else {
            throw SyntaxError(description: "where=\(text): \(usage)")
        }
        let byGroup = words.removeFirst().lowercased() == "group"
        negated = words.first?.lowercased() == "not"
        if negated { words.removeFirst() }
        let values = words.joined().split(separator: ",").map(String.init)
        guard !values.isEmpty else { throw SyntaxError(description: "where=\(text): \(usage)") }
        var codes = Set<String>()
        for value in values {
            let matched: [LandCode]
            if byGroup {
                guard let group = LandGroup(rawValue: value) else {
                    throw SyntaxError(
                        description:
                            "where=\(text): '\(value)' is not a 三大类; use \(LandGroup.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                matched = classification.codes.values.filter { $0.group == group }
            } else {
                matched = classification.codes(matching: value)
            }
            guard !matched.isEmpty else {
                throw SyntaxError(description: "where=\(text): no 地类编码 of the classification matches '\(value)'")
            }
            codes.formUnion(matched.map(\.code))
        }
        self.codes = codes
    }

    /// Whether a 图斑 with this 地类编码 stays.
    public func accepts(_ code: String?) -> Bool { codes.contains(code ?? "") != negated }
}

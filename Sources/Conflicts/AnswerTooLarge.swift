/// A check whose answer (the result and its GeoJSON) would pass the cap: nothing is stored,
/// and the message says how to ask for less.
public struct AnswerTooLarge: Error, CustomStringConvertible, Sendable {
    public let bytes: Int
    public let limit: Int
    /// Conflicting features per layer, for naming the layers that make the answer large.
    public let features: [(layer: String, count: Int)]

    public var description: String {
        let largest = features.filter { $0.count > 0 }.sorted { $0.count > $1.count }.prefix(3)
            .map { "\($0.layer) \($0.count)" }.joined(separator: ", ")
        return "the answer would be \(Self.mebibytes(bytes)), over the limit of \(Self.mebibytes(limit)); nothing was stored. "
            + "Check fewer layers (layers=a,b or --layers)\(largest.isEmpty ? "" : "; the conflicting features are mostly in: \(largest)")"
            + ", or a smaller site"
    }

    static func mebibytes(_ n: Int) -> String {
        let m = Double(n) / Double(1 << 20)
        return m >= 10 ? "\(Int(m.rounded())) MiB" : "\((m * 10).rounded() / 10) MiB"
    }
}

/// What a layer may be called: lower-case ASCII letters, digits and underscores. The name
/// goes into table names, URLs (`/tiles/{layers}/…`, `/collections/{name}`) and MVT layer
/// names unquoted and unescaped, so nothing else is allowed.
public enum LayerName {
    /// The rule as users read it in messages.
    public static let pattern = "[a-z0-9_]+"

    public static func isValid(_ name: some StringProtocol) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }
}

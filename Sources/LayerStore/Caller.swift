/// What an API key may do. Each role includes the ones below it: an approver may also read
/// restricted layers, an admin may also post checks.
public enum Role: String, Codable, CaseIterable, Comparable, Sendable {
    /// Reads restricted layers (分级分类: layers not for the public).
    case viewer
    /// Posts conflict checks (the approval system).
    case approver
    /// Loads layers and manages keys.
    case admin

    private var rank: Int { Role.allCases.firstIndex(of: self)! }
    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

/// Who is asking: anonymous, or the holder of a named key. Every module that decides what a
/// request may see or do asks this, so the rule lives in one place.
public struct Caller: Sendable, Hashable {
    /// The key's name, as recorded with every check the key makes.
    public let keyName: String?
    public let role: Role?

    public init(keyName: String?, role: Role?) {
        self.keyName = keyName
        self.role = role
    }

    public static let anonymous = Caller(keyName: nil, role: nil)

    /// Whoever runs `onemap` on the machine: they can open the database file anyway, so the
    /// command line sees every layer. Records name the operating-system user.
    public static func commandLine(user: String) -> Caller { Caller(keyName: "cli:\(user)", role: .admin) }

    /// Whether the caller holds `role` or a higher one.
    public func has(_ role: Role) -> Bool { self.role.map { $0 >= role } ?? false }

    /// Restricted layers need a viewer key (or higher); public ones are for everyone.
    public func canSee(_ access: Access) -> Bool { access == .public || has(.viewer) }

    public func canSee(_ layer: LoadedLayer) -> Bool { canSee(layer.spec.access) }
}

/// What an API key may do. Each role includes the ones below it: an approver may also read
/// restricted layers, an admin may also post checks.
public enum Role: String, Codable, CaseIterable, Comparable, Sendable {
    /// Reads restricted layers (分级分类: layers not for the public) and check records.
    case viewer
    /// Posts conflict checks (a planner's 预审).
    case planner
    /// Reruns recorded checks (the approval system).
    case approver
    /// Loads layers and manages keys.
    case admin

    private var rank: Int { Role.allCases.firstIndex(of: self)! }
    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

/// Who is asking: anonymous, the holder of a named key, or a person signed in through the
/// city's identity provider. Every module that decides what a request may see or do asks
/// this, so the rule lives in one place.
public struct Caller: Sendable, Hashable {
    /// The key's name, or the signed-in person's (`sso:NAME (SUBJECT)`), as recorded with
    /// every check they make.
    public let keyName: String?
    public let role: Role?
    /// The administrative areas the caller's data is limited to; nil when not limited.
    public let scope: DataScope?
    /// A signed-in person's `sub`; nil for keys.
    public let subject: String?

    public init(keyName: String?, role: Role?, scope: DataScope? = nil, subject: String? = nil) {
        self.keyName = keyName
        self.role = role
        self.scope = scope
        self.subject = subject
    }

    public static let anonymous = Caller(keyName: nil, role: nil)

    /// Whoever runs `onemap` on the machine: they can open the database file anyway, so the
    /// command line sees every layer. Records name the operating-system user.
    public static func commandLine(user: String) -> Caller { Caller(keyName: "cli:\(user)", role: .admin) }

    /// Whether the caller holds `role` or a higher one.
    public func has(_ role: Role) -> Bool { self.role.map { $0 >= role } ?? false }

    /// How much of a layer's features a caller may read: restricted layers (分级分类) need a
    /// viewer role or higher, and a scoped caller reads only the features within its scope.
    public enum Sight: Sendable, Hashable {
        case whole
        /// The features that meet the ground the scope covers (`Store.scopeCut`), and no other.
        case withinScope(DataScope)
        case nothing
    }

    public func sight(of access: Access) -> Sight {
        if access == .public { return .whole }
        guard has(.viewer) else { return .nothing }
        return scope.map { .withinScope($0) } ?? .whole
    }

    public func sight(of layer: LoadedLayer) -> Sight { sight(of: layer.spec.access) }

    /// Whether the caller may read the layer at all, whole or cut to its scope: what the
    /// feature API, identify and tiles list (each reading a scoped caller's part only).
    public func canBrowse(_ layer: LoadedLayer) -> Bool { sight(of: layer) != .nothing }

    /// Whether the caller may read every feature of the layer: what a layer's version list asks
    /// (its counts are the whole layer's). The summaries over whole layers (ledger, audit,
    /// topology, change reports) cut a scoped caller's restricted layers to its scope instead;
    /// its checks read every layer (a check of a site in its scope must find every conflict there).
    public func canSee(_ access: Access) -> Bool { sight(of: access) == .whole }

    public func canSee(_ layer: LoadedLayer) -> Bool { canSee(layer.spec.access) }
}

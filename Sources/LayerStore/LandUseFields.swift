/// How a land-use layer (三调 地类图斑, `kind: land_use`) names its fields, and what a load does
/// with features that break the survey's rules. A field left unset is looked for under its
/// 三调 name and checked when the source has it; a field the catalog names must exist.
public struct LandUseFields: Codable, Hashable, Sendable {
    public enum OnError: String, Codable, CaseIterable, Sendable {
        /// A feature that breaks a rule fails the load, which names it: the default, since a
        /// wrong 地类 would give a wrong 耕地 figure in every check.
        case fail
        /// The load goes on and its report lists the features and what is wrong with each.
        case report
    }

    /// 地类编码 (DLBM); required.
    public var codeField: String?
    /// 扣除系数 (KCXS), in [0, 1).
    public var deductRatioField: String?
    /// 扣除地类编码 (KCDLBM), usually 1203 田坎.
    public var deductCodeField: String?
    /// 坐落单位代码 (ZLDWDM): 12 digits, county 6, township 3, village 3.
    public var unitField: String?
    /// 图斑面积 (TBMJ), 扣除面积 (KCMJ) and 图斑地类面积 (TBDLMJ = TBMJ − KCMJ), in m².
    public var grossAreaField: String?
    public var deductAreaField: String?
    public var netAreaField: String?
    public var onError: OnError

    public init(
        codeField: String? = nil, deductRatioField: String? = nil, deductCodeField: String? = nil, unitField: String? = nil,
        grossAreaField: String? = nil, deductAreaField: String? = nil, netAreaField: String? = nil, onError: OnError = .fail
    ) {
        self.codeField = codeField; self.deductRatioField = deductRatioField; self.deductCodeField = deductCodeField
        self.unitField = unitField; self.grossAreaField = grossAreaField; self.deductAreaField = deductAreaField
        self.netAreaField = netAreaField; self.onError = onError
    }

    /// Each field's role, the catalog's key for it and its 三调 name.
    public enum Role: String, CaseIterable, Sendable {
        case code = "DLBM", deductRatio = "KCXS", deductCode = "KCDLBM", unit = "ZLDWDM"
        case grossArea = "TBMJ", deductArea = "KCMJ", netArea = "TBDLMJ"

        public var catalogKey: String {
            switch self {
            case .code: return "code_field"
            case .deductRatio: return "deduct_ratio_field"
            case .deductCode: return "deduct_code_field"
            case .unit: return "unit_field"
            case .grossArea: return "gross_area_field"
            case .deductArea: return "deduct_area_field"
            case .netArea: return "net_area_field"
            }
        }
    }

    /// The name the catalog gives a role's field, if it gives one.
    public func named(_ role: Role) -> String? {
        switch role {
        case .code: return codeField
        case .deductRatio: return deductRatioField
        case .deductCode: return deductCodeField
        case .unit: return unitField
        case .grossArea: return grossAreaField
        case .deductArea: return deductAreaField
        case .netArea: return netAreaField
        }
    }

    public mutating func set(_ role: Role, _ name: String) {
        switch role {
        case .code: codeField = name
        case .deductRatio: deductRatioField = name
        case .deductCode: deductCodeField = name
        case .unit: unitField = name
        case .grossArea: grossAreaField = name
        case .deductArea: deductAreaField = name
        case .netArea: netAreaField = name
        }
    }

    /// In a few words, for `onemap layers` and a definition's changes.
    public var summary: String {
        let given = Role.allCases.compactMap { role in self.named(role).map { "\(role.rawValue)=\($0)" } }
        return (given.isEmpty ? "三调 field names" : given.joined(separator: ", ")) + ", on_error: \(onError.rawValue)"
    }
}

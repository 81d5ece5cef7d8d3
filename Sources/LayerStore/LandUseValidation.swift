import GeoCore
import LandUse

/// The rules a 三调 地类图斑 must keep, checked on every feature of a land-use layer as it is
/// loaded: a known 地类编码 (and 扣除地类编码), a 扣除系数 in [0, 1), 图斑地类面积 = 图斑面积 −
/// 扣除面积 within 0.01 m², and a 12-digit 坐落单位代码. What breaks them is counted, with the
/// first features named, and the catalog's `on_error` says whether the load fails or reports.
struct LandUseValidation {
    let fields: LandUseFields
    let classification: LandClassification
    /// Each role's column among the source's fields, where the source has it.
    let columns: [LandUseFields.Role: Int]

    static let areaTolerance = 0.01
    static let listed = 20

    /// Finds the columns: a field the catalog names must exist; one it leaves unset is the
    /// 三调 name, used when the source has it. The 地类编码 is required either way.
    init(fields: LandUseFields, sourceFields: [String], classification: LandClassification = .standard) throws {
        var columns: [LandUseFields.Role: Int] = [:]
        for role in LandUseFields.Role.allCases {
            let name = fields.named(role) ?? role.rawValue
            if let i = sourceFields.firstIndex(of: name) {
                columns[role] = i
            } else if fields.named(role) != nil || role == .code {
                let near = sourceFields.first { $0.lowercased() == name.lowercased() }
                throw LandUseFieldMissing(
                    message: "land_use.\(role.catalogKey) '\(name)' is not a field of the source"
                        + (near.map { " (there is '\($0)'; names are case-sensitive)" } ?? "")
                        + "; its fields are: \(sourceFields.joined(separator: ", "))")
            }
        }
        self.fields = fields
        self.classification = classification
        self.columns = columns
    }

    struct LandUseFieldMissing: Error { let message: String }

    /// What is wrong with one feature's attributes, one line each; empty when nothing is.
    func problems(_ attributes: [AttributeValue]) -> [String] {
        var out: [String] = []
        func text(_ role: LandUseFields.Role) -> String? {
            columns[role].flatMap { attributes[$0].stringValue }.map(LandCode.trimmed)
        }
        func number(_ role: LandUseFields.Role) -> Double? { columns[role].flatMap { attributes[$0].doubleValue } }
        let codeName = fields.named(.code) ?? "DLBM"
        if let code = text(.code), !code.isEmpty {
            if classification.code(code) == nil { out.append("\(codeName) '\(code)' is not a 三调 地类编码") }
        } else {
            out.append("\(codeName) is empty")
        }
        let ratio = number(.deductRatio)
        if let ratio, !(ratio >= 0 && ratio < 1) {
            out.append("\(fields.named(.deductRatio) ?? "KCXS") \(ratio) is outside [0, 1)")
        }
        if let ratio, ratio > 0, let deductCode = text(.deductCode), !deductCode.isEmpty, classification.code(deductCode) == nil {
            out.append("\(fields.named(.deductCode) ?? "KCDLBM") '\(deductCode)' is not a 三调 地类编码")
        }
        if let gross = number(.grossArea), let deducted = number(.deductArea), let net = number(.netArea),
            abs(net - (gross - deducted)) > Self.areaTolerance
        {
            out.append(
                "\(fields.named(.netArea) ?? "TBDLMJ") \(net) is not \(fields.named(.grossArea) ?? "TBMJ") \(gross) − "
                    + "\(fields.named(.deductArea) ?? "KCMJ") \(deducted) (within \(Self.areaTolerance) m²)")
        }
        if columns[.unit] != nil {
            let unit = text(.unit) ?? ""
            if unit.utf8.count != 12 || !unit.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                out.append("\(fields.named(.unit) ?? "ZLDWDM") '\(unit)' is not 12 digits (county 6, township 3, village 3)")
            }
        }
        return out
    }

    /// The problems of a whole load: how many features, and the first ones named.
    struct Found {
        private(set) var features = 0
        private(set) var first: [String] = []

        mutating func add(_ problems: [String], at feature: String) {
            guard !problems.isEmpty else { return }
            features += 1
            if first.count < LandUseValidation.listed { first.append("\(feature): \(problems.joined(separator: "; "))") }
        }

        var summary: String {
            "\(features) features break the 三调 rules: " + first.joined(separator: " | ")
                + (features > first.count ? " | and \(features - first.count) more" : "")
        }
    }
}

import Foundation
import Yams

/// The three groups (三大类) of the Land Administration Law that approvals count land in:
/// 农转用 is agricultural land turned to construction, and 耕地 is part of the first.
public enum LandGroup: String, CaseIterable, Codable, Sendable {
    case agricultural = "农用地"
    case construction = "建设用地"
    case unused = "未利用地"
}

/// One land-use code (地类编码, DLBM) of the 三调 classification.
public struct LandCode: Hashable, Sendable {
    public let code: String
    public let name: String
    /// The 一级类 a 三调 summary counts it under ("01" 耕地; wetland codes under "00" 湿地).
    public let classCode: String
    public let group: LandGroup

    /// A code (or a 坐落单位代码) as read, without the blanks around it (a full-width 　 too).
    /// Codes seldom have any, and Foundation's `trimmingCharacters` (through NSString) was a
    /// tenth of a medium site's check and of a land-use load: a string that starts and ends
    /// with a printable ASCII character is returned as it is, without asking it.
    public static func trimmed(_ s: String) -> String {
        func plain(_ b: UInt8?) -> Bool { b.map { $0 > 0x20 && $0 < 0x7F } ?? true }
        guard !plain(s.utf8.first) || !plain(s.utf8.last) else { return s }
        return s.trimmingCharacters(in: .whitespaces)
    }
}

/// The classification a land-use layer's codes are read with: every code with its name, its
/// 一级类 and its 三大类 group. The standard one is `land_classes.yaml`, compiled in (its header
/// names its sources); a county's own table can be read the same way.
public struct LandClassification: Sendable {
    /// 一级类 code → name.
    public let classes: [String: String]
    public let codes: [String: LandCode]

    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The 三调 classification with GB/T 21010-2017's groups. The table is part of the binary and
    /// its test reads every row, so a table that does not read is a build's defect, not input's.
    public static let standard: LandClassification = {
        do {
            return try LandClassification(yaml: Embedded.landClassesYaml)
        } catch {
            fatalError("land_classes.yaml, compiled in, does not read: \(error)")
        }
    }()

    /// `classes: {code: name}` and `codes: {DLBM: [name, class, group]}`; every code's class
    /// must be listed and its group one of the three.
    public init(yaml: String) throws {
        guard let root = try Yams.load(yaml: yaml) as? [String: Any] else {
            throw FormatError(description: "expected a mapping with 'classes' and 'codes'")
        }
        guard let classes = root["classes"] as? [String: String], !classes.isEmpty else {
            throw FormatError(description: "'classes' must map each 一级类 code to its name")
        }
        guard let rows = root["codes"] as? [String: Any], !rows.isEmpty else {
            throw FormatError(description: "'codes' must map each 地类编码 to [name, class, group]")
        }
        var codes: [String: LandCode] = [:]
        for (code, value) in rows {
            guard let row = value as? [String], row.count == 3 else {
                throw FormatError(description: "code \(code): expected [name, 一级类, 三大类], got \(value)")
            }
            guard classes[row[1]] != nil else {
                throw FormatError(description: "code \(code): class '\(row[1])' is not among the classes")
            }
            guard let group = LandGroup(rawValue: row[2]) else {
                throw FormatError(
                    description:
                        "code \(code): group '\(row[2])' is not one of \(LandGroup.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            codes[code] = LandCode(code: code, name: row[0], classCode: row[1], group: group)
        }
        self.classes = classes
        self.codes = codes
    }

    public func code(_ dlbm: String) -> LandCode? { codes[dlbm] }

    /// The codes a rule's pattern names: a code ("0101"), or a prefix with `*` ("01*": every
    /// code of 耕地; "0201*": 0201 and 0201K).
    public func codes(matching pattern: String) -> [LandCode] {
        let matches: (String) -> Bool
        if pattern.hasSuffix("*") {
            let prefix = pattern.dropLast()
            matches = { $0.hasPrefix(prefix) }
        } else {
            matches = { $0 == pattern }
        }
        return codes.values.filter { matches($0.code) }.sorted { $0.code < $1.code }
    }
}

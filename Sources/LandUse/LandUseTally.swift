/// How much of each land class a site takes (用地预审): gross and net areas per code, per 一级类
/// and per 三大类, as 三调 summaries count them.
///
/// A 图斑's gross area in the site is its ellipsoidal area there. Its net area is gross ×
/// (1 − KCXS): the deducted part, gross × KCXS, is the 田坎 (or whatever KCDLBM names) inside
/// that 图斑, and counts as net area of the deduction code. So the nets of all codes add up to
/// the site's area, and a code's gross counts only 图斑 of that code.
public struct LandUseTally: Sendable {
    /// One 图斑's part of the site.
    public struct Piece: Sendable {
        public var code: String
        /// KCDLBM; nil (or empty) with a deduction means 1203 田坎, the usual one.
        public var deductCode: String?
        /// KCXS, in [0, 1).
        public var deductRatio: Double
        public var grossM2: Double
        public init(code: String, deductCode: String? = nil, deductRatio: Double = 0, grossM2: Double) {
            self.code = code; self.deductCode = deductCode; self.deductRatio = deductRatio; self.grossM2 = grossM2
        }
    }

    public struct Area: Codable, Equatable, Sendable {
        public var code: String
        public var name: String
        public var grossM2: Double
        public var netM2: Double
    }

    public struct Summary: Codable, Equatable, Sendable {
        /// The site's area on the layer: the sum of the gross (and of the net) areas.
        public var areaM2: Double
        /// By code, then by 一级类, each in code order; codes with neither gross nor net area left out.
        public var byCode: [Area]
        public var byClass: [Area]
        /// Net area per 三大类, every group listed.
        public var byGroup: [String: Double]
    }

    public struct UnknownCode: Error, Equatable, CustomStringConvertible {
        public let code: String
        public var description: String { "地类编码 '\(code)' is not in the classification" }
    }

    public static let usualDeductCode = "1203"

    public let classification: LandClassification

    public init(classification: LandClassification = .standard) { self.classification = classification }

    public func summary(_ pieces: [Piece]) throws -> Summary {
        var gross: [String: Double] = [:]
        var net: [String: Double] = [:]
        // Added code by code, each code's pieces in an order of their values, so the same
        // pieces in any order (a layer's rows come as its index gives them) give the same
        // figures to the last digit. Grouped first: sorting all pieces on their code strings
        // was a tenth of a land-use check.
        var byCodePieces: [String: [Piece]] = [:]
        for p in pieces { byCodePieces[p.code, default: []].append(p) }
        for code in byCodePieces.keys.sorted() {
            guard classification.code(code) != nil else { throw UnknownCode(code: code) }
            let ordered = byCodePieces[code]!.sorted { a, b in
                if a.deductRatio != b.deductRatio { return a.deductRatio < b.deductRatio }
                if a.grossM2 != b.grossM2 { return a.grossM2 < b.grossM2 }
                return (a.deductCode ?? "") < (b.deductCode ?? "")
            }
            var codeGross = 0.0, codeNet = 0.0
            for p in ordered {
                codeGross += p.grossM2
                guard p.deductRatio > 0 else {
                    codeNet += p.grossM2
                    continue
                }
                let deductCode = p.deductCode.flatMap { $0.isEmpty ? nil : $0 } ?? Self.usualDeductCode
                guard classification.code(deductCode) != nil else { throw UnknownCode(code: deductCode) }
                let deducted = p.grossM2 * p.deductRatio
                codeNet += p.grossM2 - deducted
                net[deductCode, default: 0] += deducted
            }
            gross[code, default: 0] += codeGross
            net[code, default: 0] += codeNet
        }
        let byCode = Set(gross.keys).union(net.keys).sorted().map { code in
            Area(code: code, name: classification.code(code)!.name, grossM2: gross[code] ?? 0, netM2: net[code] ?? 0)
        }
        var classGross: [String: Double] = [:], classNet: [String: Double] = [:]
        var groupNet = Dictionary(uniqueKeysWithValues: LandGroup.allCases.map { ($0.rawValue, 0.0) })
        for a in byCode {
            let land = classification.code(a.code)!
            classGross[land.classCode, default: 0] += a.grossM2
            classNet[land.classCode, default: 0] += a.netM2
            groupNet[land.group.rawValue, default: 0] += a.netM2
        }
        let byClass = classGross.keys.sorted().map { c in
            Area(code: c, name: classification.classes[c] ?? c, grossM2: classGross[c] ?? 0, netM2: classNet[c] ?? 0)
        }
        return Summary(areaM2: byCode.reduce(0) { $0 + $1.grossM2 }, byCode: byCode, byClass: byClass, byGroup: groupNet)
    }
}

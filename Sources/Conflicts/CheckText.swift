import Foundation
import GeoCore
import LandUse
import LayerStore

/// Words and numbers as Chinese planners read them.
public enum Wording {
    public static func verdict(_ v: CheckResult.Verdict) -> String {
        switch v {
        case .forbidden: return "禁止"
        case .restricted: return "限制"
        case .notice: return "提示"
        case .clear: return "无冲突"
        }
    }

    /// ", 版本 2026年度变更 #2": which version of the layer a check read.
    public static func version(_ l: CheckResult.LayerConflict) -> String {
        guard let number = l.version else { return "" }
        return ", 版本 " + (l.versionLabel.map { "\($0) " } ?? "") + "#\(number)"
    }

    public static func severity(_ s: Severity?) -> String {
        guard let s else { return "—" }
        return verdict(CheckResult.Verdict(rawValue: s.rawValue)!)
    }

    /// 12,345.67 (NumberFormatter ignores the digit settings on some platforms, so by hand).
    public static func number(_ x: Double, decimals: Int = 2) -> String {
        let plain = String(format: "%.\(decimals)f", abs(x))
        let parts = plain.split(separator: ".", maxSplits: 1)
        var whole = Array(parts[0])
        var i = whole.count - 3
        while i > 0 { whole.insert(",", at: i); i -= 3 }
        let sign = x < 0 && plain.contains(where: { $0 != "0" && $0 != "." }) ? "-" : ""
        return sign + String(whole) + (parts.count > 1 ? "." + parts[1] : "")
    }

    public static func area(_ m2: Double) -> String {
        "\(number(m2)) m² (\(number(AreaUnit.mu(fromM2: m2), decimals: 3)) 亩)"
    }
}

/// The planner's table for `onemap check --format text`.
public enum CheckText {
    public static func render(_ r: CheckResult) -> String {
        var out: [String] = []
        out.append("合规性审查结论: \(Wording.verdict(r.verdict)) (\(r.verdict.rawValue))")
        if let id = r.id { out.append("审查编号: \(id)") }
        out.append("项目用地面积: \(Wording.area(r.site.areaM2)), \(Wording.number(r.site.areaHa, decimals: 4)) 公顷")
        out.append("范围: [" + r.site.bbox.map { String(format: "%.6f", $0) }.joined(separator: ", ") + "]")
        out.append("")
        for l in r.layers {
            var line =
                "\(l.conflict ? "✗" : "✓") \(l.title) (\(l.layer)\(Wording.version(l))): \(l.conflict ? Wording.severity(l.severity) : "无冲突")"
            if let outside = l.outsideAreaM2 {
                line += ", 边界外 \(Wording.area(outside))"
            } else if l.features.contains(where: { $0.minDistanceM != nil }) || l.layer == "pipeline" {
                line += l.overlapAreaM2 > 0 ? ", 保护范围内 \(Wording.area(l.overlapAreaM2))" : ""
            } else {
                line += ", 重叠 \(Wording.area(l.overlapAreaM2)), 占用地 \(String(format: "%.2f", l.overlapRatio * 100))%"
            }
            out.append(line)
            for f in l.features.prefix(50) {
                var fl = "    \(f.id)"
                if let s = f.severity { fl += "  \(Wording.severity(s))" }
                if let d = f.minDistanceM { fl += "  最近距离 \(Wording.number(d)) m" }
                if let len = f.lengthM, len > 0 { fl += "  穿越长度 \(Wording.number(len)) m" }
                if f.overlapAreaM2 > 0 { fl += "  重叠 \(Wording.area(f.overlapAreaM2))" }
                out.append(fl)
            }
            if l.features.count > 50 { out.append("    … 另有 \(l.features.count - 50) 个要素 (用 --format json 查看全部)") }
        }
        if let lu = r.landUse {
            out.append("")
            out.append("用地地类 (\(lu.layer) v\(lu.version)): 共 \(Wording.area(lu.areaM2))")
            for group in LandGroup.allCases {
                let net = lu.byGroup[group.rawValue]?.netM2 ?? 0
                out.append("  \(group.rawValue): \(Wording.area(net)), \(Wording.number(AreaUnit.hectares(fromM2: net), decimals: 4)) 公顷")
            }
            for c in lu.byClass { out.append("  \(c.code) \(c.name): 净 \(Wording.area(c.netM2))") }
            for c in lu.byCode {
                out.append(
                    "    \(c.code) \(c.name): 净 \(Wording.area(c.netM2))"
                        + (c.grossM2 != c.netM2 ? ", 毛 \(Wording.number(c.grossM2)) m²" : ""))
            }
            if let farmland = lu.farmlandByCode, !farmland.isEmpty {
                out.append("  其中永久基本农田, 按所在图斑地类:")
                for c in farmland { out.append("    \(c.code) \(c.name): 净 \(Wording.area(c.netM2))") }
            }
        }
        if !r.warnings.isEmpty {
            out.append("")
            for w in r.warnings { out.append("警告: \(w)") }
        }
        return out.joined(separator: "\n") + "\n"
    }
}

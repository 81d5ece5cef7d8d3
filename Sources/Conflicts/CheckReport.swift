import Foundation
import GeoCore
import LandUse
import LayerStore

/// The 合规性分析报告 an approver reads: verdict, a map drawn as inline SVG from the stored
/// geometry (so it prints and needs no tile server), and a table per layer.
public enum CheckReport {
    static let colours: [String: String] = [
        "ecological_redline": "#2e7d32", "farmland": "#f9a825", "urban_boundary": "#e53935",
        "protected_area": "#1b5e20", "water_source": "#1565c0", "pipeline": "#8e24aa", "admin": "#757575"
    ]
    static let severityFill: [String: String] = ["forbidden": "#d32f2f", "restricted": "#f57c00", "notice": "#fbc02d"]

    /// `recordHash`: the record's link on the chain (`RecordChain`), printed so that a paper
    /// copy can be verified against the records later.
    public static func html(result r: CheckResult, geojson: Data, recordHash: String? = nil) throws -> String {
        let collection = (try JSONSerialization.jsonObject(with: geojson) as? [String: Any])?["features"] as? [[String: Any]] ?? []
        let title = r.projectName.map { "\(escape($0)) 合规性分析报告" } ?? "合规性分析报告"
        var h = """
            <!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>\(title)</title>
            <style>
            body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em auto;max-width:60em;color:#222}
            h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
            table{border-collapse:collapse;width:100%;font-size:.9em} th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left}
            th{background:#f0f0f0} td.n{text-align:right;font-variant-numeric:tabular-nums}
            .verdict{display:inline-block;padding:.3em 1em;color:#fff;font-weight:bold;border-radius:.3em}
            .forbidden{background:#d32f2f}.restricted{background:#f57c00}.notice{background:#fbc02d;color:#222}.clear{background:#388e3c}
            .meta td{border:none;padding:.15em .8em .15em 0} svg{border:1px solid #bbb;background:#fafafa;width:100%;height:auto}
            .warn{color:#b45309} @media print{body{margin:0}}
            </style></head><body>
            <h1>\(title)</h1>
            <table class="meta">
            <tr><td>审查编号</td><td>\(escape(r.id ?? "—"))</td></tr>
            \(recordHash.map { "<tr><td>记录哈希 (SHA-256)</td><td><code>\($0)</code></td></tr>" } ?? "")
            <tr><td>项目代码</td><td>\(escape(r.projectCode ?? "—"))</td></tr>
            <tr><td>项目名称</td><td>\(escape(r.projectName ?? "—"))</td></tr>
            <tr><td>审查时间</td><td>\(escape(r.createdAt ?? "—"))</td></tr>
            <tr><td>用地面积</td><td>\(Wording.number(r.site.areaM2)) m² / \(Wording.number(r.site.areaMu, decimals: 3)) 亩 / \(Wording.number(r.site.areaHa, decimals: 4)) 公顷</td></tr>
            <tr><td>审查结论</td><td><span class="verdict \(r.verdict.rawValue)">\(Wording.verdict(r.verdict))</span></td></tr>
            </table>
            <h2>位置示意图</h2>
            \(svg(collection, r))
            <h2>逐层审查结果</h2>
            <table><tr><th>图层</th><th>结论</th><th>重叠/边界外面积 (m²)</th><th>亩</th><th>占用地比例</th><th>冲突要素数</th></tr>
            """
        for l in r.layers {
            let area = l.outsideAreaM2 ?? l.overlapAreaM2
            let outsideMark = l.outsideAreaM2 != nil ? "（边界外）" : ""
            h +=
                "<tr><td>\(escape(l.title))\(outsideMark)<br><small>\(escape(l.layer + Wording.version(l)))</small></td><td>\(l.conflict ? "<span class=\"verdict \(l.severity.rawValue)\">\(Wording.severity(l.severity))</span>" : "无冲突")</td>"
            h += "<td class=n>\(Wording.number(area))</td><td class=n>\(Wording.number(AreaUnit.mu(fromM2: area), decimals: 3))</td>"
            h +=
                "<td class=n>\(String(format: "%.2f", (l.outsideAreaM2.map { $0 / max(r.site.areaM2, 1e-9) } ?? l.overlapRatio) * 100))%</td><td class=n>\(l.features.count)</td></tr>"
        }
        h += "</table>"
        for l in r.layers where !l.features.isEmpty {
            h += "<h2>\(escape(l.title))</h2><table><tr><th>要素编号</th><th>结论</th><th>重叠面积 (m²)</th><th>亩</th>"
            let proximity = l.features.contains { $0.minDistanceM != nil }
            if proximity { h += "<th>最近距离 (m)</th><th>穿越长度 (m)</th>" }
            h += "<th>属性</th></tr>"
            for f in l.features.prefix(500) {
                let props = f.properties.sorted { $0.key < $1.key }.map { "\(escape($0.key))=\(escape($0.value.stringValue ?? ""))" }
                    .joined(separator: "; ")
                h +=
                    "<tr><td>\(escape(f.id))</td><td>\(Wording.severity(f.severity))</td><td class=n>\(Wording.number(f.overlapAreaM2))</td>"
                h += "<td class=n>\(Wording.number(AreaUnit.mu(fromM2: f.overlapAreaM2), decimals: 3))</td>"
                if proximity {
                    h +=
                        "<td class=n>\(f.minDistanceM.map { Wording.number($0) } ?? "")</td><td class=n>\(f.lengthM.map { Wording.number($0) } ?? "")</td>"
                }
                h += "<td>\(props)</td></tr>"
            }
            h += "</table>"
            if l.features.count > 500 { h += "<p>… 另有 \(l.features.count - 500) 个要素。</p>" }
        }
        if let lu = r.landUse {
            h += "<h2>用地地类（\(escape(lu.layer)) v\(lu.version) \(escape(lu.versionLabel))）</h2><table><tr><th>地类</th><th>毛面积 (m²)</th>"
            h += "<th>净面积 (m²)</th><th>亩</th><th>公顷</th></tr>"
            func row(_ label: String, _ gross: Double?, _ net: Double, strong: Bool = false) {
                let cell = { (s: String) in strong ? "<b>\(s)</b>" : s }
                h += "<tr><td>\(cell(escape(label)))</td><td class=n>\(gross.map { Wording.number($0) } ?? "")</td>"
                h +=
                    "<td class=n>\(cell(Wording.number(net)))</td><td class=n>\(Wording.number(AreaUnit.mu(fromM2: net), decimals: 3))</td>"
                h += "<td class=n>\(Wording.number(AreaUnit.hectares(fromM2: net), decimals: 4))</td></tr>"
            }
            for group in LandGroup.allCases { row(group.rawValue, nil, lu.byGroup[group.rawValue]?.netM2 ?? 0, strong: true) }
            for c in lu.byClass {
                row("\(c.code) \(c.name)", c.grossM2, c.netM2, strong: true)
                for code in lu.byCode where LandClassification.standard.code(code.code)?.classCode == c.code {
                    row("　\(code.code) \(code.name)", code.grossM2, code.netM2)
                }
            }
            h += "</table><p style=\"font-size:.85em\">净面积 = 毛面积 × (1 − 扣除系数)；扣除部分计入扣除地类（田坎）。合计 \(Wording.number(lu.areaM2)) m²。</p>"
            if let farmland = lu.farmlandByCode, !farmland.isEmpty {
                h += "<h3>其中永久基本农田（按所在图斑地类）</h3><table><tr><th>地类</th><th>毛面积 (m²)</th><th>净面积 (m²)</th>"
                h += "<th>亩</th><th>公顷</th></tr>"
                for c in farmland { row("\(c.code) \(c.name)", c.grossM2, c.netM2) }
                h += "</table>"
            }
        }
        if !r.warnings.isEmpty {
            h += "<h2>提示</h2><ul>" + r.warnings.map { "<li class=warn>\(escape($0))</li>" }.joined() + "</ul>"
        }
        h += "<p style=\"color:#777;font-size:.8em\">面积按 CGCS2000 椭球面计算。1 亩 = 666.667 m²。本报告由 OneMap 生成。</p></body></html>\n"
        return h
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// The map: everything drawn in metres around the site's centre, north up, with a scale bar.
    static func svg(_ features: [[String: Any]], _ r: CheckResult) -> String {
        let b = r.site.bbox
        let plane = LocalPlane(origin: Coordinate((b[0] + b[2]) / 2, (b[1] + b[3]) / 2))
        let lo = plane.toPlane(Coordinate(b[0], b[1])), hi = plane.toPlane(Coordinate(b[2], b[3]))
        let pad = max(hi.x - lo.x, hi.y - lo.y) * 0.25 + 20
        let minX = lo.x - pad, maxX = hi.x + pad, minY = lo.y - pad, maxY = hi.y + pad
        let width = 800.0, height = max(300, min(800, width * (maxY - minY) / (maxX - minX)))
        let scale = min(width / (maxX - minX), height / (maxY - minY))
        func pt(_ c: [Double]) -> String {
            let p = plane.toPlane(Coordinate(c[0], c[1]))
            return String(format: "%.1f,%.1f", (p.x - minX) * scale, height - (p.y - minY) * scale)
        }
        func path(_ geometry: [String: Any]) -> String {
            let type = geometry["type"] as? String ?? ""
            let coords = geometry["coordinates"]
            func ring(_ r: [[Double]], close: Bool) -> String { "M" + r.map(pt).joined(separator: "L") + (close ? "Z" : "") }
            switch type {
            case "Polygon": return ((coords as? [[[Double]]]) ?? []).map { ring($0, close: true) }.joined()
            case "MultiPolygon": return ((coords as? [[[[Double]]]]) ?? []).flatMap { $0.map { ring($0, close: true) } }.joined()
            case "LineString": return ring((coords as? [[Double]]) ?? [], close: false)
            case "MultiLineString": return ((coords as? [[[Double]]]) ?? []).map { ring($0, close: false) }.joined()
            default: return ""
            }
        }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        s +=
            "<defs><pattern id=\"hatch\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#e53935\" stroke-width=\"2\"/></pattern></defs>"
        let order = ["feature": 0, "corridor": 1, "overlap": 2, "outside": 3, "site": 4]
        for f in features.sorted(by: {
            order[($0["properties"] as? [String: Any])?["role"] as? String ?? ""] ?? 0 < order[
                ($1["properties"] as? [String: Any])?["role"] as? String ?? ""] ?? 0
        }) {
            guard let g = f["geometry"] as? [String: Any], let p = f["properties"] as? [String: Any] else { continue }
            let role = p["role"] as? String ?? ""
            let layer = p["layer"] as? String ?? ""
            let colour = colours[layer] ?? "#555"
            let d = path(g)
            let isLine = (g["type"] as? String ?? "").contains("Line")
            switch role {
            case "site": s += "<path d=\"\(d)\" fill=\"none\" stroke=\"#000\" stroke-width=\"2.5\"/>"
            case "feature":
                s +=
                    isLine
                    ? "<path d=\"\(d)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>"
                    : "<path d=\"\(d)\" fill=\"\(colour)\" fill-opacity=\"0.18\" stroke=\"\(colour)\" stroke-width=\"1\" fill-rule=\"evenodd\"/>"
            case "outside": s += "<path d=\"\(d)\" fill=\"url(#hatch)\" stroke=\"#e53935\" stroke-width=\"1\" fill-rule=\"evenodd\"/>"
            default:
                let fill = severityFill[p["severity"] as? String ?? ""] ?? colour
                s += "<path d=\"\(d)\" fill=\"\(fill)\" fill-opacity=\"0.55\" stroke=\"\(fill)\" stroke-width=\"1\" fill-rule=\"evenodd\"/>"
            }
        }
        // Scale bar: a round number of metres about a fifth of the width.
        let target = (maxX - minX) / 5
        let magnitude = pow(10, floor(log10(target)))
        let bar = [1.0, 2, 5, 10].map { $0 * magnitude }.last(where: { $0 <= target }) ?? magnitude
        let px = bar * scale
        s +=
            "<g font-size=\"13\"><line x1=\"20\" y1=\"\(Int(height) - 20)\" x2=\"\(20 + Int(px))\" y2=\"\(Int(height) - 20)\" stroke=\"#000\" stroke-width=\"3\"/>"
        s +=
            "<text x=\"20\" y=\"\(Int(height) - 28)\">\(bar >= 1000 ? "\(Wording.number(bar / 1000, decimals: bar >= 10_000 ? 0 : 1)) km" : "\(Int(bar)) m")</text>"
        s +=
            "<text x=\"\(Int(width) - 30)\" y=\"30\" font-size=\"18\">北</text><path d=\"M\(Int(width) - 23),36 l-6,18 l6,-5 l6,5 z\" fill=\"#000\"/></g>"
        s += "</svg>"
        return s
    }
}

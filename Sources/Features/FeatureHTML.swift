import Foundation
import GRDB
import GeoCore

/// Plain HTML pages for a person browsing the API: no scripts, nothing fetched from
/// elsewhere (the machines are offline), a small SVG sketch of the features on a page.
public enum FeatureHTML {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    public static func page(title: String, crumbs: [(String, String?)], base: String, body: String) -> String {
        let trail = crumbs.map { name, href in href.map { "<a href=\"\(escape($0))\">\(escape(name))</a>" } ?? escape(name) }.joined(
            separator: " / ")
        return """
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · OneMap</title>
            <style>
            body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#222}
            nav{font-size:.9rem;margin-bottom:1rem}a{color:#0b5cad}table{border-collapse:collapse;font-size:.85rem;width:100%}
            th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4}
            code{background:#f4f4f4;padding:0 .2rem}.muted{color:#666}svg{border:1px solid #ddd;background:#fafaf5;max-width:100%}
            </style></head><body>
            <nav>\(trail)</nav>
            <h1>\(escape(title))</h1>
            \(body)
            <p class="muted">JSON: add <code>?f=json</code>. API definition: <a href="\(escape(base))/api">/api</a>.</p>
            </body></html>
            """
    }

    static func links(_ links: [[String: Any]]) -> String {
        "<ul>"
            + links.map { l in
                let href = l["href"] as? String ?? "", rel = l["rel"] as? String ?? "", title = l["title"] as? String ?? href
                return "<li><a href=\"\(escape(href))\">\(escape(title))</a> <span class=\"muted\">(\(escape(rel)))</span></li>"
            }.joined() + "</ul>"
    }

    static func landing(_ doc: [String: Any], base: String) -> String {
        page(
            title: doc["title"] as? String ?? "OneMap", crumbs: [("OneMap", nil)], base: base,
            body: "<p>\(escape(doc["description"] as? String ?? ""))</p>" + links(doc["links"] as? [[String: Any]] ?? [])
                + "<ul><li><a href=\"\(escape(base))/viewer\">一张图 (the map viewer)</a></li><li><a href=\"\(escape(base))/collections\">图层 (collections)</a></li></ul>"
        )
    }

    static func conformance(_ classes: [String], base: String) -> String {
        page(
            title: "Conformance", crumbs: [("OneMap", base + "/"), ("conformance", nil)], base: base,
            body: "<ul>" + classes.map { "<li><code>\(escape($0))</code></li>" }.joined() + "</ul>")
    }

    static func collections(_ layers: [FeatureLayer], base: String) -> String {
        let rows = layers.map { l in
            "<tr><td><a href=\"\(escape(base))/collections/\(escape(l.id))\">\(escape(l.id))</a></td><td>\(escape(l.title))</td>"
                + "<td>\(escape(l.layer.version.geometryType))</td><td>\(l.count)</td>"
                + "<td><a href=\"\(escape(base))/collections/\(escape(l.id))/items?f=html\">items</a></td></tr>"
        }.joined()
        return page(
            title: "图层 Collections", crumbs: [("OneMap", base + "/"), ("collections", nil)], base: base,
            body: "<table><tr><th>id</th><th>title</th><th>geometry</th><th>features</th><th></th></tr>\(rows)</table>")
    }

    static func collection(_ l: FeatureLayer, doc: [String: Any], base: String) -> String {
        let fields = l.fields.map { "<tr><td>\(escape($0.name))</td><td>\($0.type.rawValue)</td></tr>" }.joined()
        let crs = FeatureCRS.supported.map { "<li><code>\(escape($0.uri))</code> \(escape($0.title))</li>" }.joined()
        return page(
            title: l.title, crumbs: [("OneMap", base + "/"), ("collections", base + "/collections"), (l.id, nil)], base: base,
            body: "<p>\(escape(doc["description"] as? String ?? ""))</p>"
                + "<p><a href=\"\(escape(base))/collections/\(escape(l.id))/items?f=html\">Browse the features</a></p>"
                + "<h2>Properties</h2><table><tr><th>name</th><th>type</th></tr>\(fields)</table>"
                + "<h2>Coordinate reference systems</h2><ul>\(crs)</ul>"
                + links(doc["links"] as? [[String: Any]] ?? []))
    }

    static func queryables(_ l: FeatureLayer, properties: [String: Any], base: String) -> String {
        let rows = properties.keys.sorted().map { k -> String in
            let p = properties[k] as? [String: Any] ?? [:]
            return "<tr><td>\(escape(k))</td><td>\(escape((p["type"] as? String) ?? (p["format"] as? String) ?? ""))</td></tr>"
        }.joined()
        return page(
            title: "\(l.title): queryables",
            crumbs: [
                ("OneMap", base + "/"), ("collections", base + "/collections"),
                (l.id, base + "/collections/" + l.id), ("queryables", nil)
            ], base: base,
            body: "<table><tr><th>property</th><th>type</th></tr>\(rows)</table>"
                + "<p>Filter with CQL2 text, e.g. <code>?filter=DLBM='0101' AND TBMJ * 2 &gt; 1000</code> or "
                + "<code>?filter=CASEI(DLMC) LIKE '%田' AND S_TOUCHES(geometry, POINT(120 28))</code>, "
                + "or with CQL2 JSON and <code>filter-lang=cql2-json</code>.</p>")
    }

    static func value(_ v: DatabaseValue) -> String {
        switch v.storage {
        case .null, .blob: return "<span class=\"muted\">null</span>"
        case .int64(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return escape(s)
        }
    }

    static func items(
        _ l: FeatureLayer, features: [(FeatureRow, Geometry?)], fields: [FieldDefinition], matched: Int,
        offset: Int, links: [[String: Any]], base: String
    ) -> String {
        let c = base + "/collections/" + QueryParameters.encode(l.id)
        let header = "<tr><th>id</th>" + fields.map { "<th>\(escape($0.name))</th>" }.joined() + "</tr>"
        let rows = features.map { row, _ in
            "<tr><td><a href=\"\(escape(c))/items/\(escape(QueryParameters.encode(row.id)))?f=html\">\(escape(row.id))</a></td>"
                + row.values.map { "<td>\(value($0))</td>" }.joined() + "</tr>"
        }.joined()
        let nav = links.filter { ["prev", "next"].contains($0["rel"] as? String ?? "") }
            .map { "<a href=\"\(escape($0["href"] as? String ?? ""))\">\($0["rel"] as? String == "next" ? "next →" : "← previous")</a>" }
            .joined(separator: " · ")
        let summary = features.isEmpty ? "No features match." : "Features \(offset + 1)–\(offset + features.count) of \(matched)."
        return page(
            title: "\(l.title): features",
            crumbs: [("OneMap", base + "/"), ("collections", base + "/collections"), (l.id, c), ("items", nil)],
            base: base, body: "<p>\(summary) \(nav)</p>" + sketch(features.compactMap(\.1)) + "<table>\(header)\(rows)</table><p>\(nav)</p>"
        )
    }

    static func item(_ l: FeatureLayer, row: FeatureRow, geometry: Geometry?, base: String) -> String {
        let c = base + "/collections/" + QueryParameters.encode(l.id)
        let rows = zip(l.fields, row.values).map { "<tr><th>\(escape($0.name))</th><td>\(value($1))</td></tr>" }.joined()
        return page(
            title: "\(l.title) \(row.id)",
            crumbs: [
                ("OneMap", base + "/"), ("collections", base + "/collections"), (l.id, c),
                ("items", c + "/items?f=html"), (row.id, nil)
            ], base: base,
            body: sketch(geometry.map { [$0] } ?? []) + "<table>\(rows)</table>")
    }

    /// An SVG sketch of up to a few thousand geometries in lon/lat (north up).
    static func sketch(_ geometries: [Geometry]) -> String {
        var box: BoundingBox?
        for g in geometries { if let b = g.boundingBox { if box == nil { box = b } else { box!.extend(b) } } }
        guard let box else { return "" }
        let w = max(box.maxX - box.minX, 1e-9), h = max(box.maxY - box.minY, 1e-9)
        let width = 640.0, height = min(480, max(120, width * h / w))
        let scale = min(width / w, height / h) * 0.95
        func pt(_ c: Coordinate) -> String {
            String(format: "%.1f,%.1f", (c.x - box.minX) * scale + 8, height - (c.y - box.minY) * scale + 8)
        }
        var paths = ""
        for g in geometries.prefix(5000) {
            var d = ""
            g.forEachSequence { seq in
                guard let first = seq.first else { return }
                d += "M" + pt(first) + seq.dropFirst().map { "L" + pt($0) }.joined()
            }
            let fill = g.dimension == 2 ? "#e8c547" : "none"
            paths += "<path d=\"\(d)\" fill=\"\(fill)\" fill-opacity=\"0.5\" fill-rule=\"evenodd\" stroke=\"#8a6d00\" stroke-width=\"1\"/>"
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width + 16))\" height=\"\(Int(height + 16))\">\(paths)</svg>"
    }
}

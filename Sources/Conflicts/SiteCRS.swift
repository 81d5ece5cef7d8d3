import Foundation

/// The coordinate system a caller names for a site (`crs` of POST /v1/checks, `?crs=`,
/// `onemap check --crs`, a GeoJSON `crs` member): an EPSG code in one of its usual spellings,
/// CRS84, or a CGCS2000 Gauss–Krüger zone by its EPSG name. Never a free PROJ string: PROJ
/// would read files (`+init=`) or grids named in it.
public enum SiteCRS {
    public static let acceptedForms =
        "EPSG:4528, urn:ogc:def:crs:EPSG::4528, http://www.opengis.net/def/crs/EPSG/0/4528, "
        + "OGC:CRS84 (or its URN or URI), or a CGCS2000 zone by name (\"CGCS2000 / 3-degree Gauss-Kruger zone 40\", \"… CM 120E\")"

    /// The code PROJ is given: "EPSG:n" or "OGC:CRS84".
    public static func code(_ written: String) throws -> String {
        let s = written.trimmingCharacters(in: .whitespaces)
        let lower = s.lowercased()
        let crs84 = [
            "ogc:crs84", "crs84", "urn:ogc:def:crs:ogc:1.3:crs84", "urn:ogc:def:crs:ogc::crs84",
            "http://www.opengis.net/def/crs/ogc/1.3/crs84", "https://www.opengis.net/def/crs/ogc/1.3/crs84"
        ]
        if crs84.contains(lower) { return "OGC:CRS84" }
        for prefix in [
            "epsg:", "urn:ogc:def:crs:epsg::", "http://www.opengis.net/def/crs/epsg/0/", "https://www.opengis.net/def/crs/epsg/0/"
        ]
        where lower.hasPrefix(prefix) {
            if let n = number(lower.dropFirst(prefix.count)) { return "EPSG:\(n)" }
        }
        // urn:ogc:def:crs:EPSG:<version>:<code>
        let parts = lower.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 7, parts[0..<5] == ["urn", "ogc", "def", "crs", "epsg"], let n = number(parts[6]) { return "EPSG:\(n)" }
        if let n = zone(lower) { return "EPSG:\(n)" }
        throw SiteError(
            .invalid, "crs '\(s.prefix(80))' is not a coordinate system OneMap takes for a site; give an EPSG code: \(acceptedForms)")
    }

    private static func number(_ s: Substring) -> Int? {
        guard !s.isEmpty, s.count <= 6, s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(s)
    }

    /// EPSG's names of the CGCS2000 3° zones: "zone 25"–"zone 45" (with the zone prefix in the
    /// easting, EPSG:4513–4533) and "CM 75E"–"CM 135E" (without, EPSG:4534–4554).
    private static func zone(_ lower: String) -> Int? {
        let compact = lower.replacingOccurrences(of: "ü", with: "u").split(whereSeparator: { $0 == " " || $0 == "_" }).joined(
            separator: " ")
        let head = "cgcs2000 / 3-degree gauss-kruger "
        guard compact.hasPrefix(head) else { return nil }
        let rest = compact.dropFirst(head.count)
        if rest.hasPrefix("zone "), let z = number(rest.dropFirst(5)), (25...45).contains(z) { return 4513 + z - 25 }
        if rest.hasPrefix("cm "), rest.hasSuffix("e"), let cm = number(rest.dropFirst(3).dropLast()), (75...135).contains(cm), cm % 3 == 0 {
            return 4534 + (cm - 75) / 3
        }
        return nil
    }
}

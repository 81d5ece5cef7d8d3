import Foundation
import GeoCore
import VectorIO

/// A parcel declared in a 部标准格式 coordinate file.
public struct SurveyParcel: Codable, Sendable {
    public var code: String
    public var name: String
    public var use: String
    public var declaredAreaHa: Double?
    public var areaHa: Double
    public var line: Int
}

/// Reads the 部标准格式 coordinate TXT (勘测定界 / 建设用地报批 exchange file), in UTF-8 or GBK.
///
///     [属性描述]          key=value lines: 坐标系, 几度分带, 带号, …
///     [地块坐标]
///     界址点数,地块面积(公顷),地块编号,地块名称,图形属性,图幅号,地块用途,地类编码,@
///     点号,圈号,X,Y       X northing; Y easting with the zone number in front
///
/// 圈号 1 is the outer ring, 2 and up are holes; a ring closes by repeating its first point.
public enum SurveyTXT {
    public static func decode(_ data: Data) -> String? {
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        if let s = String(bytes: bytes, encoding: .utf8) { return s }
        return TextEncoding.decode(bytes, from: "GB18030")
    }

    /// Without leading and trailing white space. Foundation's trimming bridges every line through
    /// NSString, which makes reading a 200,000-point file take seconds.
    static func trimmed<S: StringProtocol>(_ s: S) -> String where S.SubSequence == Substring {
        guard let first = s.firstIndex(where: { !$0.isWhitespace }), let last = s.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(s[first...last])
    }

    public static func looksLikeSurveyTXT(_ text: String) -> Bool {
        text.contains("[地块坐标]") || text.contains("[属性描述]")
    }

    struct Point { let name: String; let ring: Int; let x: Double; let y: Double; let line: Int }

    struct RawParcel {
        var header: [String]
        var line: Int
        var points: [Point] = []
    }

    public static func read(_ data: Data, limits: SiteLimits = SiteLimits()) throws -> Site {
        guard let text = decode(data) else { throw SiteError(.malformed, "the TXT is neither UTF-8 nor GBK text") }
        return try read(text: text, limits: limits)
    }

    public static func read(text: String, limits: SiteLimits = SiteLimits()) throws -> Site {
        let (attributes, parcels) = try sections(text, limits: limits)
        guard !parcels.isEmpty else {
            throw SiteError(.malformed, "no parcel found: the file needs a [地块坐标] section with a header line ending in ,@")
        }
        // Before the zone is read from the first point: every parcel must have one.
        for (i, p) in parcels.enumerated() where p.points.isEmpty {
            let code = p.header.count > 2 ? p.header[2] : ""
            throw SiteError(.malformed, "parcel \(code.isEmpty ? String(i + 1) : code) (line \(p.line)): has no points")
        }
        let crs = try zoneCRS(attributes: attributes, parcels: parcels)
        var polygons: [(Polygon, String)] = []
        var declared: [SurveyParcel] = []
        var warnings: [String] = []
        let toLonLat: CoordinateTransform
        do { toLonLat = try CoordinateTransform(from: crs.code, to: "EPSG:4490") } catch {
            throw SiteError(.invalid, "cannot use \(crs.code): \(error)")
        }
        for p in parcels {
            let code = p.header.count > 2 ? p.header[2] : ""
            let label = "parcel \(code.isEmpty ? String(polygons.count + 1) : code) (line \(p.line))"
            let polygon = try lonLatPolygon(p, label: label, crs: crs, toLonLat: toLonLat)
            let areaHa = Ellipsoid.cgcs2000.area(polygon) / 10_000
            let declaredHa = p.header.count > 1 ? Double(p.header[1]) : nil
            if let d = declaredHa, d > 0, abs(d - areaHa) / areaHa > 0.01 {
                warnings.append(
                    "\(label): declared area \(d) ha differs from the computed \(String(format: "%.4f", areaHa)) ha by \(String(format: "%.1f", abs(d - areaHa) / areaHa * 100))%"
                )
            }
            if let n = Int(p.header[0]), n != p.points.count {
                warnings.append("\(label): declares \(n) points but lists \(p.points.count)")
            }
            declared.append(
                SurveyParcel(
                    code: code, name: p.header.count > 3 ? p.header[3] : "", use: p.header.count > 6 ? p.header[6] : "",
                    declaredAreaHa: declaredHa, areaHa: areaHa, line: p.line))
            polygons.append((polygon, label))
        }
        return try Site.make(polygons: polygons, crs: "EPSG:4490", limits: limits, warnings: warnings, parcels: declared)
    }

    /// The key=value lines of [属性描述] and the parcels of [地块坐标], as written.
    static func sections(_ text: String, limits: SiteLimits) throws -> (attributes: [String: String], parcels: [RawParcel]) {
        var attributes: [String: String] = [:]
        var section = ""
        var parcels: [RawParcel] = []
        var pointCount = 0
        // Line by line, lazily: a file of millions of points stops at the vertex limit without
        // first splitting (and holding) every line.
        let bytes = text.utf8
        var lineStart = bytes.startIndex, lineNo = 0
        while lineStart < bytes.endIndex {
            let lineEnd = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.endIndex
            defer { lineStart = lineEnd < bytes.endIndex ? bytes.index(after: lineEnd) : bytes.endIndex }
            lineNo += 1
            let line = trimmed(String(decoding: bytes[lineStart..<lineEnd], as: UTF8.self))
            if line.isEmpty { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") { section = line; continue }
            switch section {
            case "[属性描述]":
                if let eq = line.firstIndex(of: "=") {
                    attributes[trimmed(line[..<eq])] = trimmed(line[line.index(after: eq)...])
                }
            case "[地块坐标]":
                let fields = line.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "," || $0 == "，" }).map(trimmed)
                if fields.last == "@" {
                    guard fields.count >= 2 else { throw SiteError(.malformed, "line \(lineNo): a parcel header needs 界址点数,地块面积,…,@") }
                    parcels.append(RawParcel(header: fields, line: lineNo))
                } else {
                    guard !parcels.isEmpty else {
                        throw SiteError(.malformed, "line \(lineNo): a point comes before any parcel header (…,@)")
                    }
                    let point = try self.point(fields, line: lineNo)
                    pointCount += 1
                    guard pointCount <= limits.maxVertices else {
                        throw SiteError(.tooLarge, "the file has more than \(limits.maxVertices) points (line \(lineNo))")
                    }
                    parcels[parcels.count - 1].points.append(point)
                }
            case "":
                throw SiteError(.malformed, "line \(lineNo): expected the section [属性描述] or [地块坐标]")
            default:
                continue
            }
        }
        return (attributes, parcels)
    }

    /// A point line of [地块坐标]: 点号,圈号,X,Y.
    static func point(_ fields: [String], line lineNo: Int) throws -> Point {
        guard fields.count >= 4 else { throw SiteError(.malformed, "line \(lineNo): expected 点号,圈号,X,Y, found \(fields.count) fields") }
        guard let ring = Int(fields[1]), ring >= 1 else {
            throw SiteError(.malformed, "line \(lineNo): 圈号 '\(fields[1])' is not a ring number (1, 2, …)")
        }
        guard let x = Double(fields[2]), let y = Double(fields[3]), x.isFinite, y.isFinite else {
            throw SiteError(
                .malformed, "line \(lineNo): point \(fields[0]) has coordinates '\(fields[2])', '\(fields[3])' that are not numbers")
        }
        // X is a northing (under 10,000 km) and Y an easting, with at most a two-digit zone in front.
        guard abs(x) < 10_000_000, y >= 0, y < 100_000_000 else {
            throw SiteError(
                .invalid,
                "line \(lineNo): point \(fields[0]) has X=\(fields[2]), Y=\(fields[3]), which are not Gauss–Krüger coordinates (X a northing in metres, Y an easting with an optional zone prefix)"
            )
        }
        return Point(name: fields[0], ring: ring, x: x, y: y, line: lineNo)
    }

    /// A parcel's rings, each closed and within `crs`'s zone, in lon/lat.
    static func lonLatPolygon(_ p: RawParcel, label: String, crs: ZoneCRS, toLonLat: CoordinateTransform) throws -> Polygon {
        guard !p.points.isEmpty else { throw SiteError(.malformed, "\(label): has no points") }
        var rings: [[Coordinate]] = []
        var ringLines: [Int] = []
        var current = -1
        for pt in p.points {
            if pt.ring != current {
                current = pt.ring
                rings.append([])
                ringLines.append(pt.line)
            }
            // Y (easting) is x, X (northing) is y: GIS order.
            rings[rings.count - 1].append(Coordinate(pt.y, pt.x))
        }
        for (ri, ring) in rings.enumerated() {
            guard ring.count >= 4 else {
                throw SiteError(
                    .invalid,
                    "\(label): ring starting at line \(ringLines[ri]) has \(ring.count) points; a ring needs at least 4 (the first repeated last)"
                )
            }
            guard ring.first == ring.last else {
                throw SiteError(
                    .invalid, "\(label): ring starting at line \(ringLines[ri]) is not closed: its last point must repeat the first")
            }
            guard
                ring.allSatisfy({
                    abs($0.x - 500_000) < 400_000 || abs($0.x.truncatingRemainder(dividingBy: 1_000_000) - 500_000) < 400_000
                })
            else {
                throw SiteError(.invalid, "\(label): eastings outside zone \(crs.zone)")
            }
        }
        var lonLatRings: [[Coordinate]] = []
        for (ri, r) in rings.enumerated() {
            var r = r
            do { try toLonLat.transform(&r) } catch { throw SiteError(.invalid, "\(label) ring at line \(ringLines[ri]): \(error)") }
            lonLatRings.append(r)
        }
        return Polygon(lonLatRings)
    }

    struct ZoneCRS { let code: String; let zone: Int }

    /// The Gauss–Krüger zone, from 带号 or from the easting's prefix; they must agree.
    static func zoneCRS(attributes: [String: String], parcels: [RawParcel]) throws -> ZoneCRS {
        if let system = attributes["坐标系"], !system.isEmpty, !system.contains("2000") {
            throw SiteError(.invalid, "坐标系=\(system) is not supported: OneMap reads CGCS2000 (2000国家大地坐标系) files")
        }
        let declaredZone = attributes["带号"].flatMap { Int($0) }
        let width = attributes["几度分带"].flatMap { Int($0) }
        let first = parcels[0].points[0]
        let prefix = first.y >= 1_000_000 ? Int(first.y / 1_000_000) : nil
        // Every point must carry the same prefix as the first.
        for p in parcels {
            for pt in p.points where (pt.y >= 1_000_000 ? Int(pt.y / 1_000_000) : nil) != prefix {
                throw SiteError(
                    .invalid, "line \(pt.line): point \(pt.name) has Y=\(pt.y), whose zone prefix differs from the first point's")
            }
        }
        if let declaredZone, let prefix, declaredZone != prefix {
            throw SiteError(
                .invalid, "带号=\(declaredZone) does not match the coordinates, whose Y values start with zone \(prefix) (line \(first.line))"
            )
        }
        guard let zone = declaredZone ?? prefix else {
            throw SiteError(.invalid, "the zone is unknown: give 带号 in [属性描述] or prefix Y with the zone number")
        }
        // 3-degree zones in China are 25–45, 6-degree zones 13–23.
        let threeDegree = width.map { $0 == 3 } ?? (zone >= 24)
        if let width, width != 3 && width != 6 { throw SiteError(.invalid, "几度分带=\(width): only 3 and 6 are known") }
        let code: Int
        if threeDegree {
            guard (25...45).contains(zone) else { throw SiteError(.invalid, "带号=\(zone) is not a CGCS2000 3-degree zone (25–45)") }
            code = prefix != nil ? 4513 + zone - 25 : 4534 + zone - 25
        } else {
            guard (13...23).contains(zone) else { throw SiteError(.invalid, "带号=\(zone) is not a CGCS2000 6-degree zone (13–23)") }
            code = prefix != nil ? 4491 + zone - 13 : 4502 + zone - 13
        }
        return ZoneCRS(code: "EPSG:\(code)", zone: zone)
    }
}

import GeoCore

/// The geometry operands of the spatial functions: the geometry property, or a literal (WKT or
/// BBOX) in the axis order of the filter's CRS, as written.
extension CQL2Parser {
    mutating func geometryOperand() throws -> CQL2GeometryOperand {
        let token = peek
        switch token.kind {
        case .quotedIdentifier(let name):
            _ = next()
            noteProperty(name, at: token)
            return .property(name)
        case .word(let w):
            let tag = w.uppercased()
            if tag == "BBOX" || tag == "ENVELOPE" {
                _ = next()
                return .literal(try bbox(), isBox: true)
            }
            if ["POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"].contains(tag) {
                return .literal(try nested { try $0.wkt() }, isBox: false)
            }
            if tokens[index + 1].kind == .leftParen { throw error("unknown geometry type \(w)") }
            _ = next()
            noteProperty(w, at: token)
            return .property(w)
        default:
            throw error("expected a geometry (a WKT literal, BBOX(...) or the geometry property), found \(token.kind)")
        }
    }

    mutating func number() throws -> Double {
        let token = next()
        switch token.kind {
        case .number(let n): return n
        case .minus:
            guard case .number(let n) = next().kind else { throw error("expected a number after '-'", at: token) }
            return -n
        case .arithmetic(.plus):
            guard case .number(let n) = next().kind else { throw error("expected a number after '+'", at: token) }
            return n
        default: throw error("expected a number, found \(token.kind)", at: token)
        }
    }

    mutating func bbox() throws -> Geometry {
        try expect(.leftParen, "'(' after BBOX")
        var values = [try number()]
        while accept(.comma) { values.append(try number()) }
        try expect(.rightParen, "')' closing BBOX")
        guard values.count == 4 || values.count == 6 else { throw error("BBOX needs 4 numbers (or 6 with heights), found \(values.count)") }
        let (x0, y0, x1, y1) =
            values.count == 4 ? (values[0], values[1], values[2], values[3]) : (values[0], values[1], values[3], values[4])
        guard x0 <= x1, y0 <= y1 else { throw error("BBOX corners must be lower-left then upper-right") }
        return .polygon(Polygon([[Coordinate(x0, y0), Coordinate(x1, y0), Coordinate(x1, y1), Coordinate(x0, y1), Coordinate(x0, y0)]]))
    }

    mutating func wkt() throws -> Geometry {
        let token = next()
        guard case .word(let w) = token.kind else { throw error("expected a WKT geometry", at: token) }
        let tag = w.uppercased()
        // "POINT Z (...)": heights are read and dropped; OneMap is 2D.
        if isKeyword("Z") || isKeyword("M") || isKeyword("ZM") { _ = next() }
        if isKeyword("EMPTY") { throw error("empty geometries are not supported in filters") }
        switch tag {
        case "POINT":
            try expect(.leftParen, "'(' after POINT")
            let c = try position()
            try expect(.rightParen, "')' closing POINT")
            return .point(c)
        case "LINESTRING": return .lineString(try line())
        case "POLYGON": return .polygon(try polygon())
        case "MULTIPOINT":
            try expect(.leftParen, "'(' after MULTIPOINT")
            var points: [Coordinate] = []
            repeat {
                // Both MULTIPOINT((1 2), (3 4)) and the older MULTIPOINT(1 2, 3 4).
                if accept(.leftParen) {
                    points.append(try position())
                    try expect(.rightParen, "')'")
                } else {
                    points.append(try position())
                }
            } while accept(.comma)
            try expect(.rightParen, "')' closing MULTIPOINT")
            return .multiPoint(points)
        case "MULTILINESTRING":
            try expect(.leftParen, "'(' after MULTILINESTRING")
            var lines = [try line()]
            while accept(.comma) { lines.append(try line()) }
            try expect(.rightParen, "')' closing MULTILINESTRING")
            return .multiLineString(lines)
        case "MULTIPOLYGON":
            try expect(.leftParen, "'(' after MULTIPOLYGON")
            var polygons = [try polygon()]
            while accept(.comma) { polygons.append(try polygon()) }
            try expect(.rightParen, "')' closing MULTIPOLYGON")
            return .multiPolygon(polygons)
        case "GEOMETRYCOLLECTION":
            try expect(.leftParen, "'(' after GEOMETRYCOLLECTION")
            var parts = [try nested { try $0.wkt() }]
            while accept(.comma) { parts.append(try nested { try $0.wkt() }) }
            try expect(.rightParen, "')' closing GEOMETRYCOLLECTION")
            return .collection(parts)
        default:
            throw error("unknown geometry type \(w)", at: token)
        }
    }

    mutating func position() throws -> Coordinate {
        let x = try number(), y = try number()
        // A height, read and dropped.
        switch peek.kind {
        case .number, .minus, .arithmetic(.plus): _ = try number()
        default: break
        }
        vertices += 1
        guard vertices <= Self.maxVertices else { throw error("geometry literals have more than \(Self.maxVertices) vertices") }
        guard x.isFinite, y.isFinite else { throw error("coordinates must be finite numbers") }
        return Coordinate(x, y)
    }

    mutating func line() throws -> [Coordinate] {
        let start = peek
        try expect(.leftParen, "'(' starting a coordinate list")
        var coords = [try position()]
        while accept(.comma) { coords.append(try position()) }
        try expect(.rightParen, "')' closing a coordinate list")
        guard coords.count >= 2 else { throw error("a line needs at least 2 positions", at: start) }
        return coords
    }

    mutating func polygon() throws -> Polygon {
        try expect(.leftParen, "'(' starting a polygon")
        var rings: [[Coordinate]] = []
        repeat {
            let start = peek
            let ring = try line()
            guard ring.count >= 4 else { throw error("a polygon ring needs at least 4 positions, this one has \(ring.count)", at: start) }
            guard ring.first == ring.last else {
                throw error("the polygon ring is not closed (its first and last positions differ)", at: start)
            }
            rings.append(ring)
        } while accept(.comma)
        try expect(.rightParen, "')' closing a polygon")
        return Polygon(rings)
    }
}

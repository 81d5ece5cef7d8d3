/// The geometry model every OneMap module speaks: plain Swift values, no C types.
///
/// Coordinates are 2D. `x` is longitude (or easting), `y` latitude (or northing),
/// whatever the CRS's own axis order says: OneMap always works in "GIS order".
public struct Coordinate: Hashable, Sendable {
    public var x: Double
    public var y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

/// A polygon: the exterior ring first, then its holes. Rings are closed
/// (first coordinate repeated last).
public struct Polygon: Hashable, Sendable {
    public var rings: [[Coordinate]]
    public init(_ rings: [[Coordinate]]) { self.rings = rings }
    public var exterior: [Coordinate] { rings.first ?? [] }
    public var holes: ArraySlice<[Coordinate]> { rings.dropFirst() }
}

public enum Geometry: Hashable, Sendable {  // not indirect: the arrays already box the parts
    case point(Coordinate)
    case lineString([Coordinate])
    case polygon(Polygon)
    case multiPoint([Coordinate])
    case multiLineString([[Coordinate]])
    case multiPolygon([Polygon])
    case collection([Geometry])

    /// The topological dimension shared by all parts: 0 points, 1 lines, 2 polygons;
    /// nil for an empty or mixed collection.
    public var dimension: Int? {
        switch self {
        case .point, .multiPoint: return 0
        case .lineString, .multiLineString: return 1
        case .polygon, .multiPolygon: return 2
        case .collection(let parts):
            let dims = Set(parts.compactMap(\.dimension))
            return dims.count == 1 ? dims.first : nil
        }
    }

    public var isEmpty: Bool {
        switch self {
        case .point: return false
        case .lineString(let c), .multiPoint(let c): return c.isEmpty
        case .polygon(let p): return p.rings.isEmpty || p.exterior.isEmpty
        case .multiLineString(let ls): return ls.allSatisfy(\.isEmpty)
        case .multiPolygon(let ps): return ps.allSatisfy { $0.rings.isEmpty || $0.exterior.isEmpty }
        case .collection(let gs): return gs.allSatisfy(\.isEmpty)
        }
    }

    /// Calls `body` for every coordinate sequence (ring, line, or single point).
    public func forEachSequence(_ body: ([Coordinate]) throws -> Void) rethrows {
        switch self {
        case .point(let c): try body([c])
        case .lineString(let c), .multiPoint(let c): try body(c)
        case .polygon(let p): for r in p.rings { try body(r) }
        case .multiLineString(let ls): for l in ls { try body(l) }
        case .multiPolygon(let ps): for p in ps { for r in p.rings { try body(r) } }
        case .collection(let gs): for g in gs { try g.forEachSequence(body) }
        }
    }

    /// Returns the geometry with every coordinate sequence rewritten by `body`.
    public func mapSequences(_ body: ([Coordinate]) throws -> [Coordinate]) rethrows -> Geometry {
        switch self {
        case .point(let c): return .point(try body([c]).first ?? c)
        case .lineString(let c): return .lineString(try body(c))
        case .multiPoint(let c): return .multiPoint(try body(c))
        case .polygon(let p): return .polygon(Polygon(try p.rings.map(body)))
        case .multiLineString(let ls): return .multiLineString(try ls.map(body))
        case .multiPolygon(let ps): return .multiPolygon(try ps.map { Polygon(try $0.rings.map(body)) })
        case .collection(let gs): return .collection(try gs.map { try $0.mapSequences(body) })
        }
    }

    public var coordinateCount: Int {
        var n = 0
        forEachSequence { n += $0.count }
        return n
    }

    public var boundingBox: BoundingBox? {
        var box: BoundingBox?
        forEachSequence { seq in
            for c in seq {
                if box == nil { box = BoundingBox(c.x, c.y, c.x, c.y) } else { box!.extend(c) }
            }
        }
        return box
    }

    /// Promotes single geometries to their multi form, so a layer stores one geometry type.
    public var promotedToMulti: Geometry {
        switch self {
        case .point(let c): return .multiPoint([c])
        case .lineString(let l): return .multiLineString([l])
        case .polygon(let p): return .multiPolygon([p])
        default: return self
        }
    }

    /// The polygons of a polygonal geometry, including those nested in collections.
    public var polygons: [Polygon] {
        switch self {
        case .polygon(let p): return [p]
        case .multiPolygon(let ps): return ps
        case .collection(let gs): return gs.flatMap(\.polygons)
        default: return []
        }
    }

    public var lineStrings: [[Coordinate]] {
        switch self {
        case .lineString(let l): return [l]
        case .multiLineString(let ls): return ls
        case .collection(let gs): return gs.flatMap(\.lineStrings)
        default: return []
        }
    }

    public var points: [Coordinate] {
        switch self {
        case .point(let c): return [c]
        case .multiPoint(let cs): return cs
        case .collection(let gs): return gs.flatMap(\.points)
        default: return []
        }
    }

    /// Keeps only the parts of the given dimension, as a multi geometry
    /// (MakeValid may return a collection with stray lines or points).
    public func parts(ofDimension dim: Int) -> Geometry {
        switch dim {
        case 0: return .multiPoint(points)
        case 1: return .multiLineString(lineStrings)
        default: return .multiPolygon(polygons)
        }
    }

    public var typeName: String {
        switch self {
        case .point: return "Point"
        case .lineString: return "LineString"
        case .polygon: return "Polygon"
        case .multiPoint: return "MultiPoint"
        case .multiLineString: return "MultiLineString"
        case .multiPolygon: return "MultiPolygon"
        case .collection: return "GeometryCollection"
        }
    }
}

public struct BoundingBox: Hashable, Sendable, Codable {
    public var minX, minY, maxX, maxY: Double
    public init(_ minX: Double, _ minY: Double, _ maxX: Double, _ maxY: Double) {
        self.minX = minX; self.minY = minY; self.maxX = maxX; self.maxY = maxY
    }
    public mutating func extend(_ c: Coordinate) {
        if c.x < minX { minX = c.x }
        if c.x > maxX { maxX = c.x }
        if c.y < minY { minY = c.y }
        if c.y > maxY { maxY = c.y }
    }
    public mutating func extend(_ b: BoundingBox) {
        minX = Swift.min(minX, b.minX); minY = Swift.min(minY, b.minY)
        maxX = Swift.max(maxX, b.maxX); maxY = Swift.max(maxY, b.maxY)
    }
    public func intersects(_ b: BoundingBox) -> Bool {
        minX <= b.maxX && b.minX <= maxX && minY <= b.maxY && b.minY <= maxY
    }
    public func contains(_ b: BoundingBox) -> Bool {
        minX <= b.minX && b.maxX <= maxX && minY <= b.minY && b.maxY <= maxY
    }
    /// The box both cover; nil when they do not meet.
    public func intersection(_ b: BoundingBox) -> BoundingBox? {
        let shared = BoundingBox(Swift.max(minX, b.minX), Swift.max(minY, b.minY), Swift.min(maxX, b.maxX), Swift.min(maxY, b.maxY))
        return shared.minX <= shared.maxX && shared.minY <= shared.maxY ? shared : nil
    }
    public var array: [Double] { [minX, minY, maxX, maxY] }
}

extension Geometry {
    /// Closes rings that forget to repeat their first point (common in Shapefiles and
    /// hand-written files); GEOS refuses unclosed rings outright.
    public var closingRings: Geometry {
        func close(_ r: [Coordinate]) -> [Coordinate] {
            guard let first = r.first, let last = r.last, first != last else { return r }
            return r + [first]
        }
        switch self {
        case .polygon(let p): return .polygon(Polygon(p.rings.map(close)))
        case .multiPolygon(let ps): return .multiPolygon(ps.map { Polygon($0.rings.map(close)) })
        case .collection(let gs): return .collection(gs.map(\.closingRings))
        default: return self
        }
    }

    /// True when every coordinate is a finite lon/lat.
    public var hasValidLonLat: Bool {
        var valid = true
        forEachSequence { seq in
            for c in seq where !(c.x.isFinite && c.y.isFinite && c.x >= -180 && c.x <= 180 && c.y >= -90 && c.y <= 90) {
                valid = false
                return
            }
        }
        return valid
    }
}

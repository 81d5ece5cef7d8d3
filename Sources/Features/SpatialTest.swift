import Foundation
import GRDB
import GeoCore
import LayerStore

/// One exact spatial test of a query (the `bbox`, or an `S_…` function of the filter) against
/// a literal geometry in storage lon/lat. SQL finds candidates through the R*Tree; SQLite then
/// calls `om_spatial(geom, k)` for each, which answers from the blob's bounding box when it
/// can and asks GEOS only for features that straddle the literal's edge.
final class SpatialTest: Sendable {
    enum Relation: Sendable {
        case intersects, disjoint
        /// The feature lies within the literal.
        case within
        /// The feature contains the literal.
        case contains
        case equals
        /// Symmetric relations, so which side the feature is on does not matter.
        case touches, overlaps, crosses
    }

    let relation: Relation
    let literal: Geometry
    let box: BoundingBox
    /// The literal is an axis-aligned rectangle in lon/lat: a feature whose box lies inside it
    /// certainly intersects it.
    let isRectangle: Bool

    init(_ relation: Relation, literal: Geometry, isRectangle: Bool) throws {
        self.relation = relation
        self.literal = literal
        guard let box = literal.boundingBox else { throw FeatureError.invalidParameter("filter", "empty geometry") }
        self.box = box
        self.isRectangle = isRectangle
    }

    /// GEOS objects for one request (a GEOS context serves one thread at a time).
    final class Prepared {
        let engine: GeometryEngine
        let literal: EngineGeometry
        let prepared: PreparedGeometry
        /// The literal's boundary, for "within": a feature lying only on it is not within.
        let boundary: PreparedGeometry?

        init(_ test: SpatialTest, engine: GeometryEngine) throws {
            self.engine = engine
            literal = try engine.make(test.literal)
            prepared = try literal.prepared()
            boundary = try SpatialTest.boundary(of: test.literal).map { try engine.make($0).prepared() }
        }
    }

    /// The topological boundary: rings of polygons, the odd-counted end points of lines,
    /// nothing for points. GEOS's own boundary is not exposed by GeoCore, and this is all the
    /// within/contains tests need.
    static func boundary(of g: Geometry) -> Geometry? {
        var rings: [[Coordinate]] = []
        for p in g.polygons { rings += p.rings }
        var ends: [Coordinate: Int] = [:]
        for l in g.lineStrings where l.count >= 2 && l.first != l.last {
            ends[l[0], default: 0] += 1
            ends[l[l.count - 1], default: 0] += 1
        }
        let points = ends.filter { $0.value % 2 == 1 }.map(\.key)
        var parts: [Geometry] = []
        if !rings.isEmpty { parts.append(.multiLineString(rings)) }
        if !points.isEmpty { parts.append(.multiPoint(points)) }
        switch parts.count {
        case 0: return nil
        case 1: return parts[0]
        default: return .collection(parts)
        }
    }

    func evaluate(_ blob: Data, _ p: Prepared) throws -> Bool {
        guard let fbox = SpatiaLiteGeometry.boundingBox(blob) else { return false }
        switch relation {
        case .intersects:
            return try intersects(blob, fbox, p)
        case .disjoint:
            return try !intersects(blob, fbox, p)
        case .within:
            guard box.contains(fbox) else { return false }
            let g = try p.engine.make(try SpatiaLiteGeometry.decode(blob))
            guard try p.prepared.covers(g) else { return false }
            guard let boundary = p.boundary else { return true }
            return try !boundary.covers(g)
        case .contains:
            guard fbox.contains(box) else { return false }
            let value = try SpatiaLiteGeometry.decode(blob)
            let feature = try p.engine.make(value).prepared()
            guard try feature.covers(p.literal) else { return false }
            guard let b = Self.boundary(of: value) else { return true }
            return try !p.engine.make(b).prepared().covers(p.literal)
        case .equals:
            guard fbox == box else { return false }
            let g = try p.engine.make(try SpatiaLiteGeometry.decode(blob))
            guard try p.prepared.covers(g) else { return false }
            return try g.prepared().covers(p.literal)
        case .touches, .overlaps, .crosses:
            guard fbox.intersects(box) else { return false }
            let g = try p.engine.make(try SpatiaLiteGeometry.decode(blob))
            switch relation {
            case .touches: return try p.prepared.touches(g)
            case .overlaps: return try p.prepared.overlaps(g)
            default: return try p.prepared.crosses(g)
            }
        }
    }

    private func intersects(_ blob: Data, _ fbox: BoundingBox, _ p: Prepared) throws -> Bool {
        guard fbox.intersects(box) else { return false }
        if isRectangle && box.contains(fbox) { return true }
        return try p.prepared.intersects(try p.engine.make(try SpatiaLiteGeometry.decode(blob)))
    }
}

/// Installs `om_spatial(geom, k)` on the reading connection for the length of one query.
struct SpatialFunction {
    static let name = "om_spatial"

    /// Runs `body` with the tests available to SQL; the function is removed afterwards so no
    /// other request on this pooled connection sees this one's geometries.
    static func with<T>(_ tests: [SpatialTest], db: Database, _ body: () throws -> T) throws -> T {
        guard !tests.isEmpty else { return try body() }
        let engine = GeometryEngine()
        let prepared = try tests.map { try SpatialTest.Prepared($0, engine: engine) }
        let state = UncheckedBox((tests, prepared))
        let function = DatabaseFunction(name, argumentCount: 2, pure: false) { values in
            let (tests, prepared) = state.value
            guard case .blob(let blob) = values[0].storage, case .int64(let k) = values[1].storage,
                k >= 0, Int(k) < tests.count
            else { return 0 }
            return try tests[Int(k)].evaluate(blob, prepared[Int(k)]) ? 1 : 0
        }
        db.add(function: function)
        defer { db.remove(function: function) }
        return try body()
    }
}

/// Carries request-local, single-threaded state into a closure that must be Sendable: SQLite
/// calls the function on the one thread running the query.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

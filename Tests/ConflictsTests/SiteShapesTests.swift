import Foundation
import FuzzSupport
import GeoCore
import LayerStore
import Testing

@testable import Conflicts

/// Sites as projects bring them, against a dense grid of parcels: a road corridor, a park
/// with a hole and a second parcel, and a site holding thousands of parcels whole. Every
/// answer is held to an independent one: each parcel overlaid with the site in GEOS and
/// measured with Karney's geodesic area.
struct SiteShapesTests {
    /// 80 × 80 parcels of 0.0004° (about 40 m) with 0.0001° lanes between them.
    static let grid: [(String, Polygon)] = (0..<6400).map { i in
        let x = 120.0 + Double(i % 80) * 0.0005, y = 28.0 + Double(i / 80) * 0.0005
        return ("G\(i)", ConflictFixtures.box(x, y, x + 0.0004, y + 0.0004))
    }

    func fixtures() throws -> ConflictFixtures {
        let f = try ConflictFixtures()
        try f.layer("farmland", rule: Rule(severity: .forbidden), Self.grid.map { ($0.0, .polygon($0.1), []) })
        return f
    }

    /// The parcels overlapping the site by more than 0.01 m², with their areas.
    func expected(_ polygons: [Polygon]) throws -> [String: Double] {
        let engine = GeometryEngine()
        let site = try engine.make(.multiPolygon(polygons)).unaryUnion()
        let box = try #require(Geometry.multiPolygon(polygons).boundingBox)
        var out: [String: Double] = [:]
        for (id, parcel) in Self.grid {
            guard let b = Geometry.polygon(parcel).boundingBox, b.intersects(box) else { continue }
            let piece = try site.intersection(try engine.make(.polygon(parcel))).value().parts(ofDimension: 2)
            let area = Ellipsoid.cgcs2000.area(piece)
            if area > ConflictChecker.minimumOverlapM2 { out[id] = area }
        }
        return out
    }

    func agrees(_ f: ConflictFixtures, _ polygons: [Polygon]) throws {
        let want = try expected(polygons)
        let site = try Site.make(polygons: polygons.enumerated().map { ($1, "polygon \($0)") }, crs: nil, limits: SiteLimits())
        // The layer resident, searched through its R*Tree, and through its boxes in memory.
        let checkers = [
            ConflictChecker(store: f.store), ConflictChecker(store: f.store, residentLimit: 0),
            ConflictChecker(store: f.store, residentLimit: 0, boxesInMemory: true)
        ]
        for checker in checkers {
            for keepPieces in [false, true] {
                let layer = try #require(try checker.check(site, keepPieces: keepPieces).result.layer("farmland"))
                let got = Dictionary(uniqueKeysWithValues: layer.features.map { ($0.id, $0.overlapAreaM2) })
                #expect(
                    Set(got.keys) == Set(want.keys),
                    "missing \(Set(want.keys).subtracting(got.keys)), extra \(Set(got.keys).subtracting(want.keys))")
                for (id, area) in want {
                    let a = got[id] ?? 0
                    #expect(abs(a - area) <= max(1e-4, 1e-6 * area), "\(id): \(a) against \(area)")
                }
                // The parcels do not overlap each other, so the layer's overlap is their sum.
                let total = want.values.reduce(0, +)
                #expect(abs(layer.overlapAreaM2 - total) <= max(1e-3, 1e-6 * total))
            }
        }
    }

    @Test func aCorridorAcrossTheGrid() throws {
        let f = try fixtures()
        try agrees(f, [TestSites.corridor(from: Coordinate(120.001, 28.002), steps: 120, width: 0.0006, seed: 5)])
    }

    @Test func aParkWithAHoleAndASecondParcel() throws {
        let f = try fixtures()
        let park = TestSites.park(centre: Coordinate(120.015, 28.015), radius: 0.008, seed: 6)
        let second = ConflictFixtures.box(120.0301, 28.0301, 120.0353, 28.0342)
        try agrees(f, [park, second])
    }

    @Test func aSiteHoldingThousandsOfParcelsWhole() throws {
        let f = try fixtures()
        // An L-shaped estate over most of the grid: concave, so no convex shortcut applies.
        let estate = Polygon([
            [
                Coordinate(119.9999, 27.9999), Coordinate(120.0399, 27.9999), Coordinate(120.0399, 28.0201),
                Coordinate(120.0201, 28.0201), Coordinate(120.0201, 28.0399), Coordinate(119.9999, 28.0399),
                Coordinate(119.9999, 27.9999)
            ]
        ])
        let want = try expected([estate])
        #expect(want.count > 3000)
        try agrees(f, [estate])
    }
}

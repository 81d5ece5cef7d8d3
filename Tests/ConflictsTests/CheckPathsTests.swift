import Foundation
import GeoCore
import LayerStore
import Testing

@testable import Conflicts

/// A check takes shortcuts by path: small layers are scanned in memory, large ones read
/// through the R*Tree with the site's edges tested in SQL; features whose box lies inside a
/// convex site are not decoded unless pieces are kept. Whatever the path, the answer must be
/// the same: to the last digit where pieces are kept (every path builds the same pieces), and
/// within 1e-9 of every area where they are not (areas are then summed along each
/// overlap's boundary instead of measured on its polygon: the same edges, other roundings).
struct CheckPathsTests {
    let box = ConflictFixtures.box

    /// A 7 × 7 grid of 40 m parcels, 10 m apart, with two that overlap each other, and an
    /// urban boundary over part of it.
    func fixtures() throws -> ConflictFixtures {
        let f = try ConflictFixtures()
        var parcels: [(String, Geometry, [String])] = []
        for i in 0..<7 {
            for j in 0..<7 {
                let x = 120.0 + Double(i) * 0.0005, y = 28.0 + Double(j) * 0.0005
                parcels.append(("P\(i)\(j)", .polygon(box(x, y, x + 0.0004, y + 0.0004)), ["\(i + j)"]))
            }
        }
        parcels.append(("X", .polygon(box(120.0012, 28.0012, 120.0019, 28.0019)), ["x"]))
        try f.layer("farmland", rule: Rule(severity: .forbidden), fields: ["DLBM"], parcels)
        try f.layer(
            "urban_boundary", kind: .urbanBoundary, rule: Rule(severity: .restricted, when: .outside),
            [("U", .polygon(box(119.999, 27.999, 120.0017, 28.004)), [])])
        return f
    }

    /// A square turned by 30°, about 200 m across, over the middle of the grid: parcels wholly
    /// inside, crossing its edges, in the corners of its box, and outside.
    func turnedSquare() -> Polygon {
        let cx = 120.0017, cy = 28.0017, r = 0.0011, a = Double.pi / 6
        var ring = (0..<4).map { k -> Coordinate in
            let t = a + Double(k) * .pi / 2
            return Coordinate(cx + r * cos(t), cy + r * sin(t))
        }
        ring.append(ring[0])
        return Polygon([ring])
    }

    func answers(
        _ f: ConflictFixtures, _ polygons: [Polygon], residentLimit: Int, keepPieces: Bool,
        boxesInMemory: Bool = false, rowMemoryBytes: Int = ConflictChecker.rowMemoryLimit
    ) throws -> (json: String, pieces: Int) {
        let site = try Site.make(polygons: polygons.enumerated().map { ($1, "polygon \($0)") }, crs: nil, limits: SiteLimits())
        let checker = ConflictChecker(
            store: f.store, residentLimit: residentLimit, boxesInMemory: boxesInMemory, rowMemoryBytes: rowMemoryBytes)
        let outcome = try checker.check(site, keepPieces: keepPieces)
        return (String(decoding: try outcome.result.json(), as: UTF8.self), outcome.pieces.count)
    }

    @Test(arguments: ["convex", "with a hole"])
    func everyPathGivesTheSameAnswer(_ shape: String) throws {
        let f = try fixtures()
        var site = turnedSquare()
        if shape == "with a hole" {
            site.rings.append(Array(box(120.0014, 28.0014, 120.0021, 28.0021).rings[0].reversed()))
        }
        let reference = try answers(f, [site], residentLimit: ConflictChecker.residentLimit, keepPieces: true)
        let result = try JSONDecoder().decode(CheckResult.self, from: Data(reference.json.utf8))
        let farmland = try #require(result.layer("farmland"))
        // The fixture does what it is for: some parcels wholly inside, some cut.
        #expect(farmland.features.count > 12 && farmland.features.count < 49)
        #expect(farmland.features.contains { $0.id == "X" })
        #expect(reference.pieces > 0)
        // The resident layer, the R*Tree, the boxes in memory with the rows read from SQLite
        // (row memory 0) or copied into memory too; pieces kept or not.
        for (limit, keep, inMemory, rowMemory) in [
            (ConflictChecker.residentLimit, false, false, 0), (0, true, false, 0), (0, false, false, 0),
            (0, true, true, 0), (0, false, true, 0), (0, true, true, ConflictChecker.rowMemoryLimit),
            (0, false, true, ConflictChecker.rowMemoryLimit)
        ] {
            let other = try answers(f, [site], residentLimit: limit, keepPieces: keep, boxesInMemory: inMemory, rowMemoryBytes: rowMemory)
            let path = "resident limit \(limit), keepPieces \(keep), boxes in memory \(inMemory), row memory \(rowMemory)"
            if keep {
                #expect(other.json == reference.json, "\(path)")
            } else {
                #expect(try AnswerComparison.closeEnough(other.json, reference.json), "\(path)")
            }
            #expect(other.pieces == (keep ? reference.pieces : 0), "\(path)")
        }
    }
}

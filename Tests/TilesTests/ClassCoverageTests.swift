import Foundation
import GeoCore
import LandUse
import LayerStore
import Testing

@testable import Tiles

/// A land-use layer's overview: coverage merged by land class into valid polygons that keep
/// the area, coloured by a code the style knows.
struct ClassCoverageTests {
    /// A polygon per exterior ring, with the holes that follow it.
    static func polygons(_ rings: [[TilePoint]]) -> [Polygon] {
        var out: [Polygon] = []
        for r in rings {
            let ring = r.map { Coordinate(Double($0.x), Double($0.y)) } + [Coordinate(Double(r[0].x), Double(r[0].y))]
            if CellOutline.signedArea(r) > 0 {
                out.append(Polygon([ring]))
            } else {
                #expect(!out.isEmpty, "a hole before any exterior")
                if !out.isEmpty { out[out.count - 1] = Polygon(out[out.count - 1].rings + [ring]) }
            }
        }
        return out
    }

    @Test func outlinesOfRandomCellsAreValidAndExact() throws {
        let engine = GeometryEngine()
        var rng = SplitMix(11)
        for round in 0..<200 {
            let n = 4 + round % 13
            // Blobs, checkerboards and single cells: three classes and empty cells.
            let label = (0..<(n * n)).map { _ in rng.next() < 0.2 ? -1 : Int(rng.next() * 3) }
            var union = 0.0
            for c in 0..<3 {
                let rings = CellOutline(label: label, n: n, of: c).rings(cellSize: 8)
                let cells = label.filter { $0 == c }.count
                let polygons = Self.polygons(rings)
                guard !polygons.isEmpty else {
                    #expect(cells == 0)
                    continue
                }
                let g = try engine.make(.multiPolygon(polygons))
                #expect(g.isValid, "round \(round) class \(c): \(rings)")
                #expect(try g.planarArea() == Double(cells * 64), "round \(round) class \(c)")
                #expect(rings.allSatisfy { r in r.allSatisfy { $0.x >= 0 && $0.y >= 0 && $0.x <= Int32(8 * n) && $0.y <= Int32(8 * n) } })
                union += try g.planarArea()
            }
            #expect(union == Double(label.filter { $0 >= 0 }.count * 64))
        }
    }

    @Test func aCornerOnlyJoinIsTwoPolygonsAndAnEnclosedCellAHole() throws {
        // Two cells meeting at a corner; a ring of eight cells round an empty one.
        let corner = CellOutline(label: [0, -1, -1, 0], n: 2, of: 0).rings(cellSize: 1)
        #expect(corner.count == 2 && corner.allSatisfy { CellOutline.signedArea($0) == 2 }, "\(corner)")
        let ring = CellOutline(label: [0, 0, 0, 0, 1, 0, 0, 0, 0], n: 3, of: 0).rings(cellSize: 1)
        #expect(ring.count == 2)
        #expect(CellOutline.signedArea(ring[0]) == 18 && CellOutline.signedArea(ring[1]) == -2)
        // Corners only: a square is four points.
        #expect(ring[0].count == 4 && ring[1].count == 4)
    }

    /// A wall-to-wall grid of small 图斑: 林地 on the left, 耕地 on the right, a river of 河流水面
    /// down the middle; the tile's coverage by class keeps every class where it is and the area.
    @Test func wallToWallCoverageMergesByClassAndKeepsTheArea() throws {
        var grid = CoverageGrid(extent: 4096, cellSize: 32, codeNames: ["0301", "0101", "1101", "0307", "XXXX"])
        var total = 0.0
        let step = 4.0
        var y = 1000.0
        while y < 3000 {
            var x = 500.0
            while x < 3500 {
                let code: Int32 = abs(x - 2200) < 100 ? 2 : x < 2200 ? (Int(x / step) % 5 == 0 ? 3 : 0) : 1
                grid.add(x: x + step / 2, y: y + step / 2, area: step * step, code: code)
                total += step * step
                x += step
            }
            y += step
        }
        let regions = grid.classRegions(LandClassification.standard)
        #expect(regions.map(\.classCode) == ["03", "01", "11"])
        // 0301 has four times the area of 0307 in 林地: the class's code is 0301.
        #expect(regions.map(\.code) == ["0301", "0101", "1101"])
        #expect(regions.reduce(0) { $0 + $1.count } == grid.totalCount)
        let engine = GeometryEngine()
        var drawn = 0.0
        var parts: [EngineGeometry] = []
        for r in regions {
            let g = try engine.make(.multiPolygon(Self.polygons(r.rings)))
            #expect(g.isValid, "class \(r.classCode)")
            drawn += try g.planarArea()
            parts.append(g)
        }
        // Classes never overlap, and the drawn area is the data's within 5%.
        #expect(abs(try engine.union(parts).planarArea() - drawn) < 1e-6)
        #expect(abs(drawn - total) <= 0.05 * total, "drawn \(drawn) of \(total)")
        // The river's region lies over the river.
        let river = try #require(regions.first { $0.classCode == "11" })
        let xs = river.rings.flatMap { $0.map(\.x) }
        #expect(xs.min()! >= 2050 && xs.max()! <= 2350)
    }

    /// A loaded land-use layer, read per tile and held in memory: overview tiles merge its
    /// 图斑 by class with the area kept, close tiles draw every 图斑; all of them say their 地类.
    @Test func landUseTilesCarryTheirClassAtEveryZoom() throws {
        let fx = try TileFixtures()
        var features: [(Geometry, [AttributeValue])] = []
        let codes = ["0301", "0101", "1101", "0702"]
        var rng = SplitMix(5)
        let side = 0.0003  // ~30 m
        for j in 0..<40 {
            for i in 0..<50 {
                let x0 = 120.0 + Double(i) * side * 1.13, y0 = 28.0 + Double(j) * side
                // Bands of a class, a few 图斑 of another in each.
                let code = rng.next() < 0.1 ? codes[Int(rng.next() * 4)] : codes[(i / 13) % 4]
                features.append(
                    (.polygon(Polygon([TileFixtures.box(x0, y0, x0 + side * 1.13, y0 + side)])), [.text("\(j * 50 + i)"), .text(code)]))
            }
        }
        try fx.layer(
            "landuse", kind: .landUse,
            fields: [FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "DLBM", type: .text)], features)
        let bounds = try #require(try fx.store.layer(named: "landuse").version.bbox)
        let engine = GeometryEngine()
        for threshold in [1000, 1_000_000] {
            let service = TileService(store: fx.store, options: TileOptions(summaryThreshold: threshold))
            var merged = 0, outlines = 0
            for z in [10, 12, 14, 16] {
                for key in StoreTileTests.keys(bounds, z: z).prefix(20) {
                    let tile = try service.tile(.layers(["landuse"]), key, grid: StoreTileTests.grid)
                    guard let layer = try decodeTile(tile.bytes).layer("landuse") else { continue }
                    for f in layer.features {
                        guard case .string(let code)? = f.properties["DLBM"] else {
                            Issue.record("z\(z) \(key): a feature without DLBM")
                            continue
                        }
                        #expect(codes.contains(code))
                        if f.properties["om_merged"] != nil {
                            merged += 1
                            #expect(f.id == nil)
                            guard case .string(let cls)? = f.properties["om_class"] else {
                                Issue.record("a merged feature without om_class")
                                continue
                            }
                            #expect(LandClassification.standard.code(code)?.classCode == cls)
                        } else {
                            outlines += 1
                        }
                    }
                    let (drawn, truth) = try StoreTileTests.coverage(tile.bytes, key: key, parcels: features, engine: engine)
                    if truth > 4096.0 * 4096 * 0.02 {
                        #expect(abs(drawn - truth) <= 0.05 * truth, "z\(z) \(key): drawn \(Int(drawn)) vs data \(Int(truth))")
                    }
                }
            }
            #expect(merged > 0 && outlines > 0, "threshold \(threshold): \(merged) merged, \(outlines) outlines")
        }
    }

    /// Coalescing (issue 26): a field of adjacent parcels, each a sixth of a cell, is one
    /// block with a fringe of squares where it only partly fills a cell; the area is kept and
    /// the polygons are valid. Scattered parcels keep a square each.
    @Test func adjacentParcelsBecomeOneBlockAndScatteredOnesSquares() throws {
        let engine = GeometryEngine()
        var grid = CoverageGrid(extent: 4096, cellSize: 32)
        // 40 × 30 parcels of 5.5 × 5.5 units sharing their edges, from (1010, 2003).
        for j in 0..<30 {
            for i in 0..<40 { grid.add(x: 1010 + 5.5 * (Double(i) + 0.5), y: 2003 + 5.5 * (Double(j) + 0.5), area: 30.25) }
        }
        let rings = grid.blocks()
        let polygons = Self.polygons(rings)
        let block = try #require(polygons.first)
        // 220 × 165 units over cells of 32: the 5 × 4 cells wholly inside are one block.
        #expect(try engine.make(.polygon(block)).planarArea() >= 20 * 32 * 32, "\(rings.prefix(2))")
        let g = try engine.make(.multiPolygon(polygons))
        #expect(g.isValid)
        let area = try g.planarArea()
        #expect(abs(area - 1200 * 30.25) <= 32 * 32 * 0.5, "area \(area) vs \(1200 * 30.25)")
        #expect(rings.count < 40, "a block and its fringe, not a square per cell: \(rings.count) rings")
        // The same parcels scattered a cell apart: no block, a square each.
        var scattered = CoverageGrid(extent: 4096, cellSize: 32)
        for j in 0..<10 { for i in 0..<10 { scattered.add(x: 100 + 64 * Double(i), y: 100 + 64 * Double(j), area: 30.25) } }
        let squares = scattered.blocks()
        #expect(squares.count == 100 && squares.allSatisfy { CellOutline.signedArea($0) == 2 * 25 || CellOutline.signedArea($0) == 2 * 36 })
    }

    @Test func otherLayersKeepClasslessSquares() {
        var grid = CoverageGrid(extent: 4096, cellSize: 32)
        grid.add(x: 100, y: 100, area: 50)
        #expect(grid.classRegions(LandClassification.standard).isEmpty)
        #expect(grid.squares().count == 1)
    }

    /// Every 地类编码 of the classification has its own colour in the land-use styles (none
    /// falls to the default grey), and merged features carry the code field the style reads.
    @Test func stylesColourEveryLandCode() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for file in ["Styles/landuse.json", "Styles/onemap.json"] {
            let style = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent(file))) as? [String: Any])
            let layers = try #require(style["layers"] as? [[String: Any]])
            let fill = try #require(layers.first { $0["id"] as? String == "landuse-fill" }, "\(file): no landuse-fill layer")
            let match = try #require((fill["paint"] as? [String: Any])?["fill-color"] as? [Any])
            #expect(match.first as? String == "match")
            #expect((match[1] as? [Any])?.last as? String == "DLBM")
            var coloured = Set<String>()
            for k in stride(from: 2, to: match.count - 1, by: 2) { coloured.formUnion(match[k] as? [String] ?? []) }
            let missing = Set(LandClassification.standard.codes.keys).subtracting(coloured)
            #expect(missing.isEmpty, "\(file): no colour for \(missing.sorted())")
        }
    }
}

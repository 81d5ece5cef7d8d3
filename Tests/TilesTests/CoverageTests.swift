import Testing

@testable import Tiles

/// The coverage cells: squares that keep the area of what they stand for.
struct CoverageTests {
    @Test func squaresKeepTheAreaAndNeverTouch() {
        var rng = SplitMix(3)
        for cell in [16, 32, 64] {
            var grid = CoverageGrid(extent: 4096, cellSize: cell)
            var total = 0.0
            for _ in 0..<20_000 {
                // Clustered, like parcels along valleys, some cells crowded past full.
                let x = 2048 + (rng.next() - 0.5) * 3000 * rng.next(), y = 2048 + (rng.next() - 0.5) * 600
                let a = 1 + 40 * rng.next()
                grid.add(x: x, y: y, area: a)
                total += a
            }
            grid.add(x: -5, y: 10, area: 100)  // centre outside the tile: the neighbour's
            grid.add(x: 4096, y: 10, area: 100)
            #expect(abs(grid.totalArea - total) < 1e-6)
            let squares = grid.squares()
            var drawn = 0.0
            for s in squares {
                #expect(TileGeometry.twiceArea(s) > 0)
                drawn += Double(TileGeometry.twiceArea(s)) / 2
                #expect(s.allSatisfy { $0.x >= 0 && $0.x <= 4096 && $0.y >= 0 && $0.y <= 4096 })
            }
            // Crowded cells cap at (cell − 1)² and pass the rest on; what is left at the end is
            // less than a few cells' worth.
            #expect(abs(drawn - total) < Double(3 * cell * cell), "cell \(cell): drawn \(drawn) of \(total)")
            // No two squares share a point (sort by x, compare neighbours in x).
            let boxes = squares.map { s in
                (minX: s.map(\.x).min()!, maxX: s.map(\.x).max()!, minY: s.map(\.y).min()!, maxY: s.map(\.y).max()!)
            }
            .sorted { $0.minX < $1.minX }
            for i in boxes.indices {
                var j = i + 1
                while j < boxes.count && boxes[j].minX <= boxes[i].maxX {
                    #expect(boxes[j].maxY < boxes[i].minY || boxes[i].maxY < boxes[j].minY, "squares touch")
                    j += 1
                }
            }
        }
    }

    @Test func shedTakesTheCostliestCellsWhole() {
        // Three cells: 10 items at cost 1 in cell A, 3 in B, 1 in C.
        var items: [(x: Double, y: Double, cost: Double)] = []
        for i in 0..<10 { items.append((10 + Double(i), 10, 1)) }
        for i in 0..<3 { items.append((100 + Double(i), 10, 1)) }
        items.append((200, 200, 1))
        let move = CoverageGrid.shed(items, cellSize: 64, extent: 4096, budget: 5)
        #expect(move[0..<10].allSatisfy { $0 } && !move[10] && !move[13])
        let more = CoverageGrid.shed(items, cellSize: 64, extent: 4096, budget: 1)
        #expect(more[0..<13].allSatisfy { $0 } && !more[13])
    }
}

import Foundation
import FuzzSupport
import Testing

@testable import GeoCore

/// `BoxIndex.search` finds exactly the boxes a scan over all of them finds, each once, for
/// sizes around the node size's powers (one node, a partly filled last node, several levels).
struct BoxIndexTests {
    func randomBox(_ rng: inout FuzzRandom, size: ClosedRange<Double>) -> BoundingBox {
        let x = rng.double(119...121), y = rng.double(27...29)
        return BoundingBox(x, y, x + rng.double(size), y + rng.double(size))
    }

    @Test(arguments: [0, 1, 2, 15, 16, 17, 255, 256, 257, 4097, 20_000])
    func findsWhatAScanFinds(count: Int) {
        var rng = FuzzRandom(seed: UInt64(count) + 1)
        let boxes = (0..<count).map { _ in randomBox(&rng, size: 0...0.02) }
        let index = BoxIndex(boxes)
        #expect(index.count == count)
        for q in 0..<200 {
            let query = q == 0 ? BoundingBox(118, 26, 122, 30) : randomBox(&rng, size: 0...0.3)
            var found: [Int] = []
            index.search(query) { item, box in
                #expect(box == boxes[item])
                found.append(item)
            }
            let want = boxes.indices.filter { boxes[$0].intersects(query) }
            #expect(found.sorted() == want, "query \(query): \(found.count) found, \(want.count) expected")
        }
    }

    @Test func touchingBoxesAndPointsAreFound() {
        let boxes = [BoundingBox(0, 0, 1, 1), BoundingBox(1, 1, 1, 1), BoundingBox(2, 0, 3, 1)]
        let index = BoxIndex(boxes)
        var found: [Int] = []
        index.search(BoundingBox(1, 0, 2, 0.5)) { item, _ in found.append(item) }
        #expect(found.sorted() == [0, 2])
        found = []
        index.search(BoundingBox(1, 1, 1, 1)) { item, _ in found.append(item) }
        #expect(found.sorted() == [0, 1])
    }

    @Test func allBoxesInOnePlace() {
        // Every centre in one cell of the curve: the order falls back to the items'.
        let boxes = Array(repeating: BoundingBox(120, 28, 120.001, 28.001), count: 100)
        var found: [Int] = []
        BoxIndex(boxes).search(BoundingBox(120, 28, 120, 28)) { item, _ in found.append(item) }
        #expect(found.sorted() == Array(0..<100))
    }
}

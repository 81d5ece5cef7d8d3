import GeoCore
import Testing

/// The curve the packed trees sort their items by.
struct HilbertCurveTests {
    @Test func hilbertVisitsEveryCellOnce() {
        // On the full 2¹⁶ grid the curve is a bijection; its corners are where it starts and ends.
        #expect(HilbertCurve.index(0, 0) == 0)
        #expect(HilbertCurve.index(65_535, 0) == UInt32.max)
        var seen = Set<UInt32>()
        for x in UInt32(0)..<64 { for y in UInt32(0)..<64 { seen.insert(HilbertCurve.index(x * 1024, y * 1024) >> 20) } }
        #expect(seen.count == 4096)
    }
}

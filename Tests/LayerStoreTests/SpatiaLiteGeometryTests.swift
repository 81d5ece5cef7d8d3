import Foundation
import GeoCore
import Testing

@testable import LayerStore

/// `SpatiaLiteGeometry.fromWKB` rewrites WKB into a blob byte for byte; it must give exactly
/// what encoding the decoded geometry gives, and refuse what it cannot rewrite.
struct SpatiaLiteGeometryTests {
    let box = BoundingBox(119.9, 28.4, 120.1, 28.6)

    func ring(_ x: Double, _ y: Double, _ s: Double) -> [Coordinate] {
        [Coordinate(x, y), Coordinate(x + s, y), Coordinate(x + s, y + s), Coordinate(x, y + s), Coordinate(x, y)]
    }

    var shapes: [Geometry] {
        [
            .multiPolygon([
                Polygon([ring(119.9, 28.4, 0.1), ring(119.92, 28.42, 0.01)]), Polygon([ring(120.0, 28.5, 0.05)])
            ]),
            .multiLineString([
                [Coordinate(119.9, 28.4), Coordinate(120, 28.5), Coordinate(120.1, 28.45)],
                [Coordinate(120, 28.6), Coordinate(120.01, 28.6)]
            ]),
            .multiPoint([Coordinate(119.95, 28.45), Coordinate(120.05, 28.55)])
        ]
    }

    @Test func wkbAndExtendedWKBBecomeTheBlobEncodingGives() throws {
        for g in shapes {
            let want = SpatiaLiteGeometry.encode(g, srid: 4490, box: box)
            for wkb in [WKB.encode(g), WKB.encodeExtended(g, srid: 4490)] {
                let got = wkb.withUnsafeBytes { SpatiaLiteGeometry.fromWKB($0, srid: 4490, box: box) }
                #expect(got == want, "\(g.typeName)")
                #expect(try SpatiaLiteGeometry.decode(try #require(got)) == g)
            }
        }
    }

    @Test func whatCannotBeRewrittenIsLeftToTheDecoder() {
        let polygon = Geometry.polygon(Polygon([ring(119.9, 28.4, 0.1)]))
        var big = WKB.encode(shapes[0])
        big[0] = 0  // says big-endian
        let cut = Array(WKB.encode(shapes[0]).dropLast(8))
        var extra = WKB.encode(shapes[1])
        extra.append(0)
        var z = WKB.encode(shapes[2])
        z[1] = 0xEC  // 1004: MultiPoint Z
        z[2] = 0x03
        for bytes in [WKB.encode(polygon), big, cut, extra, z, []] {
            #expect(bytes.withUnsafeBytes { SpatiaLiteGeometry.fromWKB($0, srid: 4490, box: box) } == nil)
        }
    }
}

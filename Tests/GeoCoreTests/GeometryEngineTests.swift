import Foundation
import Testing

@testable import GeoCore

struct GeometryEngineTests {
    func square(_ x: Double, _ y: Double, _ s: Double) -> Geometry {
        .polygon(Polygon([[Coordinate(x, y), Coordinate(x + s, y), Coordinate(x + s, y + s), Coordinate(x, y + s), Coordinate(x, y)]]))
    }

    @Test func intersectionArea() throws {
        let e = GeometryEngine()
        let a = try e.make(square(0, 0, 10)), b = try e.make(square(5, 5, 10))
        #expect(try a.intersection(b).planarArea() == 25)
        #expect(try a.union(b).planarArea() == 175)
        #expect(try a.intersects(b))
        #expect(try !a.intersects(try e.make(square(20, 20, 1))))
    }

    @Test func roundTripThroughGEOSKeepsHoles() throws {
        let e = GeometryEngine()
        let g = Geometry.multiPolygon([
            Polygon([
                [Coordinate(0, 0), Coordinate(10, 0), Coordinate(10, 10), Coordinate(0, 10), Coordinate(0, 0)],
                [Coordinate(2, 2), Coordinate(2, 4), Coordinate(4, 4), Coordinate(4, 2), Coordinate(2, 2)]
            ])
        ])
        let back = try e.make(g).value()
        #expect(back == g)
        #expect(try e.make(g).planarArea() == 96)
    }

    @Test func bowTieIsReportedAndRepaired() throws {
        let e = GeometryEngine()
        let bowTie = Geometry.polygon(
            Polygon([[Coordinate(0, 0), Coordinate(10, 10), Coordinate(10, 0), Coordinate(0, 10), Coordinate(0, 0)]]))
        let g = try e.make(bowTie)
        let reason = try e.invalidityReason(g)
        #expect(reason?.contains("Self-intersection") == true)
        let fixed = try e.makeValid(g)
        #expect(try e.invalidityReason(fixed) == nil)
        #expect(abs(try fixed.planarArea() - 50) < 1e-9)
        #expect(try fixed.value().polygons.count == 2)
    }

    @Test func unclosedRingCarriesGEOSMessage() {
        let e = GeometryEngine()
        let open = Geometry.polygon(Polygon([[Coordinate(0, 0), Coordinate(1, 0), Coordinate(1, 1), Coordinate(0, 1)]]))
        do {
            _ = try e.make(open)
            Issue.record("expected an error")
        } catch let err as LibraryError {
            #expect(err.library == "GEOS")
            #expect(err.message.lowercased().contains("closed"))
        } catch { Issue.record("unexpected \(error)") }
        #expect(throws: Never.self) { try e.make(open.closingRings) }
    }

    /// A part that GEOS refuses after others were built: the error says why, the parts built
    /// so far are destroyed (no leak, no double free), and the engine goes on working.
    @Test func aBadLaterPartFailsCleanly() throws {
        let e = GeometryEngine()
        let good = Polygon([[Coordinate(0, 0), Coordinate(1, 0), Coordinate(1, 1), Coordinate(0, 0)]])
        let open = Polygon([[Coordinate(2, 0), Coordinate(3, 0), Coordinate(3, 1), Coordinate(2, 1)]])
        for _ in 0..<200 {
            #expect(throws: LibraryError.self) { try e.make(.multiPolygon([good, good, open])) }
            #expect(throws: LibraryError.self) { try e.make(.collection([.polygon(good), .multiPolygon([good, open])])) }
        }
        #expect(try e.make(.multiPolygon([good, good])).value().polygons.count == 2)
    }

    @Test func preparedPredicates() throws {
        let e = GeometryEngine()
        let site = try e.make(square(0, 0, 10)).prepared()
        #expect(try site.containsProperly(try e.make(square(1, 1, 2))))
        #expect(try !site.containsProperly(try e.make(square(0, 0, 2))))  // touches the boundary
        #expect(try site.intersects(try e.make(square(9, 9, 5))))
    }

    @Test func wkbRoundTrip() throws {
        let g = Geometry.collection([
            .point(Coordinate(1, 2)), .lineString([Coordinate(0, 0), Coordinate(1, 1)]),
            square(0, 0, 1), .multiPolygon([Polygon([[Coordinate(0, 0), Coordinate(1, 0), Coordinate(0, 1), Coordinate(0, 0)]])])
        ])
        #expect(try WKB.decode(WKB.encode(g)) == g)
        #expect(throws: GeometryFormatError.self) { try WKB.decode(Array(WKB.encode(g).prefix(20))) }
        // A count claiming billions of points must not allocate: it is checked against the bytes left.
        var bogus = WKB.encode(.lineString([Coordinate(0, 0)]))
        bogus[5] = 0xFF; bogus[6] = 0xFF; bogus[7] = 0xFF; bogus[8] = 0x7F
        #expect(throws: GeometryFormatError.self) { try WKB.decode(bogus) }
    }
}

/// The fast path must never call a ring simple that GEOS calls invalid.
struct RingValidityTests {
    @Test func agreesWithGEOSOnRandomRings() throws {
        let e = GeometryEngine()
        var seed: UInt64 = 42
        func next() -> Double {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Double(seed >> 11) / Double(1 << 53)
        }
        var simple = 0
        for _ in 0..<5000 {
            let n = 3 + Int(next() * 8)
            // Coarse grid coordinates make touching and collinear cases common.
            var ring = (0..<n).map { _ in Coordinate((next() * 6).rounded(), (next() * 6).rounded()) }
            ring.append(ring[0])
            let fast = RingValidity.isCertainlySimple(ring)
            if fast {
                simple += 1
                let reason = try e.invalidityReason(try e.make(.polygon(Polygon([ring]))))
                #expect(reason == nil, "fast path accepted an invalid ring \(ring): \(reason ?? "")")
            }
        }
        #expect(simple > 100, "the fast path should accept ordinary rings")
        let square = [Coordinate(0, 0), Coordinate(1, 0), Coordinate(1, 1), Coordinate(0, 1), Coordinate(0, 0)]
        #expect(RingValidity.isCertainlySimple(square))
        let bowTie = [Coordinate(0, 0), Coordinate(1, 1), Coordinate(1, 0), Coordinate(0, 1), Coordinate(0, 0)]
        #expect(!RingValidity.isCertainlySimple(bowTie))
        let spike = [Coordinate(0, 0), Coordinate(2, 0), Coordinate(1, 0), Coordinate(1, 1), Coordinate(0, 0)]
        #expect(!RingValidity.isCertainlySimple(spike))
    }
}

/// Convex clipping must give the same areas as GEOS's overlay.
struct ConvexRegionTests {
    @Test func clipAreaMatchesGEOSIntersection() throws {
        let e = GeometryEngine()
        var seed: UInt64 = 7
        func next() -> Double {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Double(seed >> 11) / Double(1 << 53)
        }
        var compared = 0
        for _ in 0..<500 {
            // A rotated rectangle site and a random star-shaped parcel, sometimes with a hole.
            let cx = next(), cy = next(), w = 0.2 + next(), h = 0.2 + next(), a = next() * 3
            let site = Polygon([
                [(-1.0, -1.0), (1, -1), (1, 1), (-1, 1), (-1, -1)].map {
                    Coordinate(cx + $0.0 * w * cos(a) - $0.1 * h * sin(a), cy + $0.0 * w * sin(a) + $0.1 * h * cos(a))
                }
            ])
            let n = 3 + Int(next() * 9)
            var ring = (0..<n).map { i -> Coordinate in
                let t = Double(i) / Double(n) * 2 * .pi, r = 0.2 + next() * 0.8
                return Coordinate(0.5 + r * cos(t), 0.5 + r * sin(t))
            }
            ring.append(ring[0])
            var parcel = Polygon([ring])
            if next() < 0.3 {
                parcel.rings.append([
                    Coordinate(0.45, 0.45), Coordinate(0.45, 0.55), Coordinate(0.55, 0.55), Coordinate(0.55, 0.45), Coordinate(0.45, 0.45)
                ])
            }
            let region = try #require(ConvexRegion(site))
            let clipped = region.clip(parcel)
            let fast =
                clipped.map { p in
                    p.rings.enumerated().reduce(0.0) { sum, item in
                        let r = item.1
                        var s = 0.0
                        for i in 0..<(r.count - 1) { s += r[i].x * r[i + 1].y - r[i + 1].x * r[i].y }
                        return sum + (item.0 == 0 ? abs(s) / 2 : -abs(s) / 2)
                    }
                } ?? 0
            let exact = try e.make(.polygon(site)).intersection(try e.make(.polygon(parcel))).planarArea()
            #expect(abs(fast - exact) < 1e-9, "clip area \(fast) vs GEOS \(exact)")
            compared += 1
        }
        #expect(compared == 500)
        #expect(
            ConvexRegion(Polygon([[Coordinate(0, 0), Coordinate(2, 0), Coordinate(1, 0.5), Coordinate(1, 2), Coordinate(0, 0)]])) == nil)
    }

    /// A box called disjoint must really miss the region (GEOS agrees), and the test must
    /// catch the corners of a rotated site's box, which is what it is for.
    @Test func disjointBoxesReallyMissTheRegion() throws {
        let e = GeometryEngine()
        let diamond = Self.diamond
        let region = try #require(ConvexRegion(diamond))
        let site = try e.make(.polygon(diamond))
        var random = UnitRandom(seed: 11)
        func next() -> Double { random.next() }
        var skipped = 0, total = 0
        for _ in 0..<2000 {
            let x = next() * 3 - 1.5, y = next() * 3 - 1.5, w = next() * 0.4, h = next() * 0.4
            let box = BoundingBox(x, y, x + w, y + h)
            let boxPolygon = try e.make(
                .polygon(
                    Polygon([
                        [
                            Coordinate(x, y), Coordinate(x + w, y), Coordinate(x + w, y + h),
                            Coordinate(x, y + h), Coordinate(x, y)
                        ]
                    ])))
            total += 1
            if region.isDisjoint(from: box) {
                skipped += 1
                #expect(try site.intersection(boxPolygon).planarArea() == 0, "box \(box) called disjoint but overlaps")
            }
        }
        // Corner boxes are skipped without being apart from the site's box.
        #expect(region.isDisjoint(from: BoundingBox(0.7, 0.7, 0.9, 0.9)))
        #expect(!region.isDisjoint(from: BoundingBox(0.2, 0.2, 0.9, 0.9)))
        #expect(skipped > 200 && skipped < total)
    }

    /// A box called strictly inside must be, by GEOS's containsProperly too (a check then takes
    /// the feature's stored area as its overlap without decoding it), and boxes touching the
    /// edge are not.
    @Test func boxesStrictlyInsideReallyAre() throws {
        let e = GeometryEngine()
        let diamond = Self.diamond
        let region = try #require(ConvexRegion(diamond))
        let site = try e.make(.polygon(diamond)).prepared()
        var random = UnitRandom(seed: 13)
        func next() -> Double { random.next() }
        var inside = 0, outside = 0
        for _ in 0..<2000 {
            let x = next() * 2 - 1, y = next() * 2 - 1, w = next() * 0.6, h = next() * 0.6
            let box = Polygon([[Coordinate(x, y), Coordinate(x + w, y), Coordinate(x + w, y + h), Coordinate(x, y + h), Coordinate(x, y)]])
            let geos = try site.containsProperly(try e.make(.polygon(box)))
            #expect(region.containsStrictly(BoundingBox(x, y, x + w, y + h)) == geos, "box \(x) \(y) \(w) \(h)")
            if geos { inside += 1 } else { outside += 1 }
        }
        #expect(inside > 100 && outside > 100)
        #expect(!region.containsStrictly(BoundingBox(0, 0, 0.5, 0.5)))  // its corner is on the edge
        #expect(region.containsStrictly(BoundingBox(0, 0, 0.49, 0.49)))
    }

    /// A diamond: its box's corners are outside it.
    static let diamond = Polygon([[Coordinate(0, -1), Coordinate(1, 0), Coordinate(0, 1), Coordinate(-1, 0), Coordinate(0, -1)]])

    /// Numbers in [0, 1) from a seed (a 64-bit linear congruential generator): the same
    /// boxes in every run.
    struct UnitRandom {
        var seed: UInt64
        mutating func next() -> Double {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Double(seed >> 11) / Double(1 << 53)
        }
    }
}

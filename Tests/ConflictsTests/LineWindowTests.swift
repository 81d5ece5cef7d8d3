import GeoCore
import Testing

@testable import Conflicts

/// Lines cut down to the segments near a site: what is kept must be exactly the line's own
/// segments that meet the box, in runs, and nothing that meets it may be dropped.
struct LineWindowTests {
    let box = BoundingBox(0, 0, 1, 1)

    @Test func keepsOnlyTheSegmentsThatMeetTheBox() throws {
        // West to east along y = 0.5, a vertex every 0.5: segments from -5 to 6.
        let line = stride(from: -5.0, through: 6.0, by: 0.5).map { Coordinate($0, 0.5) }
        let clipped = try #require(LineWindow.clip(.lineString(line), to: box))
        // Segments [-0.5,0] (touches x = 0), [0,0.5], [0.5,1], [1,1.5] (touches x = 1).
        #expect(clipped.lineStrings == [[-0.5, 0, 0.5, 1, 1.5].map { Coordinate($0, 0.5) }])
    }

    @Test func aSegmentCrossingTheBoxIsKeptThoughBothEndsAreOutside() {
        #expect(LineWindow.meets(Coordinate(-1, -1), Coordinate(2, 2), box))
        #expect(LineWindow.meets(Coordinate(0.5, -3), Coordinate(0.5, 3), box))
    }

    @Test func aSegmentPassingACornerIsDroppedButOneTouchingItIsKept() {
        // Their boxes overlap the box; only the second reaches the corner (1, 1).
        #expect(!LineWindow.meets(Coordinate(0.5, 2), Coordinate(2, 1.2), box))
        #expect(LineWindow.meets(Coordinate(0, 2), Coordinate(2, 0), box))
        #expect(LineWindow.meets(Coordinate(1, 2), Coordinate(2, 1), box) == false)
        #expect(LineWindow.meets(Coordinate(0.5, 1.5), Coordinate(1.5, 0.5), box))
    }

    @Test func aLineLeavingAndComingBackGivesTwoRuns() throws {
        let line = [
            Coordinate(0.2, 0.5), Coordinate(0.4, 0.5), Coordinate(0.4, 5), Coordinate(0.6, 5), Coordinate(0.6, 0.5), Coordinate(0.8, 0.5)
        ]
        let clipped = try #require(LineWindow.clip(.lineString(line), to: box))
        #expect(
            clipped.lineStrings == [
                [Coordinate(0.2, 0.5), Coordinate(0.4, 0.5), Coordinate(0.4, 5)],
                [Coordinate(0.6, 5), Coordinate(0.6, 0.5), Coordinate(0.8, 0.5)]
            ])
    }

    @Test func aLineAwayFromTheBoxGivesNothing() {
        #expect(LineWindow.clip(.lineString([Coordinate(2, 2), Coordinate(3, 2), Coordinate(3, 3)]), to: box)?.lineStrings == nil)
        #expect(
            LineWindow.clip(.multiLineString([[Coordinate(-2, -2), Coordinate(-1, -2)], [Coordinate(5, 5), Coordinate(6, 6)]]), to: box)?
                .lineStrings == nil)
    }
}

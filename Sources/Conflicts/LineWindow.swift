import GeoCore

/// The part of a line that can matter near a site: the runs of consecutive segments that meet
/// a box around it.
///
/// A pipeline is a line of hundreds of vertices running across a county, but only the few
/// segments near a site decide its distance to the site, its length inside it and the
/// protection corridor over it, and handing GEOS the whole line for every check (to test it,
/// measure the distance and buffer it) costs far more than those few segments.
enum LineWindow {
    /// The lines of `geometry` cut down to the segments that meet `box`, kept as runs of
    /// consecutive segments so the geometry near the box is the line's own; nil when no
    /// segment meets it.
    ///
    /// Callers pass a box with slack around the site (the buffer plus a metre and 1%): a
    /// segment that only grazes a corner of it is farther from the site than the buffer, so
    /// how rounding decides such a segment changes no answer.
    static func clip(_ geometry: Geometry, to box: BoundingBox) -> Geometry? {
        var runs: [[Coordinate]] = []
        for line in geometry.lineStrings {
            var run: [Coordinate] = []
            for i in 1..<max(1, line.count) {
                let a = line[i - 1], b = line[i]
                if meets(a, b, box) {
                    if run.isEmpty { run.append(a) }
                    run.append(b)
                } else if !run.isEmpty {
                    runs.append(run)
                    run = []
                }
            }
            if !run.isEmpty { runs.append(run) }
        }
        guard !runs.isEmpty else { return nil }
        return runs.count == 1 ? .lineString(runs[0]) : .multiLineString(runs)
    }

    /// Whether the segment a–b meets the closed box: their boxes overlap and the box is not
    /// wholly on one side of the segment's line (the separating-axis test).
    static func meets(_ a: Coordinate, _ b: Coordinate, _ box: BoundingBox) -> Bool {
        if max(a.x, b.x) < box.minX || min(a.x, b.x) > box.maxX || max(a.y, b.y) < box.minY || min(a.y, b.y) > box.maxY {
            return false
        }
        let dx = b.x - a.x, dy = b.y - a.y
        func side(_ x: Double, _ y: Double) -> Double { dx * (y - a.y) - dy * (x - a.x) }
        let s1 = side(box.minX, box.minY), s2 = side(box.maxX, box.minY)
        let s3 = side(box.maxX, box.maxY), s4 = side(box.minX, box.maxY)
        if s1 > 0 && s2 > 0 && s3 > 0 && s4 > 0 { return false }
        if s1 < 0 && s2 < 0 && s3 < 0 && s4 < 0 { return false }
        return true
    }
}

/// Polygons drawn as boxes at overview zooms.
///
/// At an overview zoom a farmland parcel is a few pixels across: its outline, however exactly
/// it is cut, shows nothing its box does not, but it costs the tile a decoded shape, a clip,
/// a simplification and a validity check. Such a polygon is drawn as its bounding box shrunk
/// about the box's centre to the polygon's own area: where it is, how large and how elongated
/// it is, for four corners. (tippecanoe turns tiny polygons into squares of their area; a box
/// keeps the proportions and the place as well.)
///
/// The sides are whole tile units, so each box's area is rounded; the rounding is carried from
/// box to box (error diffusion), so the boxes of a tile add up to the data's area within one
/// box's rounding, and the coverage a renderer fills stays true.
struct AreaBoxes {
    /// The clip window, tile units (the tile and its buffer).
    let low: Double
    let high: Double
    private var carry = 0.0

    init(low: Double, high: Double) {
        self.low = low
        self.high = high
    }

    /// The box of a polygon whose bounding box is [x0, x1] × [y0, y1] (tile units, y down) and
    /// whose area is `area` (tile units²), clipped to the window; nil when nothing of it is drawn.
    mutating func box(x0: Double, y0: Double, x1: Double, y1: Double, area: Double) -> EncodedGeometry? {
        let w = x1 - x0, h = y1 - y0
        guard w > 0, h > 0, area > 0 else { return nil }
        let want = area + carry
        guard want > 0 else { carry = want; return nil }
        // Never larger than the bounding box: the box stays where the polygon is.
        let f = min(1, (want / (w * h)).squareRoot())
        let iw = max(1, (w * f).rounded()), ih = max(1, (h * f).rounded())
        carry = want - iw * ih
        let left = ((x0 + x1) / 2 - iw / 2).rounded(), top = ((y0 + y1) / 2 - ih / 2).rounded()
        // What lies past the window is drawn by the neighbouring tile.
        let l = max(left, low), r = min(left + iw, high), t = max(top, low), b = min(top + ih, high)
        guard r > l, b > t else { return nil }
        // Not `outlines`: a box is as simple as it gets, so a tile over its budget leaves it be.
        return EncodedGeometry(
            type: .polygon, commands: MVTGeometryWriter.rectangle(Int32(l), Int32(t), Int32(r), Int32(b)),
            area: (r - l) * (b - t))
    }
}

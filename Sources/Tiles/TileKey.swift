/// One tile of a tile matrix set: zoom level (tile matrix), column and row, counted from the
/// top-left corner as in XYZ URLs and WMTS (TILEMATRIX / TILECOL / TILEROW).
public struct TileKey: Hashable, Sendable, CustomStringConvertible {
    public let z: Int
    public let x: Int
    public let y: Int

    public init(z: Int, x: Int, y: Int) {
        self.z = z
        self.x = x
        self.y = y
    }

    public var description: String { "\(z)/\(x)/\(y)" }
}

import GeoCore

/// Anything that can make one MVT layer for a tile. The service sees only this, so a source
/// backed by the SpatiaLite store, by another database or by files is all the same to it.
public protocol TileSource: Sendable {
    /// The MVT layer name (the layer's name in the catalog).
    var name: String { get }
    /// Changes whenever the data changes ("farmland@3"): part of every cache key and ETag,
    /// so a reload is seen at once, with no purge.
    var revision: String { get }
    var info: TileLayerInfo { get }
    /// The tile as a serialised one-layer MVT `Tile` message; empty when nothing falls in it.
    func tile(_ key: TileKey, grid: TileMatrixSet) throws -> [UInt8]
}

/// What TileJSON says about a layer.
public struct TileLayerInfo: Sendable {
    public var name: String
    public var title: String
    /// "Polygon", "LineString" or "Point".
    public var geometryType: String
    /// Attribute name → "String" or "Number", in the layer's order.
    public var fields: [(name: String, type: String)]
    public var bounds: BoundingBox?
    public var featureCount: Int
    public var minZoom: Int
    public var maxZoom: Int
}

/// How tiles are cut. The defaults follow common practice (extent 4096, a 64-unit buffer,
/// i.e. 8 pixels of a 512-pixel tile) and keep every tile of a dense layer under 500 KiB.
public struct TileOptions: Sendable, Hashable {
    /// Tile units per side.
    public var extent: Int
    /// Tile units drawn past each edge, so strokes and labels meet across tiles.
    public var buffer: Int
    /// Douglas–Peucker tolerance in tile units (1/4096 of a tile: an eighth of a pixel at 512 px).
    public var tolerance: Double
    /// Polygons whose box is smaller than this (tile units) are drawn as coverage, not outlines:
    /// 24 units is 3 pixels of a 512-pixel tile, below which an outline shows nothing a
    /// filled square of the same area does not.
    public var minFeatureSize: Double
    /// At overview zooms (up to `overviewMaxZoom`), polygons whose box is smaller than this
    /// (tile units) are drawn as their box shrunk to their area (`AreaBoxes`), not as outlines:
    /// 96 units is 12 pixels of a 512-pixel tile, and at z12 a pixel is already ~17 m in
    /// Lishui, so a parcel's outline there is a few pixels of jagged edge. From z13, where a
    /// planner reads single parcels, every polygon over `minFeatureSize` keeps its outline.
    public var overviewBoxSize: Double
    public var overviewMaxZoom: Int
    /// Side of a coverage cell in tile units.
    public var coverageCell: Int
    /// The most bytes one layer of one tile may take; past it the tile is generalised harder.
    public var layerBudget: Int
    /// Layers with at least this many features keep a summary in memory for low zooms.
    public var summaryThreshold: Int
    /// The most features one layer of one tile may hold (a limit against pathological data
    /// as much as a size one): past it the smallest polygons join the coverage squares and
    /// the smallest lines and points are left for higher zooms, as tippecanoe drops them.
    public var maxFeatures: Int

    public init(
        extent: Int = 4096, buffer: Int = 64, tolerance: Double = 1, minFeatureSize: Double = 24,
        overviewBoxSize: Double = 96, overviewMaxZoom: Int = 12,
        coverageCell: Int = 32, layerBudget: Int = 450 * 1024, summaryThreshold: Int = 4096, maxFeatures: Int = 20_000
    ) {
        self.overviewBoxSize = overviewBoxSize
        self.overviewMaxZoom = overviewMaxZoom
        self.maxFeatures = max(1, maxFeatures)
        self.extent = extent
        self.buffer = buffer
        self.tolerance = tolerance
        self.minFeatureSize = minFeatureSize
        self.coverageCell = coverageCell
        self.layerBudget = layerBudget
        self.summaryThreshold = summaryThreshold
    }

    /// Below this size (tile units) a polygon is drawn as its area box at zoom z.
    func boxSize(z: Int) -> Double { z <= overviewMaxZoom ? overviewBoxSize : 0 }

    /// Goes into ETags, so a change of cutting rules is a change of tiles.
    var signature: String {
        // "u1": land-use coverage merged by class; "k2": other coverage and touching overview
        // parcels coalesced into blocks.
        "e\(extent)b\(buffer)t\(tolerance)m\(minFeatureSize)o\(overviewBoxSize)z\(overviewMaxZoom)c\(coverageCell)l\(layerBudget)f\(maxFeatures)u1k2"
    }
}

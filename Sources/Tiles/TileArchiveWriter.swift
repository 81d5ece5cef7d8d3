import Foundation
import GeoCore

/// Where `onemap tiles export` puts the tiles it makes: a PMTiles or MBTiles file. Tiles come
/// one at a time (from one thread at a time), gzipped, empty ones never; `finish` writes what
/// describes them and completes the file.
public protocol TileArchiveWriter: AnyObject {
    func add(_ key: TileKey, gzipped bytes: [UInt8]) throws
    func finish(_ description: TileArchiveDescription) throws
}

/// What an archive says about its tiles: the zooms and area they cover, and the TileJSON-style
/// metadata (`vector_layers` with each layer's fields and zooms) a client styles them by.
public struct TileArchiveDescription: @unchecked Sendable {
    public var minZoom = 0
    public var maxZoom = 0
    public var bounds = BoundingBox(-180, -85.0511287798066, 180, 85.0511287798066)
    public var centerZoom = 0
    /// JSON-serialisable.
    public var metadata: [String: Any] = [:]
    public var grid = TileMatrixSet.webMercatorQuad

    public init() {}
}

public struct TileArchiveError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

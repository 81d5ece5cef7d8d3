/// Mapbox Vector Tile 2.1 encoding, by hand: a layer collects features, interns keys and
/// values (each distinct key and value is written once per layer), and serialises to a
/// `Tile` message holding that one layer. Tiles of several layers are the concatenation of
/// their one-layer messages, since `Tile.layers` is a repeated field.
public enum MVTGeometryType: UInt64, Sendable {
    case unknown = 0
    case point = 1
    case lineString = 2
    case polygon = 3
}

/// A property value, typed as the MVT `Value` message types it.
public enum MVTValue: Hashable, Sendable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
}

/// Geometry commands (MoveTo, LineTo, ClosePath) with zigzag-encoded deltas from a cursor
/// that starts at (0, 0) for every feature.
public struct MVTGeometryWriter {
    public private(set) var commands: [UInt32] = []
    private var cx: Int32 = 0
    private var cy: Int32 = 0

    public init() {}

    public var isEmpty: Bool { commands.isEmpty }

    @inline(__always) static func command(_ id: UInt32, _ count: Int) -> UInt32 { id & 0x7 | UInt32(count) << 3 }

    @inline(__always) private mutating func delta(_ p: TilePoint) {
        commands.append(ProtobufWriter.zigzag(p.x &- cx))
        commands.append(ProtobufWriter.zigzag(p.y &- cy))
        cx = p.x
        cy = p.y
    }

    /// Points (one MoveTo with a count).
    public mutating func points(_ ps: [TilePoint]) {
        guard !ps.isEmpty else { return }
        commands.append(Self.command(1, ps.count))
        for p in ps { delta(p) }
    }

    /// One line string of at least two points, consecutive points distinct.
    public mutating func lineString(_ ps: [TilePoint]) {
        guard ps.count >= 2 else { return }
        commands.append(Self.command(1, 1))
        delta(ps[0])
        commands.append(Self.command(2, ps.count - 1))
        for p in ps.dropFirst() { delta(p) }
    }

    /// One ring, open (the first point not repeated), at least three points.
    public mutating func ring(_ ps: [TilePoint]) {
        guard ps.count >= 3 else { return }
        commands.append(Self.command(1, 1))
        delta(ps[0])
        commands.append(Self.command(2, ps.count - 1))
        for p in ps.dropFirst() { delta(p) }
        commands.append(Self.command(7, 1))
    }
}

public struct MVTLayerBuilder {
    public let name: String
    public let extent: Int
    private var keys: [String] = []
    private var keyIndex: [String: UInt32] = [:]
    private var values: [MVTValue] = []
    private var valueIndex: [MVTValue: UInt32] = [:]
    private var features = ProtobufWriter()
    public private(set) var featureCount = 0

    public init(name: String, extent: Int = 4096) {
        self.name = name
        self.extent = extent
    }

    public mutating func keyIndex(_ key: String) -> UInt32 {
        if let i = keyIndex[key] { return i }
        let i = UInt32(keys.count)
        keys.append(key)
        keyIndex[key] = i
        return i
    }

    public mutating func valueIndex(_ value: MVTValue) -> UInt32 {
        if let i = valueIndex[value] { return i }
        let i = UInt32(values.count)
        values.append(value)
        valueIndex[value] = i
        return i
    }

    /// Adds a feature; `tags` are (key index, value index) pairs from `keyIndex`/`valueIndex`.
    public mutating func addFeature(id: UInt64?, type: MVTGeometryType, geometry: [UInt32], tags: [UInt32]) {
        var f = ProtobufWriter()
        f.bytes.reserveCapacity(geometry.count * 2 + tags.count * 2 + 16)
        if let id { f.varintField(1, id) }
        if !tags.isEmpty { f.packedField(2, tags) }
        f.varintField(3, type.rawValue)
        f.packedField(4, geometry)
        features.bytesField(2, f.bytes)
        featureCount += 1
    }

    public mutating func addFeature(id: UInt64?, type: MVTGeometryType, geometry: [UInt32], properties: [(String, MVTValue)]) {
        var tags: [UInt32] = []
        tags.reserveCapacity(properties.count * 2)
        for (k, v) in properties {
            tags.append(keyIndex(k))
            tags.append(valueIndex(v))
        }
        addFeature(id: id, type: type, geometry: geometry, tags: tags)
    }

    /// The serialised `Tile` message with this one layer; empty when it has no features.
    public func encoded() -> [UInt8] {
        guard featureCount > 0 else { return [] }
        var layer = ProtobufWriter()
        layer.bytes.reserveCapacity(features.bytes.count + keys.count * 12 + values.count * 16 + 32)
        layer.varintField(15, 2)
        layer.stringField(1, name)
        layer.bytes.append(contentsOf: features.bytes)
        for k in keys { layer.stringField(3, k) }
        for v in values {
            var w = ProtobufWriter()
            switch v {
            case .string(let s): w.stringField(1, s)
            case .double(let d): w.doubleField(3, d)
            case .int(let n): if n >= 0 { w.varintField(5, UInt64(n)) } else { w.varintField(6, ProtobufWriter.zigzag64(n)) }
            case .bool(let b): w.varintField(7, b ? 1 : 0)
            }
            layer.bytesField(4, w.bytes)
        }
        layer.varintField(5, UInt64(extent))
        var tile = ProtobufWriter()
        tile.bytesField(3, layer.bytes)
        return tile.bytes
    }
}

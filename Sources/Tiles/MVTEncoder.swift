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

    /// A feature's whole geometry when it is one rectangle [left, right] × [top, bottom]
    /// (right > left, bottom > top): the exterior ring, clockwise on screen (positive area).
    public static func rectangle(_ left: Int32, _ top: Int32, _ right: Int32, _ bottom: Int32) -> [UInt32] {
        let w = right &- left, h = bottom &- top
        return [
            command(1, 1), ProtobufWriter.zigzag(left), ProtobufWriter.zigzag(top),
            command(2, 3), ProtobufWriter.zigzag(w), 0, 0, ProtobufWriter.zigzag(h), ProtobufWriter.zigzag(0 &- w), 0,
            command(7, 1)
        ]
    }

    /// One ring, open (the first point not repeated), at least three points.
    public mutating func ring(_ ps: [TilePoint]) {
        guard ps.count >= 3 else { return }
        // Exactly enough for a lone ring (most polygons); later rings grow the array the usual
        // (geometric) way, since reserving exact sizes each time would copy it over and over.
        if commands.isEmpty { commands.reserveCapacity(3 + 2 * ps.count) }
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
    private var valueIndex: [MVTValueKey: UInt32] = [:]
    private var internedIndex: [Int64: UInt32] = [:]
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
        let key = MVTValueKey(value)
        if let i = valueIndex[key] { return i }
        let i = UInt32(values.count)
        values.append(value)
        valueIndex[key] = i
        return i
    }

    /// The index of an interned value (a resident layer's field and value number, packed in
    /// one integer): an integer lookup, where `valueIndex(_:)` hashes the value's bytes. A
    /// layer's values come all one way or all the other, so no value is listed twice.
    public mutating func valueIndex(interned key: Int64, _ value: () -> MVTValue) -> UInt32 {
        if let i = internedIndex[key] { return i }
        let i = UInt32(values.count)
        values.append(value())
        internedIndex[key] = i
        return i
    }

    /// Appends a value without looking for it: one known to be new to the tile (a feature's
    /// own entry of a field whose values are nearly all distinct), so hashing it buys nothing.
    public mutating func addValue(_ value: MVTValue) -> UInt32 {
        values.append(value)
        return UInt32(values.count - 1)
    }

    /// Room for about this many features and distinct values, so a dense tile does not
    /// rehash its value table again and again.
    public mutating func reserve(features count: Int, values: Int, interned: Bool = false) {
        if interned { internedIndex.reserveCapacity(values) } else { valueIndex.reserveCapacity(values) }
        self.values.reserveCapacity(values)
        features.bytes.reserveCapacity(count * 48)
    }

    /// Adds a feature; `tags` are (key index, value index) pairs from `keyIndex`/`valueIndex`.
    /// Written straight into the layer (its length worked out first), with no buffer per feature.
    public mutating func addFeature(id: UInt64?, type: MVTGeometryType, geometry: [UInt32], tags: [UInt32]) {
        var tagBytes = 0
        for t in tags { tagBytes += ProtobufWriter.varintSize(UInt64(t)) }
        var geometryBytes = 0
        for g in geometry { geometryBytes += ProtobufWriter.varintSize(UInt64(g)) }
        // Each field is a one-byte key and its value: type (one byte), geometry (length, then
        // the varints), and the id and tags when present.
        var length = 2 + 1 + ProtobufWriter.varintSize(UInt64(geometryBytes)) + geometryBytes
        if let id { length += 1 + ProtobufWriter.varintSize(id) }
        if !tags.isEmpty { length += 1 + ProtobufWriter.varintSize(UInt64(tagBytes)) + tagBytes }
        features.key(2, .lengthDelimited)
        features.varint(UInt64(length))
        if let id { features.varintField(1, id) }
        if !tags.isEmpty { features.packedField(2, tags, size: tagBytes) }
        features.varintField(3, type.rawValue)
        features.packedField(4, geometry, size: geometryBytes)
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
    /// Sizes are worked out first, so the bytes are written once, into one buffer.
    public func encoded() -> [UInt8] {
        guard featureCount > 0 else { return [] }
        func valueSize(_ v: MVTValue) -> Int {
            switch v {
            case .string(let s): let n = s.utf8.count; return 1 + ProtobufWriter.varintSize(UInt64(n)) + n
            case .double: return 9
            case .int(let n): return 1 + ProtobufWriter.varintSize(n >= 0 ? UInt64(n) : ProtobufWriter.zigzag64(n))
            case .bool: return 2
            }
        }
        func fieldSize(_ payload: Int) -> Int { 1 + ProtobufWriter.varintSize(UInt64(payload)) + payload }
        var layerSize = 2 + fieldSize(name.utf8.count) + features.bytes.count + 1 + ProtobufWriter.varintSize(UInt64(extent))
        for k in keys { layerSize += fieldSize(k.utf8.count) }
        for v in values { layerSize += fieldSize(valueSize(v)) }
        var tile = ProtobufWriter()
        tile.bytes.reserveCapacity(fieldSize(layerSize))
        tile.key(3, .lengthDelimited)
        tile.varint(UInt64(layerSize))
        tile.varintField(15, 2)
        tile.stringField(1, name)
        tile.bytes.append(contentsOf: features.bytes)
        for k in keys { tile.stringField(3, k) }
        for v in values {
            tile.key(4, .lengthDelimited)
            tile.varint(UInt64(valueSize(v)))
            switch v {
            case .string(let s): tile.stringField(1, s)
            case .double(let d): tile.doubleField(3, d)
            case .int(let n): if n >= 0 { tile.varintField(5, UInt64(n)) } else { tile.varintField(6, ProtobufWriter.zigzag64(n)) }
            case .bool(let b): tile.varintField(7, b ? 1 : 0)
            }
        }
        tile.varintField(5, UInt64(extent))
        return tile.bytes
    }
}

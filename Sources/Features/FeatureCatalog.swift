import Foundation
import GRDB
import GeoCore
import LayerStore
import Synchronization

/// One layer as a feature collection: what the API shows of it and the SQL that reads it.
public struct FeatureLayer: Sendable {
    public let layer: LoadedLayer
    public var id: String { layer.name }
    public var title: String { layer.spec.title }
    public var fields: [FieldDefinition] { layer.version.fields }
    public let fieldsByName: [String: FieldDefinition]
    public let table: FeatureTable
    public var isPolygonal: Bool { layer.version.geometryType.contains("Polygon") }
    /// For a scoped caller's restricted layer, the part of it the caller reads
    /// (`Store.scopeCut`); nil when it reads the whole layer.
    public private(set) var cut: ScopeCut?
    /// How many features the caller reads, and their extent.
    public var count: Int { cut?.count ?? layer.version.count }
    public var bbox: BoundingBox? { cut == nil ? layer.version.bbox : cut?.box }

    init(_ layer: LoadedLayer) {
        self.layer = layer
        fieldsByName = Dictionary(layer.version.fields.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        table = FeatureTable(layer.version)
    }

    /// The same collection as `caller` sees it, or nil when it may not see it at all.
    func seen(by caller: Caller, in store: Store, _ db: Database) throws -> FeatureLayer? {
        guard let part = try caller.part(of: layer, in: store, db) else { return nil }
        var seen = self
        seen.cut = part.cut
        return seen
    }

    /// The name of the geometry in filters, queryables and sorting.
    public static let geometryProperty = "geometry"

    /// The GeoJSON geometry type names this layer holds, for queryables.
    var geometryTypeName: String { layer.version.geometryType }
}

/// The layers as collections, derived from the store's layer snapshot (so rebuilt only when
/// a layer gets a new version). Each caller gets the ones its key allows: to an anonymous
/// caller a restricted layer does not exist, and to a scoped one only its part of it.
public final class FeatureCatalog: Sendable {
    public let store: Store
    /// This catalog's key for what it derives from a layer snapshot.
    private let key = Key()
    private final class Key: Sendable {}

    public init(store: Store) { self.store = store }

    public func layers(_ db: Database, for caller: Caller = .anonymous) throws -> [FeatureLayer] {
        try all(db).compactMap { try $0.seen(by: caller, in: store, db) }
    }

    public func layer(_ id: String, _ db: Database, for caller: Caller = .anonymous) throws -> FeatureLayer {
        guard let l = try all(db).first(where: { $0.id == id }), let seen = try l.seen(by: caller, in: store, db) else {
            throw FeatureError.notFound("no collection '\(id)'")
        }
        return seen
    }

    private func all(_ db: Database) throws -> [FeatureLayer] {
        let snapshot = try store.layerSnapshot(db)
        return snapshot.derived(key) { snapshot.layers.map(FeatureLayer.init) }
    }
}

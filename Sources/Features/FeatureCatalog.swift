import Foundation
import GeoCore
import GRDB
import LayerStore
import Synchronization

/// One layer as a feature collection: what the API shows of it and the SQL that reads it.
public struct FeatureLayer: Sendable {
    public let layer: LoadedLayer
    public var id: String { layer.name }
    public var title: String { layer.spec.title }
    public var fields: [FieldDefinition] { layer.version.fields }
    public let fieldsByName: [String: FieldDefinition]
    public let table: String
    public let rtree: String
    /// `om_fid, om_id, geom, "A", "B", …` in field order.
    public let columns: String
    public var isPolygonal: Bool { layer.version.geometryType.contains("Polygon") }

    init(_ layer: LoadedLayer) {
        self.layer = layer
        fieldsByName = Dictionary(layer.version.fields.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        table = SQLName.quote(layer.version.tableName)
        rtree = SQLName.quote("idx_\(layer.version.tableName)_geom")
        columns = (["om_fid", "om_id", "geom"] + layer.version.fields.map { SQLName.quote($0.name) }).joined(separator: ", ")
    }

    /// The name of the geometry in filters, queryables and sorting.
    public static let geometryProperty = "geometry"

    /// The GeoJSON geometry type names this layer holds, for queryables.
    var geometryTypeName: String { layer.version.geometryType }
}

enum SQLName {
    /// A SQL identifier, quoted: column names come from source files and may be anything.
    static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

/// The layers as collections, rebuilt only when a layer gets a new version. Each caller
/// gets the ones its key allows: to an anonymous caller a restricted layer does not exist.
public final class FeatureCatalog: Sendable {
    public let store: Store
    private let cache = Mutex<(signature: [String], layers: [FeatureLayer])?>(nil)

    public init(store: Store) { self.store = store }

    public func layers(_ db: Database, for caller: Caller = .anonymous) throws -> [FeatureLayer] {
        try all(db).filter { caller.canSee($0.layer) }
    }

    private func all(_ db: Database) throws -> [FeatureLayer] {
        let signature = try String.fetchAll(db.cachedStatement(sql: "SELECT name || ':' || current_version FROM onemap_layers ORDER BY name"))
        if let known = cache.withLock({ $0 }), known.signature == signature { return known.layers }
        let built = try Store.loadedLayers(db).map(FeatureLayer.init)
        cache.withLock { $0 = (signature, built) }
        return built
    }

    public func layer(_ id: String, _ db: Database, for caller: Caller = .anonymous) throws -> FeatureLayer {
        guard let l = try layers(db, for: caller).first(where: { $0.id == id }) else {
            throw FeatureError.notFound("no collection '\(id)'")
        }
        return l
    }
}

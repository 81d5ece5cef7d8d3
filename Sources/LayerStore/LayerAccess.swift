import GRDB

/// The one rule for a request that names layers. To a caller, a layer it may not see and a
/// layer that does not exist are the same thing: both are `unknownLayer`, whose message
/// lists only the layers the caller sees, so no answer tells that a hidden layer exists.
extension Caller {
    /// The current layers this caller may see, in name order.
    public func visibleLayers(_ db: Database) throws -> [LoadedLayer] {
        try Store.loadedLayers(db).filter(canSee)
    }

    /// The current layers this caller may read at all, whole or cut to its scope (`canBrowse`),
    /// in name order: what the summaries over layers start from, each cutting a scoped part.
    public func readableLayers(_ db: Database) throws -> [LoadedLayer] {
        try Store.loadedLayers(db).filter(canBrowse)
    }

    /// The layers `names` names, in that order, each one among `visible`.
    @discardableResult
    public func require(_ names: [String], among visible: [LoadedLayer]) throws -> [LoadedLayer] {
        try names.map { name in
            guard let layer = visible.first(where: { $0.name == name }) else {
                throw StoreError.unknownLayer(name, known: visible.map(\.name))
            }
            return layer
        }
    }

    /// One layer by name, if this caller may see it.
    public func visibleLayer(_ name: String, _ db: Database) throws -> LoadedLayer {
        try require([name], among: visibleLayers(db))[0]
    }
}

/// What a caller reads of a layer it may browse: all of it, or its scope's part.
public enum LayerPart: Sendable {
    case whole
    case within(ScopeCut)

    public var cut: ScopeCut? {
        if case .within(let cut) = self { return cut }
        return nil
    }
}

extension Caller {
    /// What this caller reads of `layer`, or nil when it may not read it at all.
    public func part(of layer: LoadedLayer, in store: Store, _ db: Database) throws -> LayerPart? {
        switch sight(of: layer) {
        case .whole: return .whole
        case .nothing: return nil
        case .withinScope(let scope): return .within(try store.scopeCut(scope, of: layer, db))
        }
    }

    /// The current layers this caller may browse, each with what it reads of it, in name order.
    public func browsableLayers(in store: Store, _ db: Database) throws -> [(layer: LoadedLayer, part: LayerPart)] {
        try Store.loadedLayers(db).compactMap { layer in try part(of: layer, in: store, db).map { (layer, $0) } }
    }
}

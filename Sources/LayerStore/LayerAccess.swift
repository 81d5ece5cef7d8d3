import GRDB

/// The one rule for a request that names layers. To a caller, a layer it may not see and a
/// layer that does not exist are the same thing: both are `unknownLayer`, whose message
/// lists only the layers the caller sees, so no answer tells that a hidden layer exists.
extension Caller {
    /// The current layers this caller may see, in name order.
    public func visibleLayers(_ db: Database) throws -> [LoadedLayer] {
        try Store.loadedLayers(db).filter(canSee)
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

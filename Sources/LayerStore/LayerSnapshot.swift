import Foundation
import GRDB
import Synchronization

/// The loaded layers at one moment: every layer's definition and current version, as the
/// store published them. The checker's plans, the tile sources and the feature collections
/// are all derived from a snapshot (`derived`), so a reload, which publishes another, renews
/// every one of them at once, and the catalog is read and decoded once per reload, not once
/// per consumer.
public final class LayerSnapshot: Sendable {
    /// Each layer's name and current version: equal signatures, same layers.
    public let signature: String
    /// In name order.
    public let layers: [LoadedLayer]

    /// What consumers derived from this snapshot, by the key object each one owns. The key is
    /// held weakly: what a consumer derived goes when the consumer does (a checker made for
    /// one command must not leave its plans, boxes and all, on a long-lived snapshot).
    private let values = Mutex<[ObjectIdentifier: Derived]>([:])

    /// @unchecked: the key is only compared by identity, never used through this.
    private struct Derived: @unchecked Sendable {
        weak var key: AnyObject?
        let value: any Sendable
    }

    init(signature: String, layers: [LoadedLayer]) {
        self.signature = signature
        self.layers = layers
    }

    /// What `key`'s owner derives from these layers, built once (by the first caller; one
    /// racing it builds too, and the first one kept wins). `build` may read the database.
    public func derived<Value: Sendable>(_ key: AnyObject & Sendable, _ build: () throws -> Value) rethrows -> Value {
        let id = ObjectIdentifier(key)
        // Matched by identity as well: a key gone and another made at its address is not it.
        func known(_ values: [ObjectIdentifier: Derived]) -> Value? {
            guard let entry = values[id], entry.key === key else { return nil }
            return entry.value as? Value
        }
        if let value = values.withLock({ known($0) }) { return value }
        let built = try build()
        return values.withLock { values in
            if let kept = known(values) { return kept }
            values = values.filter { $0.value.key != nil }
            values[id] = Derived(key: key, value: built)
            return built
        }
    }
}

/// The snapshots a store has published: the latest two, by signature. Two, because a read
/// transaction begun before a reload still sees the layers before it, and readers on both
/// sides of a reload should not rebuild each other's snapshot in turn.
final class LayerSnapshots: Sendable {
    private let kept = Mutex<[LayerSnapshot]>([])
    /// Per reader connection, the signature it last read and its `PRAGMA data_version` then:
    /// while that is unchanged nothing was committed, so the signature is too, and the
    /// pragma costs a tenth of reading the layers' rows (each holds a whole definition).
    private let signatures = Mutex<[ObjectIdentifier: ConnectionSignature]>([:])

    /// @unchecked: the connection is only compared by identity, never used through this.
    private struct ConnectionSignature: @unchecked Sendable {
        /// Weak: a connection closed and another opened at the same address must not match.
        weak var connection: Database?
        let dataVersion: Int64
        let signature: String
    }

    func find(_ signature: String) -> LayerSnapshot? {
        kept.withLock { $0.first { $0.signature == signature } }
    }

    /// The snapshot of what transaction `db` sees, published if it is new.
    func snapshot(_ db: Database) throws -> LayerSnapshot {
        let signature = try signature(db)
        if let known = find(signature) { return known }
        let built = LayerSnapshot(signature: signature, layers: try Store.loadedLayers(db))
        return kept.withLock { kept in
            if let raced = kept.first(where: { $0.signature == signature }) { return raced }
            kept.insert(built, at: 0)
            if kept.count > 2 { kept.removeLast() }
            return built
        }
    }

    private func signature(_ db: Database) throws -> String {
        // data_version counts commits by other connections only: a connection that writes
        // would not see its own loads in it, so only read-only connections use the memo.
        guard db.configuration.readonly else { return try Store.layerSignature(db) }
        // Read inside the transaction, so it is the version of the caller's snapshot.
        let dataVersion = try StatementRows(db.cachedStatement(sql: "PRAGMA data_version")).firstInteger() ?? 0
        let key = ObjectIdentifier(db)
        let memo = signatures.withLock { $0[key] }
        if let memo, memo.connection === db, memo.dataVersion == dataVersion { return memo.signature }
        let signature = try Store.layerSignature(db)
        let entry = ConnectionSignature(connection: db, dataVersion: dataVersion, signature: signature)
        signatures.withLock { $0[key] = entry }
        return signature
    }
}

extension Store {
    /// The layers as transaction `db` sees them.
    public func layerSnapshot(_ db: Database) throws -> LayerSnapshot {
        try snapshots.snapshot(db)
    }

    /// The latest published layers, if they are still current (`currentLayerSignature`);
    /// nil when the layers changed since, and `layerSnapshot` must read them. Waits for no
    /// pool reader: safe on a request thread.
    public func currentLayerSnapshot() throws -> LayerSnapshot? {
        snapshots.find(try currentLayerSignature())
    }
}

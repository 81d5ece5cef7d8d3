import Crypto
import Foundation
import Synchronization

/// The keys a server was shown lately, so that a request with a key costs a hash and a
/// dictionary lookup, not a read of the database: a map sends dozens of tiles a second with
/// the same key. What was found is trusted while the layers' file has not changed
/// (`Store.currentDataVersion`: any commit there, a key made or revoked by `onemap keys` in
/// another process included, is seen within the store's recheck time, 50 ms) and no key was
/// written through this process (`changed`, at once).
///
/// Secrets that name no key are not kept: anyone can send those, and they must not fill memory.
final class KeyLookups: Sendable {
    private struct State {
        var dataVersion: Int64 = -1
        var generation = 0
        var found: [SHA256.Digest: KeyRing.Lookup] = [:]
    }
    private let state = Mutex(State())
    private let writes = Atomic<Int>(0)
    /// Past this many keys the remembered ones are forgotten and learnt again.
    static let capacity = 10_000

    /// What was found for `digest` under `dataVersion`, if it still holds.
    func lookup(_ digest: SHA256.Digest, dataVersion: Int64) -> KeyRing.Lookup? {
        let generation = writes.load(ordering: .acquiring)
        return state.withLock { s in
            guard s.dataVersion == dataVersion, s.generation == generation else { return nil }
            return s.found[digest]
        }
    }

    /// Remembers a key found under `dataVersion`, when nothing was written since `generation`.
    func remember(_ digest: SHA256.Digest, _ lookup: KeyRing.Lookup, dataVersion: Int64, generation: Int) {
        guard lookup != .unknown, writes.load(ordering: .acquiring) == generation else { return }
        state.withLock { s in
            if s.dataVersion != dataVersion || s.generation != generation || s.found.count >= Self.capacity {
                s = State(dataVersion: dataVersion, generation: generation)
            }
            s.found[digest] = lookup
        }
    }

    /// The generation a lookup starts under: read before the database, so a write while it
    /// reads leaves its answer unremembered.
    var generation: Int { writes.load(ordering: .acquiring) }

    /// A key was written through this process: nothing remembered holds.
    func changed() { writes.add(1, ordering: .releasing) }
}

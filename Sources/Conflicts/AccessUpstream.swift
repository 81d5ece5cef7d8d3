/// Where a replica keeps the access records besides its own records file: the database its
/// replicas share, so that `GET /v1/access` on any replica, and `onemap access list` against
/// the database, list every replica's reads, and the chain over them survives any replica.
///
/// Records reach it a moment after their answers, as they reach the records file; what it
/// cannot take yet stays in the records file and is offered again (`AccessRecords.flush`).
public protocol AccessUpstream: Sendable {
    /// Stores the records (already numbered and timed by the replica); one that is there
    /// already (offered again after a lost answer) is kept as it was.
    func store(_ records: [AccessRecords.Record]) throws
    /// The records as `AccessRecords.list` gives them, from every replica.
    func list(who: String?, layer: String?, since: String?, limit: Int, offset: Int) throws -> (items: [AccessRecords.Record], total: Int)
}

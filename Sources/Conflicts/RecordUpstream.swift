/// Where a replica stores every check record besides its own file, before the check is
/// acknowledged: the database its replicas share, so that a record outlives the replica that
/// made it and every replica lists it. Throws when it cannot store it; the check is then
/// answered with an error, not acknowledged.
public protocol RecordUpstream: Sendable {
    func store(_ record: CheckRecords.Record) throws
    /// The server's records, into which the other replicas' are copied.
    func attach(_ records: CheckRecords)
}

/// The shared store could not take a record (its database is away): the check is answered
/// 503, not acknowledged, and may be posted again.
public struct RecordUpstreamUnavailable: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

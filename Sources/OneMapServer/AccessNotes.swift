import Conflicts
import Foundation
import Hummingbird
import LayerStore
import ServiceLifecycle

/// What the routes answering with restricted data note of each answer (`AccessRecords`):
/// the features, identify and tile routes, for every restricted layer in what they return.
struct AccessNotes: Sendable {
    /// nil where nothing is recorded (a tile service made alone, in tests of tiles only).
    let records: AccessRecords?

    /// Notes that `caller` was given `returned` features (nil: not counted) of the restricted
    /// `layer`, asking `what` through `route`.
    func note(_ caller: Caller, requestID: String, route: String, layer: String, what: String, returned: Int?) {
        guard let records else { return }
        records.note(
            AccessRecords.Note(
                who: caller.keyName ?? "anonymous", subject: caller.subject, route: route, layer: layer, what: what, returned: returned,
                requestID: requestID))
    }
}

extension RequestLog {
    /// The request's id, as its log line and its X-Request-Id header give it.
    static func id(_ request: Request, _ context: some RequestContext) -> String { sane(request.headers[header]) ?? context.id }
}

/// Stores the access records still waiting when the server is asked to stop: they are
/// written a moment after their answers, and a graceful stop must not lose that moment's.
struct AccessRecordsAtShutdown: Service {
    let records: AccessRecords

    func run() async throws {
        // Ends with the graceful shutdown (or throws when cancelled): either way, store them.
        try? await gracefulShutdown()
        try records.flush()
    }
}

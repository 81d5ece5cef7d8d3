import Foundation
import LayerStore

extension Caller {
    /// Whoever runs `onemap` here: they can open the database file, so they see every layer,
    /// and the records they make carry their login name.
    static let localUser = Caller.commandLine(user: ProcessInfo.processInfo.environment["USER"] ?? "unknown")
}

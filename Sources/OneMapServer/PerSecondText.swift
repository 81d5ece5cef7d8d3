import Foundation
import Synchronization

/// A text that only changes with the clock's second (the `Date` header, a log line's
/// timestamp): made at most once a second, since formatting a time costs more than the rest
/// of a cached tile's answer.
final class PerSecondText: Sendable {
    private let cached = Mutex<(second: Int, text: String)>((-1, ""))
    private let make: @Sendable (time_t) -> String

    init(_ make: @escaping @Sendable (time_t) -> String) { self.make = make }

    func now() -> String {
        let t = time(nil)
        return cached.withLock { cached in
            if cached.second == t { return cached.text }
            cached = (t, make(t))
            return cached.text
        }
    }
}

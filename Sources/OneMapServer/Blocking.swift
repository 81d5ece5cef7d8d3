import Dispatch
import Synchronization

/// Work started now on a Dispatch thread, its value waited for later (on a blocking thread).
final class Beside<T: Sendable>: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<T?>(nil)

    init(_ work: @escaping @Sendable () -> T) {
        DispatchQueue.global().async { [self] in
            let value = work()
            result.withLock { $0 = value }
            done.signal()
        }
    }

    func value() -> T {
        done.wait()
        done.signal()
        return result.withLock { $0! }
    }
}

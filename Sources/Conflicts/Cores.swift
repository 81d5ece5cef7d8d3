import Foundation
import Synchronization

/// Work split over the machine's cores: each part on a thread of its own, the parts' results
/// joined in part order, so the answer is the same however many cores there are; the first
/// part's error, in that order, is thrown.
enum Cores {
    /// How many parts a job splits into: one per core, up to eight.
    static var workers: Int { max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8)) }

    static func inParts<T: Sendable>(_ count: Int, _ part: @Sendable (Int) throws -> [T]) throws -> [T] {
        let parts = Mutex<[Int: Result<[T], Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: count) { k in
            let done = Result { try part(k) }
            parts.withLock { $0[k] = done }
        }
        return try parts.withLock { p in try (0..<count).flatMap { try p[$0]!.get() } }
    }
}

import Foundation

// What the parser fuzz tests of several test targets share: a seeded generator that
// reproduces a case anywhere, and a way to run minutes of fuzzing without starving the HTTP
// tests beside it.

/// SplitMix64: tiny, fast and the same on every platform, so a seed reproduces a case anywhere.
public struct FuzzRandom: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &self) }
    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    public mutating func double(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &self) }
    public mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
    public mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }
}

/// Runs minutes of fuzzing CPU on a thread of its own at the lowest priority (nice 19 on Linux),
/// not on the cooperative pool: the HTTP tests running beside it on two cores must still answer
/// within their deadlines.
public func runAtLowPriority(_ body: @escaping @Sendable () throws -> Void) async throws {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
        let thread = Thread {
            #if os(Linux)
                // Linux keeps the nice value per thread; `who` 0 is the calling thread.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            #endif
            c.resume(with: Result { try body() })
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// The processor time the calling thread spends in `body`: how a fuzz case is judged a hang.
/// Wall-clock time would not do: the fuzzing runs at nice 19 beside the rest of the suite,
/// and a case of half a second was once starved past the 30 s limit on a busy machine.
public func threadCPUTime(of body: () -> Void) -> Duration {
    func now() -> Duration {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return .seconds(t.tv_sec) + .nanoseconds(t.tv_nsec)
    }
    let start = now()
    body()
    return now() - start
}

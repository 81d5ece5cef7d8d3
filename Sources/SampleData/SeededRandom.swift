/// Deterministic randomness: the same seed gives the same sample, byte for byte, on every run.
///
/// Two forms: a stream (`next()`) for things made in sequence, and a stateless hash of
/// coordinates (`hash(…)`) for the farmland grid, so any cell can be regenerated on its own
/// without replaying the stream (that is what lets the generator stream millions of parcels).
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64, stream: UInt64 = 0) {
        state = SeededRandom.mix(seed ^ SeededRandom.mix(stream &+ 0x9E37_79B9_7F4A_7C15))
    }

    /// SplitMix64's finaliser: a good 64-bit mixer.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func hash(_ seed: UInt64, _ a: Int, _ b: Int, _ salt: UInt64) -> UInt64 {
        mix(mix(mix(seed ^ salt) ^ UInt64(bitPattern: Int64(a))) ^ UInt64(bitPattern: Int64(b)))
    }

    /// A uniform Double in [0, 1) from a hash.
    static func unit(_ h: UInt64) -> Double { Double(h >> 11) * 0x1.0p-53 }

    mutating func next() -> UInt64 {
        state = SeededRandom.mix(state)
        return state
    }

    mutating func unit() -> Double { SeededRandom.unit(next()) }

    mutating func range(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }

    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }
}

import Foundation
import Hummingbird
import Synchronization

/// Anonymous checks in `--open` mode, per client: a token bucket of `perMinute` checks,
/// refilled evenly over the minute, so one client cannot fill the disk with records (each is
/// kept forever) or the work gate with its checks. Past it the answer is 429 with the
/// seconds until the next token.
final class ClientRateLimit: Sendable {
    let perMinute: Int
    /// Clients remembered at once; past it the full buckets (clients idle for a minute) go.
    let capacity: Int
    private let buckets = Mutex<[String: (tokens: Double, at: ContinuousClock.Instant)]>([:])

    init(perMinute: Int, capacity: Int = 100_000) {
        self.perMinute = max(1, perMinute)
        self.capacity = capacity
    }

    /// Takes a token for `client`, or throws the 429 that says when to come back.
    func take(_ client: String, now: ContinuousClock.Instant = .now) throws {
        let burst = Double(perMinute), rate = Double(perMinute) / 60
        let capacity = self.capacity
        let wait: Double? = buckets.withLock { buckets -> Double? in
            var bucket = buckets[client] ?? (burst, now)
            bucket.tokens = min(burst, bucket.tokens + rate * (now - bucket.at).inSeconds)
            bucket.at = now
            guard bucket.tokens >= 1 else {
                buckets[client] = bucket
                return (1 - bucket.tokens) / rate
            }
            bucket.tokens -= 1
            if buckets[client] == nil && buckets.count >= capacity {
                Self.forgetIdle(&buckets, now, rate: rate, burst: burst, capacity: capacity)
            }
            buckets[client] = bucket
            return nil
        }
        if let wait {
            let seconds = max(1, Int(wait.rounded(.up)))
            throw Problem(
                .tooManyRequests, "too many checks",
                "anonymous checks are limited to \(perMinute) a minute per client; retry in \(seconds) s, or use an approver key",
                headers: [.retryAfter: String(seconds)])
        }
    }

    private static func forgetIdle(
        _ buckets: inout [String: (tokens: Double, at: ContinuousClock.Instant)],
        _ now: ContinuousClock.Instant, rate: Double, burst: Double, capacity: Int
    ) {
        buckets = buckets.filter { $0.value.tokens + rate * (now - $0.value.at).inSeconds < burst }
        if buckets.count >= capacity { buckets.removeAll(keepingCapacity: true) }
    }
}

import Glibc

/// Retry policy for session start: exponential backoff with equal jitter (half the backoff fixed, half random) from `initialDelay`,
/// honouring `Retry-After`, retrying only 408/500/502/503/504 and connection failures, bounded in attempts
/// and in total time. Every attempt is re-signed (fresh `x-ms-date`).
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    /// Base of the backoff: the delay before retry n is up to `initialDelay * 2^(n-1)`, at most `maxDelay`.
    public var initialDelay: Double
    public var maxDelay: Double
    /// No retry starts once this many seconds have passed since the first attempt.
    public var totalBudget: Double

    public init(maxAttempts: Int = 5, initialDelay: Double = 0.25, maxDelay: Double = 4, totalBudget: Double = 20) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.totalBudget = totalBudget
    }

    /// No retries at all.
    public static let none = RetryPolicy(maxAttempts: 1, initialDelay: 0, maxDelay: 0, totalBudget: 0)

    /// Statuses worth another attempt.
    public static func isRetryable(status: Int) -> Bool { [408, 500, 502, 503, 504].contains(status) }

    /// Transport failures worth another attempt (TLS failures are not: they will not heal).
    public static func isRetryable(_ error: TransportError) -> Bool {
        ![.tls, .sink, .tooLarge, .misbehaves].contains(error.kind)
    }

    /// The wait before retry number `retry` (1-based): `Retry-After` when given, else jittered backoff.
    /// Nil when the policy's budget does not allow the retry.
    public func delay(beforeRetry retry: Int, elapsed: Double, retryAfter: Double?, random: Double) -> Double? {
        guard retry < maxAttempts else { return nil }
        let backoff = min(maxDelay, initialDelay * Double(1 << min(retry - 1, 20)))
        // "Equal jitter": half fixed, half random, so the delay never collapses to zero.
        let wait = retryAfter ?? (backoff / 2 + backoff / 2 * random)
        guard elapsed + wait <= totalBudget else { return nil }
        return wait
    }

    /// Parses a `Retry-After` value in seconds (HTTP dates are not used by the File service).
    public static func parseRetryAfter(_ value: String?) -> Double? {
        guard let v = value?.trimmingWhitespace(), let seconds = Double(v), seconds >= 0 else { return nil }
        return seconds
    }
}

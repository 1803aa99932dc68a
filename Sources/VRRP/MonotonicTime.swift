/// A point on the monotonic clock (CLOCK_MONOTONIC), as the time since its arbitrary origin. The pure code never
/// reads a clock: the driver passes the current `MonotonicTime` in with every event, and tests pass made-up ones.
public struct MonotonicTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var sinceOrigin: Duration

    public init(_ sinceOrigin: Duration) { self.sinceOrigin = sinceOrigin }

    public static let zero = MonotonicTime(.zero)

    public static func + (lhs: MonotonicTime, rhs: Duration) -> MonotonicTime { MonotonicTime(lhs.sinceOrigin + rhs) }
    public static func - (lhs: MonotonicTime, rhs: Duration) -> MonotonicTime { MonotonicTime(lhs.sinceOrigin - rhs) }
    public static func - (lhs: MonotonicTime, rhs: MonotonicTime) -> Duration { lhs.sinceOrigin - rhs.sinceOrigin }
    public static func < (lhs: MonotonicTime, rhs: MonotonicTime) -> Bool { lhs.sinceOrigin < rhs.sinceOrigin }

    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = sinceOrigin.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    public init(nanoseconds: Int64) { self.init(.nanoseconds(nanoseconds)) }

    public var description: String { "\(sinceOrigin)" }
}

extension Duration {
    /// Whole microseconds, rounded down: keepalived's timer unit.
    public var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// Whole centiseconds, rounded to nearest: VRRPv3's interval unit.
    public var centiseconds: Int64 {
        (microseconds + 5_000) / 10_000
    }

    /// Seconds as a Double, for logs and metrics.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

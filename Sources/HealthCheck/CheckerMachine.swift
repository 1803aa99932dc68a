/// One health checker's state, with keepalived's timing: a check every `delay_loop`; a failure of a checker that
/// is up is retried `retry` times, `delay_before_retry` apart, before the checker goes down; a success brings it up
/// at once. Without `alpha` a checker starts up (the real server is in the pool from the start); with it, down.
///
/// The first check comes 1 s after start plus a random share of `warmup` (default: `delay_loop`), so that many
/// checkers of one server do not all fire together.
public struct CheckerMachine: Sendable, Equatable {
    public struct Timing: Sendable, Equatable {
        public var delayLoop: Duration
        public var connectTimeout: Duration
        public var retry: Int
        public var delayBeforeRetry: Duration
        public var warmup: Duration?

        public init(
            delayLoop: Duration = .seconds(60), connectTimeout: Duration = .seconds(5), retry: Int = 1,
            delayBeforeRetry: Duration = .seconds(1), warmup: Duration? = nil
        ) {
            self.delayLoop = delayLoop
            self.connectTimeout = connectTimeout
            self.retry = retry
            self.delayBeforeRetry = delayBeforeRetry
            self.warmup = warmup
        }

        /// The longest a server can be down before its checker says so: a check just missed it, then the first
        /// attempt and every retry time out, with the pauses between them.
        public var detectionBound: Duration {
            delayLoop + connectTimeout * (retry + 1) + delayBeforeRetry * retry
        }
    }

    public enum Transition: Sendable, Equatable {
        case up
        /// Down after `attempts` failed attempts in a row.
        case down(attempts: Int)
    }

    public let timing: Timing
    public private(set) var isUp: Bool
    public private(set) var hasRun = false
    /// Failed attempts since the last success, while up.
    public private(set) var retries = 0

    public init(timing: Timing, alpha: Bool) {
        self.timing = timing
        isUp = !alpha
    }

    /// When the first check runs after start: 1 s plus `random` (0..<1) of the warmup.
    public func firstDelay(random: Double) -> Duration {
        .seconds(1) + (timing.warmup ?? timing.delayLoop) * max(0, min(1, random))
    }

    /// A step of a check that passed without completing it (one URL of several): the retries start over, the
    /// state does not change.
    public mutating func resetRetries() {
        retries = 0
    }

    /// Records one check's result; returns the transition, if the checker changed, and the delay to the next check.
    public mutating func record(success: Bool) -> (transition: Transition?, next: Duration) {
        defer { hasRun = true }
        if success {
            retries = 0
            let changed = !isUp || !hasRun
            let wasUp = isUp
            isUp = true
            return (changed && !wasUp ? .up : nil, timing.delayLoop)
        }
        if (isUp || !hasRun) && retries >= timing.retry {
            let attempts = retries + 1
            retries = 0
            let wasUp = isUp
            isUp = false
            return (wasUp ? .down(attempts: attempts) : nil, timing.delayLoop)
        }
        if isUp {
            retries += 1
            return (nil, timing.delayBeforeRetry)
        }
        return (nil, timing.delayLoop)
    }
}

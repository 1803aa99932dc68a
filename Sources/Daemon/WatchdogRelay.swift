/// Whether the supervisor may tell systemd's watchdog that Vigil is alive: only when every child process's event
/// loop has said so lately. systemd asks the main process (the supervisor) for WATCHDOG=1 every WatchdogSec; the
/// VRRP and checker processes beat over a socket from their loops, so a loop that hangs stops the pings and
/// systemd restarts the service. Times are monotonic nanoseconds.
struct WatchdogRelay: Equatable {
    /// How often the supervisor pings (half of WATCHDOG_USEC, as sd_watchdog_enabled advises).
    let pingInterval: Int64
    /// A child that has not beaten for this long is unhealthy: its beats come every half ping interval.
    var allowedSilence: Int64 { pingInterval }
    /// The last beat of each running child, by role (a child just started counts from its start).
    private(set) var lastBeat: [String: Int64] = [:]
    /// The roles already reported silent, so the log says it once.
    private(set) var reportedSilent: Set<String> = []

    init(pingInterval: Int64) { self.pingInterval = pingInterval }

    /// How often a child beats.
    var beatInterval: Int64 { pingInterval / 2 }

    mutating func started(_ role: String, at now: Int64) {
        lastBeat[role] = now
        reportedSilent.remove(role)
    }

    mutating func beat(_ role: String, at now: Int64) {
        lastBeat[role] = now
        reportedSilent.remove(role)
    }

    /// A child ended: the supervisor restarts it (or stops), and is itself alive meanwhile.
    mutating func ended(_ role: String, at now: Int64) {
        lastBeat[role] = now
    }

    /// A child sent away for good (started early, then not wanted as it was): no longer waited for.
    mutating func forget(_ role: String) {
        lastBeat[role] = nil
        reportedSilent.remove(role)
    }

    enum Decision: Equatable {
        case ping
        /// These roles have been silent too long; say so (the first time) and do not ping.
        case withhold(silent: [String], newlySilent: [String])
    }

    mutating func decide(at now: Int64) -> Decision {
        let silent = lastBeat.filter { now - $0.value > allowedSilence }.keys.sorted()
        guard !silent.isEmpty else { return .ping }
        let new = silent.filter { !reportedSilent.contains($0) }
        reportedSilent.formUnion(new)
        return .withhold(silent: silent, newlySilent: new)
    }
}

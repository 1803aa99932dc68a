import Testing

@testable import Daemon

@Suite("systemd's watchdog, relayed from the children's loops")
struct WatchdogRelayTests {
    let second: Int64 = 1_000_000_000

    @Test("pings while every child beats; withholds, and says so once, when one falls silent; resumes when it beats")
    func relay() {
        var relay = WatchdogRelay(pingInterval: second)
        #expect(relay.beatInterval == second / 2)
        relay.started("vrrp", at: 0)
        relay.started("checker", at: 0)
        #expect(relay.decide(at: second / 2) == .ping, "a child just started counts as alive")
        relay.beat("vrrp", at: second)
        relay.beat("checker", at: second)
        #expect(relay.decide(at: 2 * second) == .ping)
        relay.beat("vrrp", at: 2 * second)
        relay.beat("checker", at: 2 * second + second / 2)
        #expect(relay.decide(at: 2 * second + second / 2) == .ping)
        // vrrp's loop stops turning: its last beat was at 2 s.
        #expect(relay.decide(at: 3 * second) == .ping, "silent for exactly the ping interval is still fine")
        #expect(relay.decide(at: 3 * second + 1) == .withhold(silent: ["vrrp"], newlySilent: ["vrrp"]))
        #expect(relay.decide(at: 3 * second + 6 * second / 10) == .withhold(silent: ["checker", "vrrp"], newlySilent: ["checker"]))
        relay.beat("vrrp", at: 4 * second + 1)
        relay.beat("checker", at: 4 * second + 1)
        #expect(relay.decide(at: 4 * second + 2) == .ping)
    }

    @Test("a child that ended is being restarted: the supervisor stays alive meanwhile")
    func restart() {
        var relay = WatchdogRelay(pingInterval: second)
        relay.started("vrrp", at: 0)
        relay.ended("vrrp", at: 5 * second)
        #expect(relay.decide(at: 5 * second + second / 2) == .ping)
        relay.started("vrrp", at: 6 * second)
        #expect(relay.decide(at: 6 * second + second / 2) == .ping)
    }

    @Test("a child sent away for good is no longer waited for")
    func forgotten() {
        var relay = WatchdogRelay(pingInterval: second)
        relay.started("vrrp", at: 0)
        relay.started("checker", at: 0)
        relay.forget("vrrp")
        relay.beat("checker", at: 5 * second)
        #expect(relay.decide(at: 5 * second + second / 2) == .ping, "only the checker is waited for")
    }
}

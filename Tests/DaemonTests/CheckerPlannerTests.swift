import Checkers
import HealthCheck
import Testing
import VRRP
import VigilConfig

@testable import Daemon

/// Drives a `CheckerPlanner` as the executor does, over a made-up clock: probes answer as the test says, load
/// balancer transactions succeed unless told otherwise.
struct CheckerHarness {
    var planner: CheckerPlanner
    var now = MonotonicTime.zero
    var actions: [CheckerPlanner.Action] = []
    var timers: [CheckerPlanner.Timer: MonotonicTime] = [:]
    /// What each probe request finds (by the request's target port, and URL path for HTTP).
    var answer: (CheckerPlanner.ProbeRequest) -> CheckResult = { _ in .ok() }
    var balancerFailure: String?
    /// Every state the load balancer was asked to hold.
    var applied: [LoadBalancerState] = []

    init(_ text: String) {
        planner = CheckerPlanner(configuration: Self.configuration(text), backendName: "test", seed: 42)
    }

    static func configuration(_ text: String) -> Configuration {
        ConfigLoader.load(text: text, options: ConfigLoader.Options(configID: "test")).configuration
    }

    mutating func feed(_ new: [CheckerPlanner.Action]) {
        var queue = new[...]
        while let action = queue.popFirst() {
            actions.append(action)
            switch action {
            case .arm(let timer, let deadline): timers[timer] = deadline
            case .cancel(let timer): timers[timer] = nil
            case .startProbe(let id, let request):
                queue += planner.probeFinished(id, answer(request), now: now)
            case .applyLoadBalancer(let state, _):
                applied.append(state)
                queue += planner.loadBalancerApplied(balancerFailure, now: now)
            default: break
            }
        }
    }

    mutating func start() { feed(planner.start(now: now)) }

    mutating func advance(to time: MonotonicTime) {
        while let (timer, deadline) = timers.filter({ $0.value <= time }).min(by: { $0.value < $1.value }) {
            now = deadline
            timers[timer] = nil
            feed(planner.timerFired(timer, now: now))
        }
        now = time
    }

    mutating func advance(by duration: Duration) { advance(to: now + duration) }

    /// Fires timers one at a time until `condition` holds (at most `limit` of them).
    mutating func step(until condition: (CheckerHarness) -> Bool, limit: Int = 100) {
        for _ in 0..<limit where !condition(self) {
            guard let (timer, deadline) = timers.min(by: { $0.value < $1.value }) else { return }
            now = deadline
            timers[timer] = nil
            feed(planner.timerFired(timer, now: now))
        }
    }

    /// How many probes went to `address`.
    func probes(to address: String) -> Int {
        actions.filter { action in
            guard case .startProbe(_, let request) = action, case .tcp(let target) = request else { return false }
            return target.address == IPAddress(address)
        }.count
    }

    var logs: [String] { actions.compactMap { if case .log(_, let text) = $0 { text } else { nil } } }

    var notifications: [CheckerPlanner.Notification] {
        actions.compactMap { if case .notify(let notification) = $0 { notification } else { nil } }
    }

    /// The destinations the load balancer holds now for a service port.
    func destinations(_ port: UInt16) -> [String] {
        (applied.last?.services.first { $0.key.port == port }?.value ?? []).map { "\($0.endpoint)/\($0.weight)" }
    }

    func member(_ server: Int, _ member: Int) -> ServicePool.Member { planner.servers[server].pool.members[member] }
}

func port(of request: CheckerPlanner.ProbeRequest) -> UInt16 {
    switch request {
    case .tcp(let target), .http(let target, _, _, _), .smtp(let target, _), .udp(let target, _, _, _, _),
        .dns(let target, _, _), .ping(let target, _, _):
        target.port
    case .misc: 0
    }
}

func virtualServer(_ port: Int, _ body: String, extra: String = "") -> String {
    """
    virtual_server 203.0.113.50 \(port) {
        delay_loop 2
        lb_algo rr
    \(extra)
    \(body)
    }

    """
}

func realServer(_ last: Int, _ port: Int = 80, checker: String = "TCP_CHECK {\n connect_timeout 1\n }", extra: String = "")
    -> String
{
    "    real_server 198.51.100.\(last) \(port) {\n\(extra)\n        \(checker)\n    }\n"
}

@Suite("Checker planner: checks, pools, the load balancer")
struct CheckerPlannerTests {
    @Test("a failing real server leaves the pool after its retries, and comes back on its first success")
    func downAndUp() {
        var harness = CheckerHarness(
            virtualServer(80, realServer(10, checker: "TCP_CHECK {\n retry 1\n delay_before_retry 1\n }") + realServer(11)))
        var rs10Down = false
        harness.answer = { request in
            if case .tcp(let target) = request, target.address == IPAddress("198.51.100.10"), rs10Down {
                return .failed("refused")
            }
            return .ok()
        }
        harness.start()
        #expect(harness.destinations(80) == ["198.51.100.10:80/1", "198.51.100.11:80/1"])
        harness.advance(by: .seconds(4))
        rs10Down = true
        let before = harness.probes(to: "198.51.100.10")
        harness.step { $0.probes(to: "198.51.100.10") == before + 1 }
        #expect(harness.member(0, 0).isAlive, "one failure is retried first")
        harness.step { $0.probes(to: "198.51.100.10") == before + 2 }
        #expect(!harness.member(0, 0).isAlive, "the retry failed too")
        #expect(harness.destinations(80) == ["198.51.100.11:80/1"])
        #expect(harness.notifications.contains(.realServer("[198.51.100.10]:tcp:80", of: "[203.0.113.50]:tcp:80", up: false, script: nil, mail: true)))
        rs10Down = false
        harness.advance(by: .seconds(2))
        #expect(harness.destinations(80) == ["198.51.100.10:80/1", "198.51.100.11:80/1"])
    }

    @Test("alpha and inhibit_on_failure are decided once, down the cascade: a checker's `alpha no` wins")
    func cascade() {
        let text = virtualServer(
            80,
            realServer(10, checker: "TCP_CHECK {\n alpha no\n }", extra: "        inhibit_on_failure off")
                + realServer(11),
            extra: "    alpha\n    inhibit_on_failure")
        var harness = CheckerHarness(text)
        harness.answer = { _ in .failed("down") }
        harness.start()
        #expect(harness.member(0, 0).checkers == [true], "alpha no: up before its first check")
        #expect(harness.member(0, 1).checkers == [false], "the virtual server's alpha")
        #expect(!harness.member(0, 0).inhibitOnFailure && harness.member(0, 1).inhibitOnFailure)
    }

    @Test("FILE_CHECK: weight 0 is up while the file reads 0; a weight moves the server's weight; -65535 takes it down")
    func fileCheck() {
        let track = TrackFile(name: "f", location: SourceLocation(file: "", line: 0))
        var zero = track
        zero.weight = 0
        #expect(CheckerPlanner.fileCheck(value: 0, file: FileCheck(trackFile: "f", weight: 0), track: zero) == (true, 0))
        #expect(CheckerPlanner.fileCheck(value: 3, file: FileCheck(trackFile: "f", weight: 0), track: zero) == (false, 0))
        #expect(
            CheckerPlanner.fileCheck(value: 0, file: FileCheck(trackFile: "f", weight: 0, reverse: true), track: zero)
                == (false, 0))
        #expect(CheckerPlanner.fileCheck(value: 5, file: FileCheck(trackFile: "f", weight: 2), track: track) == (true, 10))
        #expect(
            CheckerPlanner.fileCheck(value: 70000, file: FileCheck(trackFile: "f", weight: -1), track: track)
                == (false, -70000))

        let text =
            "track_file f {\n    file /run/f\n}\n"
            + virtualServer(80, realServer(10, checker: "FILE_CHECK {\n track_file f\n weight 0\n }"))
        var harness = CheckerHarness(text)
        harness.start()
        #expect(harness.actions.contains(.pollFiles(["/run/f"])))
        harness.feed(harness.planner.filesRead(["/run/f": 1], now: harness.now))
        #expect(harness.destinations(80).isEmpty)
        harness.feed(harness.planner.filesRead(["/run/f": 0], now: harness.now))
        #expect(harness.destinations(80) == ["198.51.100.10:80/1"])
    }

    @Test("BFD_CHECK follows the BFD process: down takes the real server out, up puts it back; alpha starts it out")
    func bfd() {
        let instance = "bfd_instance b {\n    neighbor_ip 198.51.100.10\n}\n"
        var harness = CheckerHarness(
            instance + virtualServer(80, realServer(10, checker: "BFD_CHECK {\n name b\n }") + realServer(11)))
        harness.start()
        #expect(harness.actions.contains(.followBFD(true)))
        #expect(harness.destinations(80) == ["198.51.100.10:80/1", "198.51.100.11:80/1"])
        harness.feed(harness.planner.bfdChanged([BFDEvent(name: "b", up: false)], now: harness.now))
        #expect(harness.destinations(80) == ["198.51.100.11:80/1"])
        #expect(harness.logs.contains("BFD check of [b] RS(198.51.100.10:80) is DOWN"))
        harness.feed(harness.planner.bfdChanged([BFDEvent(name: "other", up: false)], now: harness.now))
        harness.feed(harness.planner.bfdChanged([BFDEvent(name: "b", up: true)], now: harness.now))
        #expect(harness.destinations(80) == ["198.51.100.10:80/1", "198.51.100.11:80/1"])
        #expect(harness.logs.contains("BFD check of [b] RS(198.51.100.10:80) is UP"))

        var alpha = CheckerHarness(
            instance + virtualServer(80, realServer(10, checker: "BFD_CHECK {\n name b\n alpha\n }")))
        alpha.start()
        #expect(alpha.destinations(80).isEmpty)
        alpha.feed(alpha.planner.bfdChanged([BFDEvent(name: "b", up: true)], now: alpha.now))
        #expect(alpha.destinations(80) == ["198.51.100.10:80/1"])

        // No bfd_instance of that name (or one for VRRP only): the check is removed, with a warning.
        var missing = CheckerHarness(
            "bfd_instance b {\n    neighbor_ip 198.51.100.10\n    vrrp\n}\n"
                + virtualServer(80, realServer(10, checker: "BFD_CHECK {\n name b\n }")))
        missing.start()
        #expect(!missing.actions.contains(.followBFD(true)))
        #expect(missing.destinations(80) == ["198.51.100.10:80/1"])
    }

    @Test("one load-balancer transaction at a time; a refused one is retried in 5 s with everything")
    func transactions() {
        var harness = CheckerHarness(virtualServer(80, realServer(10)) + virtualServer(81, realServer(11)))
        harness.balancerFailure = "nft: syntax error"
        harness.start()
        #expect(harness.applied.count == 1)
        #expect(harness.logs.contains("load balancer (test): nft: syntax error; trying again in 5 s"))
        #expect(harness.planner.synchronize().isEmpty, "nothing new goes in while a retry is pending")
        harness.balancerFailure = nil
        harness.advance(by: .seconds(5))
        #expect(harness.applied.count == 2 && harness.applied[1].services.count == 2)
        #expect(harness.planner.balancerFailures == 1 && harness.planner.balancerUpdates == 1)
        // While a transaction is in flight, a change waits for it.
        var planner = harness.planner
        planner.inFlight = planner.applied
        #expect(planner.synchronize().isEmpty)
    }

    @Test("quorum with hysteresis: lost below quorum - hysteresis, gained at quorum + hysteresis, with the sorry server")
    func quorum() {
        let text = virtualServer(
            80, realServer(10) + realServer(11) + realServer(12) + realServer(13),
            extra: "    quorum 3\n    hysteresis 1\n    sorry_server 198.51.100.99 80")
        var harness = CheckerHarness(text)
        var down = Set<String>()
        harness.answer = { request in
            if case .tcp(let target) = request, down.contains("\(target.address)") { return .failed("down") }
            return .ok()
        }
        harness.start()
        down = ["198.51.100.10", "198.51.100.11"]
        harness.advance(by: .seconds(6))
        #expect(harness.planner.servers[0].pool.quorumUp, "2 is not below 3 - 1")
        down = ["198.51.100.10", "198.51.100.11", "198.51.100.12"]
        harness.advance(by: .seconds(6))
        #expect(harness.destinations(80) == ["198.51.100.99:80/1"], "1 < 3 - 1: the sorry server alone")
        #expect(harness.notifications.contains(.virtualServer("[203.0.113.50]:tcp:80", up: false, script: nil)))
        down = ["198.51.100.10", "198.51.100.11"]
        harness.advance(by: .seconds(6))
        #expect(harness.destinations(80) == ["198.51.100.99:80/1"], "2 < 3 + 1: not yet")
        down = []
        harness.advance(by: .seconds(6))
        #expect(harness.destinations(80).count == 4)
        #expect(harness.notifications.contains(.virtualServer("[203.0.113.50]:tcp:80", up: true, script: nil)))
    }

    @Test("checks due within 10 ms share a wake-up: deadlines round to the nearest 10 ms")
    func slots() {
        #expect(CheckerPlanner.slot(MonotonicTime(.milliseconds(1004))) == MonotonicTime(.milliseconds(1000)))
        #expect(CheckerPlanner.slot(MonotonicTime(.milliseconds(1005))) == MonotonicTime(.milliseconds(1010)))
    }
}

@Suite("Checker planner: reload")
struct CheckerPlannerReloadTests {
    @Test("a virtual server added above the others leaves every checker below as it was (they were keyed by position)")
    func addedAbove() {
        let before = virtualServer(80, realServer(10) + realServer(11))
        var harness = CheckerHarness(before)
        var down = Set<String>()
        harness.answer = { request in
            if case .tcp(let target) = request, down.contains("\(target.address)") { return .failed("down") }
            return .ok()
        }
        harness.start()
        down = ["198.51.100.10"]
        harness.advance(by: .seconds(8))
        #expect(harness.destinations(80) == ["198.51.100.11:80/1"])
        let ids = harness.planner.checkers.map(\.id)
        let after = virtualServer(8080, realServer(20)) + before
        let loaded = ConfigLoader.load(text: after, options: ConfigLoader.Options(configID: "test"))
        harness.feed(harness.planner.configurationLoaded(loaded, now: harness.now))
        #expect(harness.destinations(80) == ["198.51.100.11:80/1"], "the failed server did not come back")
        #expect(harness.planner.checkers.suffix(2).map(\.id) == ids, "kept, with their ids")
        #expect(harness.logs.contains { $0.hasSuffix("(2 kept)") }, "\(harness.logs)")
        #expect(harness.destinations(8080) == ["198.51.100.20:80/1"])
    }

    @Test("a checker whose settings changed starts over; global_defs and SSL changes reach the executor")
    func changed() {
        var harness = CheckerHarness(virtualServer(80, realServer(10)))
        harness.start()
        let id = harness.planner.checkers[0].id
        let changed =
            "global_defs {\n    router_id other\n}\nSSL {\n    ca /etc/ca.pem\n}\n"
            + virtualServer(80, realServer(10, checker: "TCP_CHECK {\n connect_timeout 2\n }"))
        let loaded = ConfigLoader.load(text: changed, options: ConfigLoader.Options(configID: "test"))
        harness.feed(harness.planner.configurationLoaded(loaded, now: harness.now))
        #expect(harness.planner.checkers[0].id != id)
        #expect(harness.actions.contains(.replaceNotifier(loaded.configuration.global)))
        #expect(harness.actions.contains(.replaceTLS(loaded.configuration.ssl)))
    }

    @Test("a file with errors is refused; one reload at a time")
    func refused() {
        var harness = CheckerHarness(virtualServer(80, realServer(10)))
        harness.start()
        #expect(harness.planner.reloadRequested().contains(.loadConfiguration))
        #expect(harness.planner.reloadRequested() == [.log(.warning, "reload requested while one is in progress; ignored")])
        let broken = ConfigLoader.load(text: "virtual_server 203.0.113.50 80 {\n lb_algo nope\n}\n", options: ConfigLoader.Options(configID: "t"))
        harness.feed(harness.planner.configurationLoaded(broken, now: harness.now))
        #expect(harness.logs.last?.hasPrefix("reload refused") == true)
        #expect(harness.planner.servers.count == 1)
    }
}

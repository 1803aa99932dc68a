import Checkers
import HealthCheck
import Testing
import VRRP
import VigilConfig

@testable import Daemon

/// The checker rules keepalived 2.2.7 applies beyond a check's own result: how HTTP_GET goes through its URLs
/// (`fast_recovery`), `ha_suspend`, `omega`, `rs_init_notifies`, `no_checker_emails`, `checker_log_all_failures`.
@Suite("Checker planner: keepalived's rules around the checks")
struct CheckerKeepalivedRulesTests {
    /// The HTTP paths asked, with when, as the harness fires its timers (until `limit` timers or `condition`).
    struct Asks {
        var list: [(time: MonotonicTime, path: String)] = []
        var paths: [String] { list.map(\.path) }
    }

    static func run(
        _ harness: inout CheckerHarness, _ asked: () -> [String], into asks: inout Asks,
        until condition: (CheckerHarness) -> Bool, limit: Int = 200
    ) {
        for _ in 0..<limit where !condition(harness) {
            guard let (timer, deadline) = harness.timers.min(by: { $0.value < $1.value }) else { return }
            let before = asked().count
            harness.now = deadline
            harness.timers[timer] = nil
            harness.feed(harness.planner.timerFired(timer, now: harness.now))
            for path in asked()[before...] { asks.list.append((harness.now, path)) }
        }
    }

    final class Server: @unchecked Sendable {
        var failing: Set<String> = []
        var asked: [String] = []
    }

    static func httpHarness(_ extra: String) -> (CheckerHarness, Server) {
        let checker =
            "HTTP_GET {\n url {\n path /a\n }\n url {\n path /b\n }\n connect_timeout 1\n retry 0\n delay_before_retry 3\n \(extra)\n }"
        var harness = CheckerHarness(virtualServer(80, realServer(10, checker: checker), extra: "    alpha"))
        let server = Server()
        harness.answer = { request in
            guard case .http(_, let http, _, _) = request else { return .failed("?") }
            server.asked.append(http.path)
            return server.failing.contains(http.path) ? .failed("404") : .ok()
        }
        return (harness, server)
    }

    @Test("HTTP_GET goes through its URLs one per delay_loop; a failed URL alone is checked until it passes, then all again")
    func urlCycle() {
        var (harness, server) = Self.httpHarness("")
        var asks = Asks()
        harness.start()
        Self.run(&harness, { server.asked }, into: &asks, until: { $0.member(0, 0).isAlive })
        #expect(asks.paths == ["/a", "/b"], "\(asks.paths)")
        #expect(asks.list[1].time - asks.list[0].time == .seconds(2), "the next URL a delay_loop later")

        server.failing = ["/b"]
        asks = Asks()
        Self.run(&harness, { server.asked }, into: &asks, until: { !$0.member(0, 0).isAlive })
        #expect(asks.paths == ["/a", "/b"], "\(asks.paths)")

        server.failing = []
        asks = Asks()
        Self.run(&harness, { server.asked }, into: &asks, until: { $0.member(0, 0).isAlive })
        // Only /b, max(delay_before_retry 3, delay_loop 2) later; it passes, and every URL is checked again, a
        // delay_loop apart: up after the whole pass, as keepalived.
        #expect(asks.paths == ["/b", "/a", "/b"], "\(asks.paths)")
        let times = asks.list.map(\.time)
        #expect(times[1] - times[0] == .seconds(2) && times[2] - times[1] == .seconds(2))
    }

    @Test("fast_recovery: a checker that is down (or has not run) goes on to the next URL at once")
    func fastRecovery() {
        var (harness, server) = Self.httpHarness("fast_recovery")
        var asks = Asks()
        harness.start()
        Self.run(&harness, { server.asked }, into: &asks, until: { $0.member(0, 0).isAlive })
        #expect(asks.paths == ["/a", "/b"] && asks.list[0].time == asks.list[1].time, "\(asks.list)")

        server.failing = ["/a"]
        asks = Asks()
        Self.run(&harness, { server.asked }, into: &asks, until: { !$0.member(0, 0).isAlive })
        server.failing = []
        asks = Asks()
        Self.run(&harness, { server.asked }, into: &asks, until: { $0.member(0, 0).isAlive })
        #expect(asks.paths == ["/a", "/a", "/b"], "\(asks.paths)")
        #expect(Set(asks.list.map(\.time)).count == 1, "the failed URL passed: the whole pass at once")
    }

    @Test("ha_suspend: no checks while none of the virtual server's addresses is on this host; its state is kept")
    func haSuspend() {
        var harness = CheckerHarness(virtualServer(80, realServer(10), extra: "    ha_suspend"))
        var probes = 0
        harness.answer = { _ in
            probes += 1
            return .ok()
        }
        harness.feed(harness.planner.start(now: harness.now, localAddresses: [:]))
        #expect(harness.logs.contains { $0.hasPrefix("Deactivating healthchecker for service [198.51.100.10]:tcp:80") })
        harness.advance(by: .seconds(10))
        #expect(probes == 0, "suspended: nothing checked")
        #expect(harness.member(0, 0).isAlive, "its state kept (up, without alpha)")

        harness.feed(harness.planner.addressesChanged([IPAddress("203.0.113.50")!: 1]))
        #expect(harness.logs.contains { $0.hasPrefix("Activating healthchecker for service [198.51.100.10]:tcp:80") })
        harness.advance(by: .seconds(5))
        #expect(probes >= 2, "active: checked every delay_loop")

        harness.feed(harness.planner.addressesChanged([:]))
        #expect(harness.logs.contains { $0.hasPrefix("Suspending healthchecker") })
        let before = probes
        harness.advance(by: .seconds(10))
        #expect(probes == before)
    }

    @Test("ha_suspend on a firewall-mark virtual server is refused, as keepalived does")
    func haSuspendFirewallMark() {
        let result = ConfigLoader.load(
            text: "virtual_server fwmark 7 {\n ha_suspend\n real_server 198.51.100.10 80 {\n }\n}\n",
            options: ConfigLoader.Options(configID: "test"))
        #expect(result.diagnostics.contains { $0.message.contains("ha_suspend") && $0.severity == .warning })
        #expect(result.configuration.virtualServers.first?.haSuspend == false)
    }

    @Test("omega: on stop, the live real servers' notify_down and the virtual server's quorum_down; without it nothing")
    func omega() {
        let text = virtualServer(
            80,
            realServer(10, extra: "        notify_down /bin/down10") + realServer(11, extra: "        notify_down /bin/down11"),
            extra: "    omega\n    quorum_down /bin/quorum-down")
        var harness = CheckerHarness(text)
        harness.answer = { request in port(of: request) == 80 ? .ok() : .failed("?") }
        harness.start()
        harness.advance(by: .seconds(5))
        harness.feed(harness.planner.stop())
        let names = harness.notifications.compactMap { notification -> String? in
            switch notification {
            case .realServer(let name, _, let up, let script, _): "\(name) \(up) \(script?.arguments.first ?? "")"
            case .virtualServer(let name, let up, let script): "VS \(name) \(up) \(script?.arguments.first ?? "")"
            case .checkerMail: nil
            }
        }
        #expect(
            names == [
                "[198.51.100.10]:tcp:80 false /bin/down10", "[198.51.100.11]:tcp:80 false /bin/down11",
                "VS [203.0.113.50]:tcp:80 false /bin/quorum-down",
            ], "\(names)")
        let removal = harness.actions.firstIndex { $0 == .removeLoadBalancer }
        let lastNotification = harness.actions.lastIndex { if case .notify = $0 { true } else { false } }
        #expect(removal != nil && lastNotification != nil && lastNotification! < removal!)

        var plain = CheckerHarness(virtualServer(80, realServer(10, extra: "        notify_down /bin/down10")))
        plain.start()
        plain.feed(plain.planner.stop())
        #expect(plain.notifications.isEmpty)
    }

    @Test("rs_init_notifies: new real servers that start up say so once; a reload does not repeat it")
    func initialNotifies() {
        let text =
            "global_defs {\n rs_init_notifies\n}\n"
            + virtualServer(80, realServer(10, extra: "        notify_up /bin/up10") + realServer(11, extra: "        alpha"))
        var harness = CheckerHarness(text)
        harness.start()
        #expect(
            harness.notifications == [
                .realServer("[198.51.100.10]:tcp:80", of: "[203.0.113.50]:tcp:80", up: true, script: harness.planner.servers[0].realServers[0].notifyUp, mail: false)
            ], "the alpha one starts down: nothing")
        let before = harness.notifications.count
        let reloaded = ConfigLoader.load(text: text, options: ConfigLoader.Options(configID: "test"))
        harness.feed(harness.planner.configurationLoaded(reloaded, now: harness.now))
        #expect(harness.notifications.count == before)

        var plain = CheckerHarness(virtualServer(80, realServer(10, extra: "        notify_up /bin/up10")))
        plain.start()
        #expect(plain.notifications.isEmpty)
    }

    @Test("every checker change is mailed unless no_checker_emails; one that moves the real server is mailed with it")
    func checkerMails() {
        let checkers = "TCP_CHECK {\n connect_timeout 1\n retry 0\n }\n        TCP_CHECK {\n connect_port 81\n connect_timeout 1\n retry 0\n }"
        func run(_ global: String) -> [CheckerPlanner.Notification] {
            var harness = CheckerHarness(global + virtualServer(80, realServer(10, checker: checkers)))
            var failing: Set<UInt16> = []
            harness.answer = { request in failing.contains(port(of: request)) ? .failed("refused") : .ok() }
            harness.start()
            harness.advance(by: .seconds(5))
            failing = [81]
            harness.advance(by: .seconds(5))
            failing = [80, 81]
            harness.advance(by: .seconds(5))
            return harness.notifications
        }
        let mails = run("").filter { if case .checkerMail = $0 { true } else { false } }
        let downs = run("").filter { if case .realServer(_, _, false, _, true) = $0 { true } else { false } }
        #expect(downs.count == 1, "the first checker down moves the real server: mailed with it")
        #expect(mails == [.checkerMail("[198.51.100.10]:tcp:80", of: "[203.0.113.50]:tcp:80", up: false)], "the second checker down: its own mail")
        let quiet = run("global_defs {\n no_checker_emails\n}\n").filter { if case .checkerMail = $0 { true } else { false } }
        #expect(quiet.isEmpty)
    }

    @Test("checker_log_all_failures logs every failure, not only changes")
    func logAllFailures() {
        func logs(_ global: String) -> [String] {
            var harness = CheckerHarness(global + virtualServer(80, realServer(10)))
            harness.answer = { _ in .failed("refused") }
            harness.start()
            harness.advance(by: .seconds(20))
            return harness.logs
        }
        func failures(_ global: String) -> Int {
            var harness = CheckerHarness(global + virtualServer(80, realServer(10)))
            harness.answer = { _ in .failed("refused") }
            harness.start()
            harness.advance(by: .seconds(20))
            return harness.logs.filter { $0.contains("failed: refused") }.count
        }
        // Each attempt while the real server is up (the default retry 1: two), none once it is down.
        #expect(failures("") == 2, "\(logs(""))")
        #expect(failures("global_defs {\n checker_log_all_failures\n}\n") > 3)
    }
}

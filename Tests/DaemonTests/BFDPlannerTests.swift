import BFD
import Foundation
import Logging
import LinuxNet
import Testing
import VRRP
import VigilConfig

@testable import Daemon

@Suite("BFD planner: sessions, matching, what the other processes hear")
struct BFDPlannerTests {
    static func instances(_ text: String) -> [BFDInstance] {
        ConfigLoader.load(text: text, options: ConfigLoader.Options(configID: "test")).configuration.bfdInstances
    }

    static let text = """
        bfd_instance r1 {
            neighbor_ip 198.51.100.3
            source_ip 198.51.100.1
            min_rx 10
            min_tx 10
            multiplier 3
        }
        bfd_instance r2 {
            neighbor_ip 2001:db8::3
            checker
        }

        """

    /// The packets the planner sent to `neighbor`.
    static func sent(_ actions: [BFDPlanner.Action], to neighbor: String) -> [ControlPacket] {
        actions.compactMap {
            if case .send(_, let bytes, let to) = $0, to == IPAddress(neighbor)! { try? ControlPacket(decoding: bytes) }
            else { nil }
        }
    }

    static func events(_ actions: [BFDPlanner.Action]) -> [BFDEvent] {
        actions.compactMap { if case .publish(let event) = $0 { event } else { nil } }
    }

    /// What the router at 198.51.100.3 sends back.
    static func reply(to packet: ControlPacket, state: SessionState, discriminator: UInt32 = 77) -> ControlPacket {
        ControlPacket(
            diagnostic: .none, state: state, detectMultiplier: 3, myDiscriminator: discriminator,
            yourDiscriminator: packet.myDiscriminator, desiredMinTX: 10_000, requiredMinRX: 10_000)
    }

    @Test("each instance starts Down with its socket and first packet; the processes hear Down at once")
    func start() {
        var planner = BFDPlanner(seed: 1)
        let actions = planner.configure(Self.instances(Self.text), now: .zero)
        #expect(actions.contains(.openSession(name: "r1", family: .ipv4, source: IPAddress("198.51.100.1"), ttl: 255)))
        #expect(
            actions.contains(.openSession(name: "r2", family: .ipv6, source: nil, ttl: 255)),
            "IPv6: sent with hop limit 255 (RFC 5881), received with at least 64 (keepalived)")
        let first = Self.sent(actions, to: "198.51.100.3")
        #expect(first.count == 1 && first[0].state == .down && first[0].yourDiscriminator == 0)
        #expect(first[0].desiredMinTX == 1_000_000, "idle_tx while not Up")
        #expect(Self.events(actions) == [BFDEvent(name: "r1", up: false), BFDEvent(name: "r2", up: false)])
        #expect(planner.follows("r1", vrrp: true) && planner.follows("r1", vrrp: false))
        #expect(!planner.follows("r2", vrrp: true) && planner.follows("r2", vrrp: false), "`checker` only")
    }

    @Test("the handshake by address, then by discriminator; Up is published once; the TTL is checked; strangers are dropped and counted")
    func handshake() {
        var planner = BFDPlanner(seed: 1)
        let first = Self.sent(planner.configure(Self.instances(Self.text), now: .zero), to: "198.51.100.3")[0]
        let router = IPAddress("198.51.100.3")!
        // TTL 254: one hop too far for a single-hop session (RFC 5881 5).
        var actions = planner.received(
            Self.reply(to: first, state: .initializing).encoded, from: router, to: IPAddress("198.51.100.1"), ttl: 254,
            now: MonotonicTime(.milliseconds(5)))
        #expect(Self.events(actions).isEmpty)
        #expect(planner.dropped["TTL 254 below 255"] == 1)
        actions = planner.received(
            Self.reply(to: first, state: .initializing).encoded, from: router, to: IPAddress("198.51.100.1"), ttl: 255,
            now: MonotonicTime(.milliseconds(5)))
        #expect(Self.events(actions) == [BFDEvent(name: "r1", up: true)])
        #expect(actions.contains(.log(.info, "(r1) Entering Up state")))
        // Up: the next packets poll for the faster interval.
        let record = planner.records["r1"]!
        #expect(record.session.state == .up && record.session.polling)
        // A packet for no session, one from the wrong address, and a truncated one.
        var stranger = Self.reply(to: first, state: .up)
        stranger.yourDiscriminator = 12345
        _ = planner.received(stranger.encoded, from: router, to: nil, ttl: 255, now: MonotonicTime(.milliseconds(6)))
        _ = planner.received(
            Self.reply(to: first, state: .up).encoded, from: IPAddress("198.51.100.9")!, to: nil, ttl: 255,
            now: MonotonicTime(.milliseconds(6)))
        _ = planner.received([0x20, 0xc0], from: router, to: nil, ttl: 255, now: MonotonicTime(.milliseconds(6)))
        #expect(planner.dropped["no session"] == 1)
        #expect(planner.dropped["wrong source address"] == 1)
        #expect(planner.dropped[ControlPacket.Rejection.truncated.rawValue] == 1)
        #expect(planner.records["r1"]!.session.state == .up)
        // Silence: Down after 3 × 10 ms, published, logged as keepalived does.
        let expired = planner.timerFired("r1", now: MonotonicTime(.milliseconds(36)))
        #expect(Self.events(expired) == [BFDEvent(name: "r1", up: false)])
        #expect(expired.contains(.log(.info, "(r1) Expired after 30 ms (1000 usec overdue)")))
        #expect(
            expired.contains(
                .log(
                    .warning,
                    "(r1) Entering Down state (Local diagnostic - Control Detection Time Expired, Remote diagnostic - No Diagnostic)"
                )))
    }

    @Test("the peer going AdminDown takes the session down without telling the processes (RFC 5882)")
    func adminDownIsNotAFailure() {
        var planner = BFDPlanner(seed: 1)
        let first = Self.sent(planner.configure(Self.instances(Self.text), now: .zero), to: "198.51.100.3")[0]
        let router = IPAddress("198.51.100.3")!
        _ = planner.received(Self.reply(to: first, state: .initializing).encoded, from: router, to: nil, ttl: 255, now: .zero)
        let actions = planner.received(Self.reply(to: first, state: .adminDown).encoded, from: router, to: nil, ttl: 255, now: .zero)
        #expect(planner.records["r1"]!.session.state == .down)
        #expect(Self.events(actions).isEmpty)
        #expect(planner.snapshot.first { $0.name == "r1" }?.up == true)
    }

    @Test("a reload keeps a session whose name and addresses stay (state, discriminator), polls for new intervals, and replaces or removes the others")
    func reload() {
        var planner = BFDPlanner(seed: 1)
        let first = Self.sent(planner.configure(Self.instances(Self.text), now: .zero), to: "198.51.100.3")[0]
        _ = planner.received(
            Self.reply(to: first, state: .initializing).encoded, from: IPAddress("198.51.100.3")!, to: nil, ttl: 255,
            now: .zero)
        // Let the Poll Sequence for the Up intervals end.
        var final = Self.reply(to: first, state: .up)
        final.final = true
        _ = planner.received(final.encoded, from: IPAddress("198.51.100.3")!, to: nil, ttl: 255, now: MonotonicTime(.milliseconds(1)))
        let discriminator = planner.records["r1"]!.session.localDiscriminator
        let changed = Self.text.replacingOccurrences(of: "min_tx 10", with: "min_tx 20")
            .replacingOccurrences(of: "neighbor_ip 2001:db8::3", with: "neighbor_ip 2001:db8::4")
        let actions = planner.configure(Self.instances(changed), now: MonotonicTime(.milliseconds(2)))
        let r1 = planner.records["r1"]!.session
        #expect(r1.state == .up && r1.localDiscriminator == discriminator)
        #expect(r1.polling, "new intervals: the peer learns them through a Poll Sequence")
        #expect(!actions.contains(.closeSession(name: "r1")))
        #expect(Self.events(actions).allSatisfy { $0.name == "r2" }, "r1 is not published again: it did not change")
        #expect(actions.contains(.closeSession(name: "r2")), "a new neighbour is a new session")
        #expect(actions.contains(.openSession(name: "r2", family: .ipv6, source: nil, ttl: 255)))
        let removed = planner.configure([], now: MonotonicTime(.milliseconds(3)))
        #expect(removed.contains(.closeSession(name: "r1")) && removed.contains(.closeSession(name: "r2")))
        #expect(Self.sent(removed, to: "198.51.100.3").isEmpty, "nothing sent on removal: the peer times out (keepalived)")
    }

    @Test("a reload with errors is refused and the sessions run on; a good one moves them and tells the followers everything again")
    func reloadRefused() {
        var planner = BFDPlanner(seed: 1)
        _ = planner.configure(Self.instances(Self.text), now: .zero)
        let broken = ConfigLoader.load(
            text: Self.text + "vrrp_instance X {\n    virtual_router_id 300\n}\n",
            options: ConfigLoader.Options(configID: "test"))
        let refused = planner.configurationLoaded(broken, now: .zero)
        #expect(refused.contains { if case .log(.error, let text) = $0 { text.hasPrefix("Reload refused") } else { false } })
        #expect(!refused.contains { if case .closeSession = $0 { true } else { false } })
        let good = ConfigLoader.load(text: "bfd_instance r1 {\n    neighbor_ip 198.51.100.3\n}\n", options: ConfigLoader.Options(configID: "test"))
        let moved = planner.configurationLoaded(good, now: .zero)
        #expect(moved.contains(.closeSession(name: "r2")))
        #expect(Self.events(moved).contains(BFDEvent(name: "r1", up: false)), "the followers hear every session again")
    }

    @Test("events cross the process boundary as lines")
    func eventLines() {
        let events = [BFDEvent(name: "a", up: true), BFDEvent(name: "b", up: false)]
        #expect(BFDEvent.parse(events.map(\.line).joined()) == events)
        #expect(BFDEvent.parse("junk\na sideways\nc up\n") == [BFDEvent(name: "c", up: true)])
    }
}

@Suite("VRRP planner: track_bfd")
struct VRRPPlannerBFDTests {
    static let bfd = "bfd_instance r {\n    neighbor_ip 198.51.100.3\n}\n"

    @Test("weight 0: FAULT until the BFD process says Up (keepalived starts tracked BFD down), FAULT again on Down")
    func fault() {
        var harness = PlannerHarness(Self.bfd + instanceText(priority: 100, extra: "    track_bfd {\n        r\n    }"))
        harness.start()
        #expect(harness.actions.contains(.followBFD(true)))
        #expect(harness.state("VI_1") == .fault)
        harness.feed(harness.planner.bfdChanged([BFDEvent(name: "r", up: true)], now: harness.now))
        #expect(harness.state("VI_1") == .backup)
        #expect(harness.logs.contains("(VI_1) Tracked BFD instance r is UP"))
        harness.feed(harness.planner.bfdChanged([BFDEvent(name: "r", up: false)], now: harness.now))
        #expect(harness.state("VI_1") == .fault)
    }

    @Test("a weight (from track_bfd, else the bfd_instance's) moves the priority; reverse inverts it")
    func weights() {
        func priority(_ harness: PlannerHarness) -> Int? { harness.planner.router(named: "VI_1")?.router.effectivePriority }
        var harness = PlannerHarness(
            "bfd_instance r {\n    neighbor_ip 198.51.100.3\n    weight -30\n}\n"
                + instanceText(priority: 100, extra: "    track_bfd {\n        r\n    }"))
        harness.start()
        #expect(priority(harness) == 70, "down at start")
        harness.feed(harness.planner.bfdChanged([BFDEvent(name: "r", up: true)], now: harness.now))
        #expect(priority(harness) == 100)
        var reversed = PlannerHarness(
            Self.bfd + instanceText(priority: 100, extra: "    track_bfd {\n        r weight 20 reverse\n    }"))
        reversed.start()
        #expect(priority(reversed) == 100, "reverse: down moves nothing")
        reversed.feed(reversed.planner.bfdChanged([BFDEvent(name: "r", up: true)], now: reversed.now))
        #expect(priority(reversed) == 80, "reverse: up takes the weight off")
    }

    @Test("a track_bfd naming no bfd_instance (or a `checker`-only one) is ignored, with a warning")
    func unknown() {
        let result = ConfigLoader.load(
            text: "bfd_instance c {\n    neighbor_ip 198.51.100.3\n    checker\n}\n"
                + instanceText(priority: 100, extra: "    track_bfd {\n        c\n        nothere\n    }"),
            options: ConfigLoader.Options(configID: "test"))
        #expect(result.configuration.instances[0].trackBFDs.isEmpty)
        #expect(result.diagnostics.contains { $0.message.contains("tracks BFD c, but no `bfd_instance c` reports to VRRP") })
        #expect(result.diagnostics.contains { $0.message.contains("tracks BFD nothere, but no `bfd_instance nothere` is defined") })
        var harness = PlannerHarness(result.configuration)
        harness.start()
        #expect(!harness.actions.contains(.followBFD(true)))
    }
}

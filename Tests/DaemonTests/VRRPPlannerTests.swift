import LinuxNet
import Testing
import VRRP
import VigilConfig

@testable import Daemon

/// Drives a `VRRPPlanner` as the executor does, over a made-up clock: actions are recorded, timers kept and fired
/// in order, address changes answered at once (by `addressAnswer`), as the kernel would.
struct PlannerHarness {
    var planner: VRRPPlanner
    var now = MonotonicTime.zero
    var actions: [VRRPPlanner.Action] = []
    var timers: [VRRPPlanner.Timer: MonotonicTime] = [:]
    var addressAnswer: (InterfaceAddress, Bool) -> Int32 = { _, _ in 0 }
    /// Addresses on the (pretend) interfaces, as the answered changes left them.
    var addresses = Set<String>()
    /// Routes and rules the fake kernel holds, and its answer to each change.
    var entries: [KernelEntry] = []
    var entryAnswer: (KernelEntry, Bool) -> Int32 = { _, _ in 0 }

    init(_ text: String, options: VRRPPlanner.Options = VRRPPlanner.Options()) {
        planner = VRRPPlanner(configuration: Self.configuration(text), options: options)
    }

    init(_ configuration: Configuration, options: VRRPPlanner.Options = VRRPPlanner.Options()) {
        planner = VRRPPlanner(configuration: configuration, options: options)
    }

    static func configuration(_ text: String) -> Configuration {
        ConfigLoader.load(text: text, options: ConfigLoader.Options(configID: "test")).configuration
    }

    mutating func feed(_ new: [VRRPPlanner.Action]) {
        var queue = new[...]
        while let action = queue.popFirst() {
            actions.append(action)
            switch action {
            case .arm(let timer, let deadline): timers[timer] = deadline
            case .cancel(let timer): timers[timer] = nil
            case .change(let owner, let entry, let add):
                let errno: Int32
                switch entry {
                case .address(let address):
                    errno = addressAnswer(address, add)
                    if errno == 0 {
                        if add { addresses.insert("\(address.index) \(address.prefix)") } else {
                            addresses.remove("\(address.index) \(address.prefix)")
                        }
                    }
                case .route, .rule:
                    errno = entryAnswer(entry, add)
                    if errno == 0 {
                        if add { entries.append(entry) } else { entries.removeAll { $0 == entry } }
                    }
                }
                queue = planner.changed(owner, entry, add: add, errno: errno, message: nil) + queue
            case .proceed(let continuation):
                queue = planner.proceed(continuation) + queue
            default: break
            }
        }
    }

    mutating func start(_ interfaces: [NetlinkMessage.Event] = Interfaces.standard) {
        feed(planner.start(interfaces: interfaces, forwarding: [:], now: now))
    }

    /// Fires every timer due by `time`, in deadline order.
    mutating func advance(to time: MonotonicTime) {
        while let (timer, deadline) = timers.filter({ $0.value <= time }).min(by: { $0.value < $1.value }) {
            now = deadline
            timers[timer] = nil
            feed(planner.timerFired(timer, now: now))
        }
        now = time
    }

    mutating func advance(by duration: Duration) { advance(to: now + duration) }

    /// The actions recorded since `mark`.
    func since(_ mark: Int) -> [VRRPPlanner.Action] { Array(actions[mark...]) }

    var logs: [String] {
        actions.compactMap { if case .log(_, let text) = $0 { text } else { nil } }
    }

    var sent: [VRRPPlanner.OutgoingAdvert] {
        actions.compactMap { if case .send(let advert) = $0 { advert } else { nil } }
    }

    func state(_ name: String) -> VirtualRouter.State? { planner.router(named: name)?.router.state }

    /// An advert from `source` as the socket would deliver it (IPv4, header included).
    static func advert(
        vrid: UInt8 = 51, priority: UInt8, from source: String = "198.51.100.2", addresses: [String] = ["198.51.100.100"],
        password: String? = nil
    ) -> Datagram {
        let from = IPAddress(source)!
        let group = IPAddress("224.0.0.18")!
        let advert = Advertisement(
            version: .v2, virtualRouterID: vrid, priority: priority, interval: .seconds(1),
            addresses: addresses.map { IPAddress($0)! },
            authentication: password.map { .password(Array($0.utf8)) } ?? .none)
        let bytes = IPv4Packet.advert(
            advert.encoded(source: from, destination: group), source: from, destination: group, ttl: 255,
            identification: 1)
        return Datagram(bytes: bytes[...], source: from)
    }
}

enum Interfaces {
    static let mac: [UInt8] = [2, 0, 0x5e, 0, 0, 1]

    static func link(_ index: Int32, _ name: String, up: Bool = true) -> NetlinkMessage.Event {
        var link = Link(index: index, name: name, flags: up ? 0x41 : 0)
        link.hardwareAddress = mac
        return .link(link, removed: false)
    }

    static func address(_ index: Int32, _ prefix: String, tag: UInt8? = nil) -> NetlinkMessage.Event {
        var address = InterfaceAddress(index: index, prefix: IPPrefix(prefix)!)
        address.protocol = tag
        return .address(address, removed: false)
    }

    static let standard: [NetlinkMessage.Event] = [link(2, "eth0"), address(2, "198.51.100.1/24")]
}

func instanceText(
    name: String = "VI_1", state: String = "BACKUP", priority: Int = 100, vrid: Int = 51, interface: String = "eth0",
    addresses: [String] = ["198.51.100.100"], extra: String = ""
) -> String {
    """
    vrrp_instance \(name) {
        state \(state)
        interface \(interface)
        virtual_router_id \(vrid)
        priority \(priority)
        advert_int 1
        virtual_ipaddress {
    \(addresses.map { "        \($0)" }.joined(separator: "\n"))
        }
    \(extra)
    }

    """
}

@Suite("VRRP planner: start, adverts, addresses")
struct VRRPPlannerStartTests {
    @Test("the address owner opens its socket, resigns nothing, and takes over at once")
    func owner() {
        var harness = PlannerHarness(instanceText(state: "MASTER", priority: 255))
        harness.start()
        #expect(harness.actions.contains(.openSocket(SocketKey(index: 2, family: .ipv4), interface: "eth0", multicastGroup: IPAddress("224.0.0.18"))))
        #expect(harness.state("VI_1") == .initialize, "until its (zero) start-up delay runs out")
        harness.advance(by: .zero)
        #expect(harness.state("VI_1") == .master)
        #expect(harness.sent.count == 1 && harness.sent[0].bytes[9] == 112, "one advert, protocol 112")
        #expect(harness.addresses == ["2 198.51.100.100/32"])
        #expect(harness.actions.contains { if case .announce = $0 { true } else { false } })
        #expect(harness.actions.contains(.systemd("READY=1\nSTATUS=1 instance: 1 INIT")))
    }

    @Test("each instance is kept once, by its router, without the file's keyword lines; an action stays small")
    func footprint() {
        var harness = PlannerHarness(instanceText(state: "MASTER", priority: 255) + instanceText(name: "VI_2", vrid: 52, addresses: ["198.51.100.101"]))
        harness.start()
        #expect(harness.planner.routers.map(\.instance.name) == ["VI_1", "VI_2"])
        #expect(harness.planner.configuration.instances.isEmpty, "a second copy of every instance")
        #expect(harness.planner.routers.allSatisfy { $0.instance.keywordLocations.isEmpty })
        // One action is queued and copied per advert sent: a notification's instance or a kernel entry inline
        // made every action 1,416 bytes.
        #expect(MemoryLayout<VRRPPlanner.Action>.stride <= 160, "\(MemoryLayout<VRRPPlanner.Action>.stride) bytes")
        // What each instance costs for as long as it runs (the scaling curve's slope): its router, and a kernel
        // entry per address it holds (an address inline beside a route's 296 bytes made every entry that large).
        #expect(MemoryLayout<RouterState>.stride <= 1_600, "\(MemoryLayout<RouterState>.stride) bytes")
        #expect(MemoryLayout<KernelEntry>.stride <= 128, "\(MemoryLayout<KernelEntry>.stride) bytes")
    }

    @Test("a backup takes over after Master_Down_Interval, and keeps advertising every interval")
    func backupTakesOver() {
        var harness = PlannerHarness(instanceText(priority: 100))
        harness.start()
        harness.advance(by: .seconds(3))
        #expect(harness.state("VI_1") == .backup)
        harness.advance(by: .milliseconds(700))
        #expect(harness.state("VI_1") == .master, "3 s + (256 - 100)/256 s")
        #expect(harness.actions.contains { if case .proceed(let rest) = $0 { rest.independent } else { false } })
        let adverts = harness.sent.count
        harness.advance(by: .seconds(3))
        #expect(harness.sent.count == adverts + 3)
    }

    @Test("a takeover's advert is the first thing out: the rest (addresses, announcements, the group) is worked out behind it")
    func takeoverAdvertFirst() {
        // A sync group: the second member follows the first's takeover, inside what is worked out behind the advert.
        let text =
            "vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n"
            + instanceText(name: "VI_1", priority: 100)
            + instanceText(name: "VI_2", priority: 100, vrid: 52, interface: "eth1", addresses: ["203.0.113.100"])
        var harness = PlannerHarness(text)
        harness.start(Interfaces.standard + [Interfaces.link(3, "eth1"), Interfaces.address(3, "203.0.113.1/24")])
        harness.advance(by: .seconds(3))
        #expect(harness.state("VI_1") == .backup && harness.state("VI_2") == .backup)
        // A member whose timer runs out first waits for the group (keepalived's rule); the first takeover's actions:
        var first = [VRRPPlanner.Action]()
        while harness.state("VI_1") == .backup && harness.state("VI_2") == .backup,
            let (timer, deadline) = harness.timers.min(by: { $0.value < $1.value })
        {
            harness.timers[timer] = nil
            harness.now = deadline
            first = harness.planner.timerFired(timer, now: deadline)
            if harness.state("VI_1") == .backup && harness.state("VI_2") == .backup { harness.feed(first) }
        }
        guard first.count == 2, case .send(let advert) = first[0], case .proceed(let rest) = first[1] else {
            Issue.record("not an advert and the rest behind it: \(first)")
            return
        }
        #expect(advert.bytes[9] == 112 && advert.bytes[22] == 100, "a VRRP advert at priority 100")
        // Behind it: the state change, its addresses and announcements, and the other member's takeover.
        let mark = harness.actions.count
        harness.feed(first)
        let behind = harness.since(mark + 2)
        #expect(rest.actions.contains { if case .stateChanged(_, .master, _) = $0 { true } else { false } })
        #expect(!rest.independent, "a sync group's member: its rest may not wait for other routers")
        #expect(harness.state("VI_1") == .master && harness.state("VI_2") == .master)
        #expect(harness.addresses.isSuperset(of: ["2 198.51.100.100/32", "3 203.0.113.100/32"]))
        #expect(behind.contains { if case .announce = $0 { true } else { false } })
        #expect(harness.sent.suffix(2).map { $0.socket.index }.sorted() == [2, 3], "both members advertised")
        // Done after the proceed is the same as done in one go: no action left for later, no proceed from proceed.
        #expect(!behind.contains { if case .proceed = $0 { true } else { false } })
    }

    @Test("an address already there belongs to someone else: used, never removed; a failed removal is an error")
    func addressPolicy() {
        var harness = PlannerHarness(instanceText(state: "MASTER", priority: 255, addresses: ["198.51.100.100", "198.51.100.101"]))
        harness.addressAnswer = { address, add in
            if add && address.prefix.address == IPAddress("198.51.100.101") { return 17 }  // EEXIST
            if !add { return 1 }  // EPERM
            return 0
        }
        harness.start()
        harness.advance(by: .zero)
        #expect(harness.logs.contains { $0.contains("198.51.100.101/32 is already on eth0; leaving it to its owner") })
        let mark = harness.actions.count
        harness.feed(harness.planner.stop(now: harness.now))
        let removals = harness.since(mark).compactMap { action -> String? in
            if case .change(_, .address(let address), false) = action { "\(address.prefix)" } else { nil }
        }
        #expect(removals == ["198.51.100.100/32"], "only what Vigil added")
        #expect(harness.logs.contains { $0.contains("cannot remove 198.51.100.100/32 from eth0") })
        #expect(harness.actions.last == .exit)
    }

    @Test("leftovers of an earlier Vigil are removed at start, and a failed removal is not called removed")
    func leftovers() {
        var interfaces = Interfaces.standard
        interfaces.append(Interfaces.address(2, "198.51.100.100/32", tag: 86))
        interfaces.append(Interfaces.address(2, "198.51.100.102/32", tag: 86))
        var harness = PlannerHarness(instanceText())
        harness.addressAnswer = { address, _ in address.prefix.address == IPAddress("198.51.100.102") ? 1 : 0 }
        harness.start(interfaces)
        #expect(harness.logs.contains("removed 198.51.100.100/32 left by an earlier Vigil on eth0"))
        #expect(!harness.logs.contains { $0.hasPrefix("removed 198.51.100.102") })
        #expect(harness.logs.contains { $0.contains("cannot remove 198.51.100.102/32 from eth0") })
    }

    @Test("-V leaves the addresses in place on stop; -X also removes one Vigil found there")
    func releaseOptions() {
        var keep = VRRPPlanner.Options()
        keep.releaseOnStop = false
        var harness = PlannerHarness(instanceText(state: "MASTER", priority: 255), options: keep)
        harness.start()
        harness.advance(by: .zero)
        harness.feed(harness.planner.stop(now: harness.now))
        #expect(harness.addresses == ["2 198.51.100.100/32"])

        var release = VRRPPlanner.Options()
        release.releaseEveryAddress = true
        var other = PlannerHarness(instanceText(state: "MASTER", priority: 255), options: release)
        other.addressAnswer = { _, add in add ? 17 : 0 }  // it was there before Vigil
        other.start()
        other.advance(by: .zero)
        let mark = other.actions.count
        other.feed(other.planner.stop(now: other.now))
        #expect(other.since(mark).contains { if case .change(_, .address, false) = $0 { true } else { false } })
    }

    @Test("AH: one sequence number per advert, carried on from what was heard")
    func authenticationSequence() {
        var harness = PlannerHarness(
            instanceText(
                state: "MASTER", priority: 255,
                extra: "    authentication {\n        auth_type AH\n        auth_pass secret1\n    }"))
        harness.start()
        harness.advance(by: .seconds(2))
        let sequences = harness.sent.map { advert -> UInt32 in
            #expect(advert.bytes[9] == 51)
            return advert.bytes[28..<32].reduce(0) { $0 << 8 | UInt32($1) }
        }
        #expect(sequences == [1, 2, 3])
        #expect(harness.actions.contains(.openSocket(SocketKey(index: 2, family: .ipv4, authenticated: true), interface: "eth0", multicastGroup: IPAddress("224.0.0.18"))))
    }
}

@Suite("VRRP planner: receiving")
struct VRRPPlannerReceiveTests {
    @Test("a better master sends ours back to BACKUP; bad packets are counted, once logged, and change nothing")
    func receive() {
        var harness = PlannerHarness(instanceText(state: "MASTER", priority: 255))
        harness.start()
        harness.advance(by: .zero)
        let key = SocketKey(index: 2, family: .ipv4)
        // A wrong checksum, twice within 10 s: one line; a third after 10 s says how many were not logged.
        var broken = PlannerHarness.advert(priority: 254)
        broken.bytes = broken.bytes.dropLast(1) + [broken.bytes.last! ^ 1]
        for _ in 0..<2 { harness.feed(harness.planner.received(broken, on: key, now: harness.now)) }
        harness.advance(by: .seconds(11))
        harness.feed(harness.planner.received(broken, on: key, now: harness.now))
        let lines = harness.logs.filter { $0.contains("bad checksum") }
        #expect(lines.count == 2 && lines[1].hasSuffix("(and 1 more like it)"), "\(lines)")
        #expect(harness.planner.router(named: "VI_1")?.counters[.checksum] == 3)
        #expect(harness.state("VI_1") == .master)
        // Another VRID: counted as unknown, nothing else.
        harness.feed(harness.planner.received(PlannerHarness.advert(vrid: 9, priority: 254), on: key, now: harness.now))
        #expect(harness.planner.unknownVirtualRouters == 1)
        // Truncated beyond reading: malformed.
        harness.feed(harness.planner.received(Datagram(bytes: [0x45, 0][...], source: IPAddress("198.51.100.2")!), on: key, now: harness.now))
        #expect(harness.planner.malformedPackets == 1)
        // Two owners meet: ours steps down to 254 (keepalived's rule), and the higher address wins.
        harness.feed(harness.planner.received(PlannerHarness.advert(priority: 255), on: key, now: harness.now))
        #expect(harness.logs.contains { $0.contains("both configured as address owner") })
        #expect(harness.state("VI_1") == .backup)
        #expect(harness.addresses.isEmpty, "the VIP went with MASTER")
    }
}

@Suite("VRRP planner: tracking and sync groups")
struct VRRPPlannerTrackingTests {
    static let scripts = """
        vrrp_script chk_weight {
            script "/bin/check"
            interval 2
            weight -60
        }
        vrrp_script chk_fault {
            script "/bin/fault"
            interval 2
        }

        """

    @Test("an instance waits for its scripts' first results; a weight moves the priority; weight 0 faults")
    func scripts() {
        var harness = PlannerHarness(
            Self.scripts
                + instanceText(
                    priority: 150, extra: "    track_script {\n        chk_weight\n        chk_fault\n    }"))
        harness.start()
        #expect(harness.state("VI_1") == .initialize, "waiting for its scripts")
        let runs = harness.actions.compactMap { action -> VRRPPlanner.ScriptRun? in
            if case .runScript(let run, _, _, _) = action { run } else { nil }
        }
        #expect(runs.map(\.name) == ["chk_fault", "chk_weight"])
        harness.feed(harness.planner.scriptEnded(runs[0], .exited(0), now: harness.now))
        #expect(harness.state("VI_1") == .initialize, "one script still has not reported")
        harness.feed(harness.planner.scriptEnded(runs[1], .exited(1), now: harness.now))
        #expect(harness.state("VI_1") == .backup)
        #expect(harness.planner.router(named: "VI_1")?.router.effectivePriority == 90, "150 - 60")
        // The next runs come one interval after the last started; chk_fault now fails: FAULT.
        harness.advance(by: .seconds(2))
        let faultRuns = harness.actions.filter { if case .runScript(runs[0], _, _, _) = $0 { true } else { false } }
        #expect(faultRuns.count == 2, "run again 2 s later")
        harness.feed(harness.planner.scriptEnded(runs[0], .signaled(9), now: harness.now))
        #expect(harness.state("VI_1") == .fault)
        #expect(harness.logs.contains("VRRP_Script(chk_fault) failed (due to signal 9)"))
    }

    @Test("a master's adverts are encoded once per priority: every one is what the RFC's encoding of its priority gives")
    func advertEncodingFollowsPriority() {
        var harness = PlannerHarness(
            Self.scripts
                + instanceText(state: "MASTER", priority: 150, extra: "    track_script {\n        chk_weight\n    }"))
        harness.start()
        guard case .runScript(let run, _, _, _)? = harness.actions.first(where: { if case .runScript = $0 { true } else { false } }) else {
            Issue.record("no script run")
            return
        }
        /// Runs for `duration`, every script run ending at once with `outcome`; the adverts sent meanwhile.
        func running(_ duration: Duration, _ outcome: VRRPPlanner.ScriptEnding) -> ArraySlice<VRRPPlanner.OutgoingAdvert> {
            let mark = harness.sent.count
            let end = harness.now + duration
            while harness.now < end {
                if harness.planner.scripts["chk_weight"]?.running == true {
                    harness.feed(harness.planner.scriptEnded(run, outcome, now: harness.now))
                }
                harness.advance(by: .milliseconds(100))
            }
            return harness.sent[mark...]
        }
        func expected(_ priority: UInt8) -> [UInt8] {
            Advertisement(
                version: .v2, virtualRouterID: 51, priority: priority, interval: .seconds(1),
                addresses: [IPAddress("198.51.100.100")!], authentication: .none
            ).encoded(source: IPAddress("198.51.100.1")!, destination: IPAddress("224.0.0.18")!)
        }
        let passing = running(.seconds(10), .exited(0))
        #expect(passing.count >= 4 && passing.allSatisfy { Array($0.bytes[20...]) == expected(150) })
        #expect(Set(passing.map { Array($0.bytes[4..<6]) }).count == passing.count, "a new IPv4 identification each")
        // The script fails: weight -60, the adverts carry 90; it passes again: 150.
        _ = running(.seconds(3), .exited(1))
        let failing = running(.seconds(3), .exited(1))
        #expect(failing.count >= 2 && failing.allSatisfy { Array($0.bytes[20...]) == expected(90) })
        _ = running(.seconds(3), .exited(0))
        let again = running(.seconds(3), .exited(0))
        #expect(again.count >= 2 && again.allSatisfy { Array($0.bytes[20...]) == expected(150) })
    }

    @Test("a script past its timeout is killed and counts as a failure")
    func timeout() {
        var harness = PlannerHarness(
            "vrrp_script slow {\n    script \"/bin/slow\"\n    interval 5\n    timeout 1\n}\n"
                + instanceText(extra: "    track_script {\n        slow\n    }"))
        harness.start()
        guard case .runScript(let run, _, _, _)? = harness.actions.first(where: { if case .runScript = $0 { true } else { false } }) else {
            Issue.record("no script run")
            return
        }
        harness.advance(by: .seconds(1))
        #expect(harness.actions.contains(.killScript(run)))
        harness.feed(harness.planner.scriptEnded(run, .signaled(9), now: harness.now))
        #expect(harness.logs.contains("VRRP_Script(slow) timed_out"))
    }

    @Test("the grace timer starts an instance whose scripts never answer")
    func grace() {
        var harness = PlannerHarness(
            "vrrp_script mute {\n    script \"/bin/mute\"\n    timeout 2\n}\n"
                + instanceText(extra: "    track_script {\n        mute\n    }"))
        harness.start()
        #expect(harness.timers[.scriptsGrace] == .zero + .seconds(3))
        harness.advance(by: .seconds(3))
        #expect(harness.state("VI_1") == .backup)
    }

    @Test("a sync group: one member's interface down puts every member in FAULT; back up, both recover")
    func syncGroupFault() {
        let text =
            "vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n"
            + instanceText(name: "VI_1", state: "MASTER", priority: 255)
            + instanceText(
                name: "VI_2", state: "MASTER", priority: 255, vrid: 52, interface: "eth1", addresses: ["203.0.113.100"])
        var harness = PlannerHarness(text)
        harness.start(Interfaces.standard + [Interfaces.link(3, "eth1"), Interfaces.address(3, "203.0.113.1/24")])
        harness.advance(by: .zero)
        #expect(harness.state("VI_1") == .master && harness.state("VI_2") == .master)
        harness.feed(harness.planner.interfacesChanged([Interfaces.link(3, "eth1", up: false)], forwarding: [:], now: harness.now))
        #expect(harness.state("VI_2") == .fault)
        #expect(harness.state("VI_1") == .fault, "the group follows its faulted member")
        #expect(harness.planner.router(named: "VI_1")?.individualFault == nil)
        #expect(harness.logs.contains("VRRP_Group(G1) Syncing instances to FAULT state"))
        harness.feed(harness.planner.interfacesChanged([Interfaces.link(3, "eth1")], forwarding: [:], now: harness.now))
        #expect(harness.state("VI_1") == .master && harness.state("VI_2") == .master)
    }

    @Test("tracked files are asked for, read values move the priority")
    func trackedFiles() {
        let text =
            "track_file flag {\n    file /run/flag\n    weight -10\n}\n"
            + instanceText(priority: 150, extra: "    track_file {\n        flag\n    }")
        var harness = PlannerHarness(text)
        harness.start()
        #expect(harness.actions.contains { if case .poll(let files, []) = $0 { files.map(\.name) == ["flag"] } else { false } })
        harness.feed(harness.planner.tracked(files: ["flag": 3], processes: [:], now: harness.now))
        #expect(harness.planner.router(named: "VI_1")?.router.effectivePriority == 120)
        harness.feed(harness.planner.tracked(files: ["flag": nil], processes: [:], now: harness.now))
        #expect(harness.planner.router(named: "VI_1")?.router.effectivePriority == 150, "a missing file reads 0")
    }
}

@Suite("VRRP planner: interfaces that come and go")
struct VRRPPlannerInterfaceTests {
    @Test("an interface missing at start: FAULT, then the instance attaches when it appears; deleted and created again, it follows")
    func dynamicInterfaces() {
        var harness = PlannerHarness(instanceText(state: "MASTER", priority: 255, interface: "eth1", addresses: ["203.0.113.100"]))
        harness.start()
        #expect(harness.logs.contains("(VI_1) interface eth1 does not exist"))
        #expect(harness.state("VI_1") == .fault)
        harness.feed(
            harness.planner.interfacesChanged(
                [Interfaces.link(5, "eth1"), Interfaces.address(5, "203.0.113.1/24")], forwarding: [:], now: harness.now))
        #expect(harness.actions.contains(.openSocket(SocketKey(index: 5, family: .ipv4), interface: "eth1", multicastGroup: IPAddress("224.0.0.18"))))
        #expect(harness.state("VI_1") == .master)
        var removed = Link(index: 5, name: "eth1", flags: 0)
        removed.hardwareAddress = Interfaces.mac
        harness.feed(harness.planner.interfacesChanged([.link(removed, removed: true)], forwarding: [:], now: harness.now))
        #expect(harness.actions.contains(.closeSocket(SocketKey(index: 5, family: .ipv4))))
        #expect(harness.state("VI_1") == .fault)
        #expect(!harness.logs.contains { $0.contains("cannot send an advert") }, "its resignation had nowhere to go")
        harness.feed(
            harness.planner.interfacesChanged(
                [Interfaces.link(7, "eth1"), Interfaces.address(7, "203.0.113.1/24")], forwarding: [:], now: harness.now))
        #expect(harness.actions.contains(.openSocket(SocketKey(index: 7, family: .ipv4), interface: "eth1", multicastGroup: IPAddress("224.0.0.18"))))
        #expect(harness.state("VI_1") == .master)
    }
}

@Suite("VRRP planner: reload")
struct VRRPPlannerReloadTests {
    @Test("a matched instance keeps its state and its kept addresses; only the changed ones move and are announced")
    func matched() {
        var harness = PlannerHarness(instanceText(state: "MASTER", priority: 255, addresses: ["198.51.100.100", "198.51.100.101"]))
        harness.start()
        harness.advance(by: .zero)
        let id = harness.planner.router(named: "VI_1")!.id
        let mark = harness.actions.count
        let new = PlannerHarness.configuration(
            instanceText(name: "VI_renamed", state: "MASTER", priority: 255, addresses: ["198.51.100.100", "198.51.100.102"]))
        harness.feed(harness.planner.apply(new, now: harness.now))
        #expect(harness.planner.router(named: "VI_renamed")?.id == id, "matched by VRID, family and interface")
        #expect(harness.state("VI_renamed") == .master)
        let changes = harness.since(mark).compactMap { action -> String? in
            if case .change(_, .address(let address), let add) = action { "\(add ? "+" : "-")\(address.prefix)" } else { nil }
        }
        #expect(changes == ["-198.51.100.101/32", "+198.51.100.102/32"])
        let announced = harness.since(mark).compactMap { action -> Int? in
            if case .announce(let announcement) = action { announcement.frames.count } else { nil }
        }
        #expect(announced == [5], "five announcements of the new address only")
        #expect(!harness.since(mark).contains { if case .send = $0 { true } else { false } }, "no extra advert")
    }

    @Test("a removed instance resigns with priority 0 and closes its socket; a new one opens its own and starts")
    func removedAndAdded() {
        var harness = PlannerHarness(instanceText(state: "MASTER", priority: 255))
        harness.start()
        harness.advance(by: .zero)
        let mark = harness.actions.count
        let new = PlannerHarness.configuration(
            instanceText(name: "VI_2", state: "MASTER", priority: 255, vrid: 60, interface: "eth1", addresses: ["203.0.113.100"]))
        harness.feed(harness.planner.interfacesChanged([Interfaces.link(3, "eth1"), Interfaces.address(3, "203.0.113.1/24")], forwarding: [:], now: harness.now))
        harness.feed(harness.planner.apply(new, now: harness.now))
        let after = harness.since(mark)
        #expect(after.contains { if case .send(let advert) = $0 { advert.bytes[22] == 0 } else { false } }, "priority 0")
        #expect(after.contains(.closeSocket(SocketKey(index: 2, family: .ipv4))))
        #expect(after.contains(.openSocket(SocketKey(index: 3, family: .ipv4), interface: "eth1", multicastGroup: IPAddress("224.0.0.18"))))
        #expect(harness.logs.contains("Reloaded: 0 instances kept, 1 added, 1 removed"))
        harness.advance(by: .zero)
        #expect(harness.state("VI_2") == .master)
    }

    @Test("a removed instance notifies DELETED with notify_deleted, else FAULT (nothing if it was in FAULT); never STOP")
    func deletedNotifications() {
        let kept = instanceText(name: "VI_K", vrid: 60)
        func notifications(_ text: String, fault: Bool = false) -> [VRRPPlanner.Notification] {
            var harness = PlannerHarness(text + kept)
            harness.start()
            harness.advance(by: .zero)
            if fault {
                harness.feed(
                    harness.planner.interfacesChanged([Interfaces.link(2, "eth0", up: false)], forwarding: [:], now: harness.now))
            }
            let mark = harness.actions.count
            harness.feed(harness.planner.apply(PlannerHarness.configuration(kept), now: harness.now))
            return harness.since(mark).compactMap { if case .notify(let notification) = $0 { notification } else { nil } }
        }
        let master = instanceText(state: "MASTER", priority: 255, extra: "    notify_deleted")
        // The instance as its router kept it (without the keywords' lines, which only the file's reading uses).
        let configuration = PlannerHarness.configuration(master)
        #expect(notifications(master) == [.deleted(RouterState.running(configuration.instances[0]), priority: 255)])
        let plain = instanceText(state: "MASTER", priority: 255)
        #expect(
            notifications(plain)
                == [.instance(RouterState.running(PlannerHarness.configuration(plain).instances[0]), .fault, priority: 255)])
        #expect(notifications(plain, fault: true).isEmpty)
    }

    @Test("an unchanged script keeps its state; a changed one starts over, and its old run's end is ignored")
    func scripts() {
        let script = "vrrp_script chk {\n    script \"/bin/check\"\n    interval 5\n}\n"
        let instance = instanceText(extra: "    track_script {\n        chk\n    }")
        var harness = PlannerHarness(script + instance)
        harness.start()
        let first = harness.actions.compactMap { if case .runScript(let run, _, _, _) = $0 { run } else { nil } }[0]
        // Reloaded with the same script while it runs: nothing happens to it.
        harness.feed(harness.planner.apply(PlannerHarness.configuration(script + instance), now: harness.now))
        #expect(!harness.actions.contains(.killScript(first)))
        // Changed: the running one is killed and a new run starts.
        let changed = "vrrp_script chk {\n    script \"/bin/check2\"\n    interval 5\n}\n"
        harness.feed(harness.planner.apply(PlannerHarness.configuration(changed + instance), now: harness.now))
        #expect(harness.actions.contains(.killScript(first)))
        let runs = harness.actions.compactMap { if case .runScript(let run, _, _, _) = $0 { run } else { nil } }
        #expect(runs.count == 2 && runs[1].generation != first.generation)
        let mark = harness.actions.count
        harness.feed(harness.planner.scriptEnded(first, .exited(1), now: harness.now))
        #expect(harness.since(mark).isEmpty, "the retired run's end changes nothing")
    }

    @Test("a file with errors is refused and changes nothing; one reload at a time")
    func refused() {
        var harness = PlannerHarness(instanceText())
        harness.start()
        #expect(harness.planner.reloadRequested().contains(.loadConfiguration))
        #expect(harness.planner.reloadRequested() == [.log(.warning, "reload requested while one is in progress; ignored")])
        let broken = ConfigLoader.load(text: "vrrp_instance {\n", options: ConfigLoader.Options(configID: "t"))
        harness.feed(harness.planner.configurationLoaded(broken, now: harness.now))
        #expect(harness.logs.contains { $0.hasPrefix("Reload refused") })
        #expect(harness.planner.router(named: "VI_1") != nil)
        #expect(harness.planner.reloadRequested().contains(.loadConfiguration), "ready for the next")
    }

    @Test("global_defs changed: the notifier is replaced (the executor closes the old one)")
    func notifier() {
        var harness = PlannerHarness(instanceText())
        harness.start()
        let new = PlannerHarness.configuration("global_defs {\n    router_id other\n}\n" + instanceText())
        let actions = harness.planner.apply(new, now: harness.now)
        #expect(actions.contains(.replaceNotifier(new.global)))
    }
}

@Suite("VRRP planner: routes, rules and static entries")
struct VRRPPlannerKernelEntryTests {
    static let interfaces = Interfaces.standard + [Interfaces.link(3, "eth1"), Interfaces.address(3, "192.0.2.1/24")]

    static func text(routes: [String] = ["10.60.0.0/16 via 198.51.100.254 dev eth0"], priority: Int = 255) -> String {
        """
        static_ipaddress {
            192.0.2.50/24 dev eth1
        }
        static_routes {
            10.50.0.0/16 via 192.0.2.254 dev eth1
        }
        static_rules {
            from 10.50.0.0/16 table 200 preference 500
        }
        """
            + instanceText(
                state: "MASTER", priority: priority,
                extra: """
                    virtual_routes {
                \(routes.map { "        " + $0 }.joined(separator: "\n"))
                    }
                    virtual_rules {
                        from 198.51.100.100 table 100 preference 100
                    }
                """)
    }

    /// "+"/"-" and a short name for every address, route and rule change since `mark`.
    static func changes(_ harness: PlannerHarness, since mark: Int) -> [String] {
        harness.since(mark).compactMap { action -> String? in
            guard case .change(_, let entry, let add) = action else { return nil }
            let sign = add ? "+" : "-"
            switch entry {
            case .address(let address): return "\(sign)address \(address.prefix)"
            case .route(let route): return "\(sign)route \(route.route.destinationText)"
            case .rule(let rule): return "\(sign)rule \(rule.rule.preference)"
            }
        }
    }

    @Test("static entries at start whatever the state, virtual ones when MASTER after the addresses; leaving MASTER removes rules, routes, then addresses; stop removes the static ones")
    func order() {
        var harness = PlannerHarness(Self.text())
        harness.start(Self.interfaces)
        #expect(
            Self.changes(harness, since: 0) == [
                // What an earlier run may have left of the virtual ones goes first.
                "-rule 100", "-route 10.60.0.0/16",
                "+address 192.0.2.50/24", "+route 10.50.0.0/16", "+rule 500",
            ])
        let mark = harness.actions.count
        harness.advance(by: .zero)
        #expect(
            Self.changes(harness, since: mark) == [
                "+address 198.51.100.100/32", "+route 10.60.0.0/16", "+rule 100",
            ])
        #expect(harness.entries.count == 4, "two routes and two rules in the fake kernel")
        let stop = harness.actions.count
        harness.feed(harness.planner.stop(now: harness.now))
        #expect(
            Self.changes(harness, since: stop) == [
                "-rule 100", "-route 10.60.0.0/16", "-address 198.51.100.100/32",
                "-rule 500", "-route 10.50.0.0/16", "-address 192.0.2.50/24",
            ])
        #expect(harness.entries.isEmpty && harness.addresses.isEmpty)
    }

    @Test("with -V the virtual entries stay on stop and the static ones go, as keepalived")
    func keepOnStop() {
        var options = VRRPPlanner.Options()
        options.releaseOnStop = false
        var harness = PlannerHarness(Self.text(), options: options)
        harness.start(Self.interfaces)
        harness.advance(by: .zero)
        let stop = harness.actions.count
        harness.feed(harness.planner.stop(now: harness.now))
        #expect(Self.changes(harness, since: stop) == ["-rule 500", "-route 10.50.0.0/16", "-address 192.0.2.50/24"])
    }

    @Test("a route already in the kernel carries keepalived's protocol: taken as ours; an address already there is not")
    func existing() {
        var harness = PlannerHarness(Self.text())
        harness.entryAnswer = { _, add in add ? 17 : 0 }
        harness.addressAnswer = { address, add in add && address.prefix.address == IPAddress("192.0.2.50") ? 17 : 0 }
        harness.start(Self.interfaces)
        harness.advance(by: .zero)
        #expect(harness.logs.contains { $0.contains("192.0.2.50/24 is already on eth1; leaving it to its owner") })
        let stop = harness.actions.count
        harness.feed(harness.planner.stop(now: harness.now))
        let removed = Self.changes(harness, since: stop)
        #expect(removed.contains("-route 10.50.0.0/16") && removed.contains("-rule 100"))
        #expect(!removed.contains("-address 192.0.2.50/24"))
    }

    @Test("a reload while MASTER moves only the routes that changed; static entries likewise")
    func reload() {
        var harness = PlannerHarness(Self.text(routes: ["10.60.0.0/16 dev eth0", "10.61.0.0/16 dev eth0"]))
        harness.start(Self.interfaces)
        harness.advance(by: .zero)
        let mark = harness.actions.count
        let new = PlannerHarness.configuration(
            Self.text(routes: ["10.60.0.0/16 dev eth0", "10.62.0.0/16 dev eth0"]).split(
                separator: "preference 500", omittingEmptySubsequences: false
            ).joined(separator: "preference 501"))
        harness.feed(harness.planner.apply(new, now: harness.now))
        let changes = Self.changes(harness, since: mark)
        #expect(changes.contains("-route 10.61.0.0/16") && changes.contains("+route 10.62.0.0/16"))
        #expect(changes.contains("-rule 500") && changes.contains("+rule 501"))
        #expect(!changes.contains { $0.contains("10.60.0.0") || $0.contains("rule 100") || $0.contains("address") })
    }

    @Test("a route on another interface tracks it; a link coming up gets its static route back")
    func tracking() {
        var harness = PlannerHarness(Self.text(routes: ["10.61.0.0/16 dev eth1"], priority: 100))
        harness.start(Self.interfaces)
        harness.advance(by: .seconds(4))
        #expect(harness.state("VI_1") == .master)
        harness.feed(
            harness.planner.interfacesChanged([Interfaces.link(3, "eth1", up: false)], forwarding: [:], now: harness.now))
        #expect(harness.state("VI_1") == .fault)
        #expect(harness.planner.router(named: "VI_1")?.individualFault == "interface eth1 of a virtual route down")
        let mark = harness.actions.count
        harness.feed(harness.planner.interfacesChanged([Interfaces.link(3, "eth1")], forwarding: [:], now: harness.now))
        #expect(Self.changes(harness, since: mark) == ["+address 192.0.2.50/24", "+route 10.50.0.0/16"])
    }

    @Test("a static route whose interface is missing waits for it, with one error line")
    func missingInterface() {
        var harness = PlannerHarness(Self.text())
        harness.start()
        #expect(harness.logs.contains("cannot add the static route to 10.50.0.0/16: interface eth1 does not exist"))
        let mark = harness.actions.count
        harness.feed(
            harness.planner.interfacesChanged(
                [Interfaces.link(3, "eth1"), Interfaces.address(3, "192.0.2.1/24")], forwarding: [:], now: harness.now))
        #expect(Self.changes(harness, since: mark) == ["+address 192.0.2.50/24", "+route 10.50.0.0/16"])
    }
}

@Suite("VRRP planner: accept mode")
struct VRRPPlannerAcceptModeTests {
    static func scripts(_ harness: PlannerHarness, since mark: Int = 0) -> [(String, Bool)] {
        harness.since(mark).compactMap { action in
            if case .firewall(let script, let removalOnly) = action { (script, removalOnly) } else { nil }
        }
    }

    @Test("the table holds the addresses of non-owner no_accept instances from start to stop; a reload replaces it only when it changes")
    func lifecycle() throws {
        let text =
            instanceText(name: "VI_1", addresses: ["198.51.100.100"], extra: "    no_accept")
            + instanceText(name: "VI_2", vrid: 52, addresses: ["198.51.100.101"], extra: "    accept")
            + instanceText(name: "VI_3", priority: 255, vrid: 53, addresses: ["198.51.100.102"], extra: "    no_accept")
            + "global_defs {\n    nftables_counters\n}\n"
        var harness = PlannerHarness(text)
        harness.start()
        let install = try #require(Self.scripts(harness).first)
        #expect(!install.1)
        #expect(install.0.contains("elements = { 198.51.100.100 }"), "only VI_1: VI_2 accepts, VI_3 owns\n\(install.0)")
        #expect(install.0.contains("ip daddr @vips4 counter drop") && install.0.contains("ip saddr @vips4 counter drop"))
        #expect(install.0.hasPrefix("table inet vigil_vrrp {}\ndelete table inet vigil_vrrp\n"), "replaces a leftover")
        var mark = harness.actions.count
        harness.feed(harness.planner.apply(PlannerHarness.configuration(text), now: harness.now))
        #expect(Self.scripts(harness, since: mark).isEmpty, "unchanged: nft is not run")
        mark = harness.actions.count
        let renamed = text.split(separator: "nftables_counters", omittingEmptySubsequences: false).joined(
            separator: "nftables filter_vips")
        harness.feed(harness.planner.apply(PlannerHarness.configuration(renamed), now: harness.now))
        let replaced = try #require(Self.scripts(harness, since: mark).first)
        #expect(replaced.0.hasPrefix("table inet vigil_vrrp {}\ndelete table inet vigil_vrrp\ntable inet filter_vips {}"))
        mark = harness.actions.count
        harness.feed(harness.planner.stop(now: harness.now))
        let removal = try #require(Self.scripts(harness, since: mark).first)
        #expect(removal.0 == "table inet filter_vips {}\ndelete table inet filter_vips\n" && removal.1)
    }

    @Test("nothing to filter: at start only a leftover table is removed (if nft exists), and nothing at stop")
    func noFilter() {
        var harness = PlannerHarness(instanceText())
        harness.start()
        #expect(Self.scripts(harness).map(\.1) == [true])
        let mark = harness.actions.count
        harness.feed(harness.planner.stop(now: harness.now))
        #expect(Self.scripts(harness, since: mark).isEmpty)
    }

    @Test("strict mode: no_accept by default, accept refused with VRRPv2; the owner always accepts")
    func strictDefaults() {
        let strict = PlannerHarness.configuration(
            "global_defs {\n    vrrp_strict\n}\n" + instanceText(name: "VI_1") + instanceText(name: "VI_2", vrid: 52, extra: "    accept")
                + instanceText(name: "VI_3", priority: 255, vrid: 53))
        #expect(strict.instances.map(\.accept) == [false, false, true])
        let plain = PlannerHarness.configuration(instanceText(name: "VI_1"))
        #expect(plain.instances.first?.accept == true)
    }
}

@Suite("VRRP planner: virtual MAC")
struct VRRPPlannerVirtualMACTests {
    static func requests(_ harness: PlannerHarness) -> [VRRPPlanner.VirtualLinkRequest] {
        harness.actions.compactMap { if case .createVirtualLink(let request) = $0 { request } else { nil } }
    }

    static func vmacLink(_ index: Int32, _ name: String, mac: [UInt8], base: Int32 = 2) -> NetlinkMessage.Event {
        var link = Link(index: index, name: name, flags: 0x41)
        link.hardwareAddress = mac
        link.kind = "macvlan"
        link.parentIndex = base
        return .link(link, removed: false)
    }

    @Test("keepalived's names and MACs: vrrp.VRID, vrrp6.VRID when taken, the written name, 00:00:5e:00:0{1,2}:VRID")
    func naming() {
        let text =
            instanceText(name: "VI_4", priority: 200, extra: "    use_vmac")
            + instanceText(name: "VI_6", vrid: 51, addresses: ["2001:db8::100"], extra: "    version 3\n    use_vmac")
            + instanceText(name: "VI_N", vrid: 52, addresses: ["198.51.100.102"], extra: "    use_vmac vmac52 02:11:22:33:44")
        var harness = PlannerHarness(text)
        harness.start(Interfaces.standard + [Interfaces.address(2, "fe80::1/64")])
        let requests = Self.requests(harness)
        #expect(requests.map(\.name) == ["vrrp.51", "vrrp6.51", "vmac52"])
        #expect(requests[0].kind == .macvlan(mac: [0, 0, 0x5e, 0, 1, 51]) && requests[0].linkLocal == nil)
        #expect(requests[1].kind == .macvlan(mac: [0, 0, 0x5e, 0, 2, 51]) && requests[1].linkLocal == IPAddress("fe80::1"))
        #expect(requests[2].kind == .macvlan(mac: [2, 0x11, 0x22, 0x33, 0x44, 52]), "five octets and the VRID")
        #expect(requests.allSatisfy { $0.baseIndex == 2 && $0.baseName == "eth0" })
    }

    @Test("FAULT until the VMAC exists; then the addresses go on it and adverts out through its socket; stop removes it after the addresses")
    func lifecycle() throws {
        var harness = PlannerHarness(instanceText(state: "MASTER", priority: 255, extra: "    use_vmac"))
        harness.start()
        #expect(harness.state("VI_1") == .fault)
        #expect(harness.planner.router(named: "VI_1")?.individualFault == "VMAC interface vrrp.51 missing")
        harness.feed(
            harness.planner.interfacesChanged(
                [Self.vmacLink(7, "vrrp.51", mac: [0, 0, 0x5e, 0, 1, 51])], forwarding: [:], now: harness.now))
        harness.advance(by: .zero)
        #expect(harness.state("VI_1") == .master)
        #expect(harness.addresses == ["7 198.51.100.100/32"], "on the VMAC")
        #expect(harness.actions.contains(.openSocket(SocketKey(index: 7, family: .ipv4, sendOnly: true), interface: "vrrp.51", multicastGroup: nil)))
        let last = try #require(harness.sent.last)
        #expect(last.socket == SocketKey(index: 7, family: .ipv4, sendOnly: true))
        let mark = harness.actions.count
        harness.feed(harness.planner.stop(now: harness.now))
        let tail = harness.since(mark)
        let removal = try #require(tail.firstIndex { if case .change(_, _, false) = $0 { true } else { false } })
        let deletion = try #require(tail.firstIndex(of: .deleteVirtualLink(index: 7, name: "vrrp.51")))
        #expect(removal < deletion, "the addresses go first")
    }

    @Test("an earlier run's VMAC (same base, same MAC) is adopted, not created again; one with another MAC is left alone")
    func adoption() {
        var harness = PlannerHarness(instanceText(extra: "    use_vmac"))
        harness.start(Interfaces.standard + [Self.vmacLink(7, "vrrp.51", mac: [0, 0, 0x5e, 0, 1, 51])])
        #expect(Self.requests(harness).isEmpty)
        #expect(harness.planner.router(named: "VI_1")?.vmacIndex == 7)
        var other = PlannerHarness(instanceText(extra: "    use_vmac"))
        other.start(Interfaces.standard + [Self.vmacLink(7, "vrrp.51", mac: [2, 0, 0, 0, 0, 1])])
        #expect(Self.requests(other).map(\.name) == ["vrrp1.51"])
    }
}

@Suite("VRRP planner: announcements")
struct VRRPPlannerAnnouncementTests {
    static func frames(_ harness: PlannerHarness, since mark: Int = 0) -> [VRRPPlanner.Announcement.Frame] {
        harness.since(mark).flatMap { action -> [VRRPPlanner.Announcement.Frame] in
            if case .announce(let announcement) = action { announcement.frames } else { [] }
        }
    }

    @Test("vrrp_garp_interval paces every instance's frames on one interface; a garp_group's interfaces count as one")
    func pacing() {
        let two =
            "global_defs {\n    vrrp_garp_interval 0.1\n    vrrp_garp_master_delay 0\n}\n"
            + instanceText(name: "VI_1", state: "MASTER", priority: 255, extra: "    garp_master_repeat 2")
            + instanceText(
                name: "VI_2", state: "MASTER", priority: 255, vrid: 52, addresses: ["198.51.100.101"],
                extra: "    garp_master_repeat 2")
        var harness = PlannerHarness(two)
        harness.start()
        harness.advance(by: .zero)
        let times = Self.frames(harness).map { ($0.at.nanoseconds - harness.now.nanoseconds) / 1_000_000 }
        #expect(times == [0, 100, 200, 300], "one interface, one pace, whichever instance: \(times)")

        let group =
            "garp_group {\n    garp_interval 0.2\n    interfaces {\n        eth0\n        eth1\n    }\n}\n"
            + instanceText(name: "VI_1", state: "MASTER", priority: 255, extra: "    garp_master_repeat 1")
            + instanceText(
                name: "VI_2", state: "MASTER", priority: 255, vrid: 52, interface: "eth1",
                addresses: ["203.0.113.1"], extra: "    garp_master_repeat 1")
        var grouped = PlannerHarness(group)
        grouped.start(Interfaces.standard + [Interfaces.link(3, "eth1"), Interfaces.address(3, "203.0.113.9/24")])
        grouped.advance(by: .zero)
        let groupTimes = Self.frames(grouped).map { ($0.at.nanoseconds - grouped.now.nanoseconds) / 1_000_000 }
        #expect(groupTimes == [0, 200], "eth0 and eth1 share the group's pace: \(groupTimes)")
    }

    @Test("vrrp_min_garp: one frame per address and no second burst")
    func minimal() {
        var harness = PlannerHarness(
            "global_defs {\n    vrrp_min_garp\n}\n" + instanceText(state: "MASTER", priority: 255))
        harness.start()
        harness.advance(by: .zero)
        #expect(Self.frames(harness).count == 1)
        #expect(!harness.timers.keys.contains { if case .router(_, .delayedAnnouncement) = $0 { true } else { false } })
    }

    @Test("garp_extra_if all: while MASTER, one frame per other interface every interval; none once it leaves")
    func extraInterfaces() {
        var harness = PlannerHarness(
            instanceText(
                state: "MASTER", priority: 255, addresses: ["198.51.100.100", "203.0.113.10 dev eth1", "203.0.113.11 dev eth1"],
                extra: "    garp_extra_if all 2\n    garp_master_delay 0"))
        harness.start(Interfaces.standard + [Interfaces.link(3, "eth1")])
        harness.advance(by: .zero)
        let mark = harness.actions.count
        harness.advance(by: .seconds(2))
        let extra = Self.frames(harness, since: mark)
        #expect(extra.map(\.interfaceIndex) == [3], "eth1 once (its first address), not eth0")
        harness.advance(by: .seconds(2))
        #expect(Self.frames(harness, since: mark).count == 2)
        harness.feed(
            harness.planner.interfacesChanged([Interfaces.link(2, "eth0", up: false)], forwarding: [:], now: harness.now))
        let after = harness.actions.count
        harness.advance(by: .seconds(6))
        #expect(Self.frames(harness, since: after).isEmpty, "FAULT: no more")
    }
}

@Suite("VRRP planner: tracked process delays")
struct VRRPPlannerProcessDelayTests {
    static let text =
        "vrrp_track_process web {\n    process nginx\n    weight -50\n    fork_delay 2\n    terminate_delay 3\n}\n"
        + instanceText(priority: 100, extra: "    track_process {\n        web\n    }")

    func priority(_ harness: PlannerHarness) -> Int? { harness.planner.router(named: "VI_1")?.router.effectivePriority }

    @Test("the first count applies at once; an exit waits terminate_delay, a fork fork_delay, an exec nothing; back in time cancels")
    func delays() {
        var harness = PlannerHarness(Self.text)
        harness.start()
        harness.feed(harness.planner.tracked(files: [:], processes: ["web": 1], now: harness.now))
        #expect(priority(harness) == 100)
        harness.feed(harness.planner.tracked(files: [:], processes: ["web": 0], causes: ["web": .exit], now: harness.now))
        #expect(priority(harness) == 100, "terminate_delay: not yet")
        harness.advance(by: .seconds(3))
        #expect(priority(harness) == 50)
        harness.feed(harness.planner.tracked(files: [:], processes: ["web": 1], causes: ["web": .fork], now: harness.now))
        harness.advance(by: .seconds(1))
        #expect(priority(harness) == 50, "fork_delay: not yet")
        harness.feed(harness.planner.tracked(files: [:], processes: ["web": 0], causes: ["web": .exit], now: harness.now))
        harness.advance(by: .seconds(3))
        #expect(priority(harness) == 50, "it went again before its delay ended: nothing changed")
        harness.feed(harness.planner.tracked(files: [:], processes: ["web": 1], causes: ["web": .other], now: harness.now))
        #expect(priority(harness) == 100, "an exec counts at once")
    }

    @Test("quorum_max 0: up only while none runs")
    func quorumMaximumZero() {
        var tracked = TrackProcess(name: "p", location: SourceLocation(file: "k", line: 1))
        tracked.quorumMaximum = 0
        #expect(VRRPPlanner.quorum(tracked, 0) && !VRRPPlanner.quorum(tracked, 1))
        tracked.quorumMaximum = 2
        tracked.quorum = 1
        #expect(!VRRPPlanner.quorum(tracked, 0) && VRRPPlanner.quorum(tracked, 2) && !VRRPPlanner.quorum(tracked, 3))
    }
}

@Suite("VRRP planner: linkbeat")
struct VRRPPlannerLinkbeatTests {
    @Test("linkbeat_interfaces and linkbeat_use_polling choose what is read; a carrier read as lost faults the instance, back up recovers")
    func linkbeat() {
        let text =
            "linkbeat_interfaces {\n    eth1\n}\n"
            + instanceText(state: "MASTER", priority: 255, extra: "    linkbeat_use_polling")
        var harness = PlannerHarness(text)
        harness.start(Interfaces.standard + [Interfaces.link(3, "eth1")])
        #expect(harness.actions.contains(.pollLinks(["eth1", "eth0"])))
        harness.advance(by: .zero)
        #expect(harness.state("VI_1") == .master)
        harness.feed(harness.planner.linkbeatRead(["eth0": false, "eth1": true], now: harness.now))
        #expect(harness.state("VI_1") == .fault)
        #expect(harness.logs.contains("Linkbeat reports eth0 down"))
        let mark = harness.actions.count
        harness.feed(harness.planner.linkbeatRead(["eth0": false], now: harness.now))
        #expect(harness.since(mark).isEmpty, "no change, nothing said")
        harness.feed(harness.planner.linkbeatRead(["eth0": true], now: harness.now))
        harness.advance(by: .zero)
        #expect(harness.state("VI_1") == .master)
    }
}

@Suite("VRRP planner: IPVS sync daemon")
struct VRRPPlannerSyncDaemonTests {
    @Test("lvs_sync_daemon ... inst: backup from the first state, master while MASTER (backup stopped), back on leaving; stop stops it")
    func followsInstance() {
        let text =
            "global_defs {\n    lvs_sync_daemon eth0 inst VI_1 port 8848\n}\n" + instanceText(priority: 200)
        var harness = PlannerHarness(text)
        func daemons(since mark: Int) -> [String] {
            harness.since(mark).compactMap { action in
                if case .syncDaemon(let daemon, let start) = action {
                    "\(start ? "+" : "-")\(daemon.master ? "master" : "backup") \(daemon.syncID) \(daemon.port ?? 0)"
                } else { nil }
            }
        }
        harness.start()
        harness.advance(by: .zero)
        #expect(daemons(since: 0) == ["+backup 51 8848"], "the VRID is the default sync id")
        var mark = harness.actions.count
        harness.advance(by: .seconds(4))
        #expect(harness.state("VI_1") == .master)
        #expect(daemons(since: mark) == ["-backup 51 8848", "+master 51 8848"])
        mark = harness.actions.count
        harness.feed(harness.planner.received(PlannerHarness.advert(priority: 250), on: SocketKey(index: 2, family: .ipv4), now: harness.now))
        #expect(harness.state("VI_1") == .backup)
        #expect(daemons(since: mark) == ["-master 51 8848", "+backup 51 8848"])
        mark = harness.actions.count
        harness.feed(harness.planner.stop(now: harness.now))
        #expect(daemons(since: mark) == ["-backup 51 8848"])
    }
}

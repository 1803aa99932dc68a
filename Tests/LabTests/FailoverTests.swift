import Foundation
import Testing
import VigilTestSupport

/// The seed's setups and VRRP's failure cases, with Vigil on every node, read from the kernel and the wire.
///
/// Bounds come from the protocol: a backup takes over at most Master_Down_Interval (3 advert intervals plus
/// Skew_Time) after the master's last advert; the tolerance on top is for the kernel and the scheduler on a loaded
/// 2-core machine: 0.5 s for advert_int 1, 0.25 s for advert_int 0.1.
@Suite("Failover with Vigil on every node", .serialized, .enabled(if: TestLab.shouldRun))
struct FailoverTests {
    static let vip = "198.51.100.100"
    static let seed = "\(Package.root)/examples/seed"

    func seedConfig(_ name: String) throws -> String {
        try String(contentsOfFile: "\(Self.seed)/\(name).conf", encoding: .utf8)
    }

    @Test(
        "seed, preemptive: the 150 node holds the VIP; kill -9 moves it within Master_Down_Interval; the 150 node takes it back"
    )
    func seedPreemptive() throws {
        let lab = try VRRPLab("preempt", nodes: 2)
        defer { lab.close() }
        let capture = try Capture(
            lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "vrrp or arp", name: "wire")
        try lab.startVigil("n1", config: try seedConfig("preempt-master"))
        try lab.startVigil("n2", config: try seedConfig("preempt-backup"))
        let startup = masterDownInterval(interval: .seconds(1), priority: 150) + .seconds(2)
        #expect(
            lab.waitForHolder("n1", of: Self.vip, timeout: startup) != nil,
            "n1 (priority 150) should become master\n\(lab.log("n1"))")
        // A steady state: exactly one holder for a few intervals.
        #expect(lab.longestDoubleHolding(Self.vip, for: .seconds(2)) == .zero)

        try lab.crash("n1")
        let bound = masterDownInterval(interval: .seconds(1), priority: 100) + .milliseconds(500)
        let takeover = lab.waitForHolder("n2", of: Self.vip, timeout: bound)
        #expect(takeover != nil, "n2 should hold the VIP within \(bound) of the kill\n\(lab.log("n2"))")

        // The old master returns and preempts; never two holders for as long as an advert interval.
        try lab.startVigil("n1", config: try seedConfig("preempt-master"))
        let preemption = masterDownInterval(interval: .seconds(1), priority: 150) + .seconds(1)
        let clock = ContinuousClock()
        let start = clock.now
        var longest = Duration.zero
        while clock.now - start < preemption + .seconds(1) {
            longest = max(longest, lab.longestDoubleHolding(Self.vip, for: .milliseconds(500)))
            if lab.holders(Self.vip) == ["n1"] { break }
        }
        #expect(lab.holders(Self.vip) == ["n1"], "n1 should take the VIP back\n\(lab.log("n1"))")
        #expect(longest < .seconds(1), "two holders for \(longest)")
        capture.stop()

        // On the wire: n2 announced the VIP with a burst of gratuitous ARPs (ARP requests, sender = target = VIP).
        let arps = try capture.fields(
            ["eth.src", "arp.opcode", "arp.src.proto_ipv4", "arp.dst.proto_ipv4", "arp.dst.hw_mac"], filter: "arp")
        let n2MAC = try macAddress(lab, "n2")
        // (n2's kernel may also answer n1's own gratuitous ARP while n2 still holds the VIP during the preemption:
        // a reply, opcode 2, unicast to n1; not an announcement.)
        let fromN2 = arps.filter { $0[0] == n2MAC && $0[1] == "1" && $0[2] == Self.vip && $0[3] == Self.vip }
        #expect(fromN2.count >= 5, "n2 should send its burst of 5 gratuitous ARPs: \(arps)")
        #expect(fromN2.allSatisfy { $0[4] == "ff:ff:ff:ff:ff:ff" }, "\(fromN2)")
        // Every advert's checksum is right, and no packet is malformed.
        let adverts = try capture.fields(["ip.src", "vrrp.prio", "vrrp.checksum.status", "ip.ttl"], filter: "vrrp")
        #expect(!adverts.isEmpty)
        #expect(
            adverts.allSatisfy { $0[2] == "1" && $0[3] == "255" },
            "bad adverts: \(adverts.filter { $0[2] != "1" || $0[3] != "255" })")
        #expect(try capture.fields(["frame.number"], filter: "_ws.malformed").isEmpty)
    }

    @Test("AH authentication: one master, failover and preemption, every advert's ICV checked by the peer")
    func authenticationHeader() throws {
        let lab = try VRRPLab("ah", nodes: 2)
        defer { lab.close() }
        func config(_ priority: Int) -> String {
            vrrpConfig(state: "BACKUP", priority: priority, password: "secret1", authType: "AH")
        }
        try lab.startVigil("n1", config: config(150))
        try lab.startVigil("n2", config: config(100))
        let startup = masterDownInterval(interval: .seconds(1), priority: 150) + .seconds(2)
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: startup) != nil, "\(lab.log("n1"))\n\(lab.log("n2"))")
        #expect(lab.longestDoubleHolding(Self.vip, for: .seconds(3)) == .zero)
        let accepted = try lab.vigilStats("n2")
        #expect((accepted["Advertisements/Received"] ?? 0) >= 2, "n2 accepts n1's AH adverts: \(accepted)")
        #expect(accepted["Authentication Errors/Failure"] == 0, "\(accepted)")
        try lab.crash("n1")
        let bound = masterDownInterval(interval: .seconds(1), priority: 100) + .milliseconds(500)
        #expect(lab.waitForHolder("n2", of: Self.vip, timeout: bound) != nil, "\(lab.log("n2"))")
        // The restarted n1 has seen no sequence number; it takes n2's and preempts above it.
        try lab.startVigil("n1", config: config(150))
        #expect(
            lab.waitForHolder("n1", of: Self.vip, timeout: startup) != nil, "\(lab.log("n1"))\n\(lab.log("n2"))")
        #expect(try lab.vigilStats("n2")["Authentication Errors/Failure"] == 0)
    }

    @Test("seed, non-preemptive: after the failure and the return, the VIP stays where it is")
    func seedNonPreemptive() throws {
        let lab = try VRRPLab("nopreempt", nodes: 2)
        defer { lab.close() }
        try lab.startVigil("n1", config: try seedConfig("nopreempt-master"))
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: .seconds(6)) != nil, "\(lab.log("n1"))")
        try lab.startVigil("n2", config: try seedConfig("nopreempt-backup"))
        try lab.crash("n1")
        #expect(
            lab.waitForHolder(
                "n2", of: Self.vip,
                timeout: masterDownInterval(interval: .seconds(1), priority: 100) + .milliseconds(500)) != nil,
            "\(lab.log("n2"))")
        try lab.startVigil("n1", config: try seedConfig("nopreempt-master"))
        // Longer than n1 would need to take over if it preempted.
        let watch = masterDownInterval(interval: .seconds(1), priority: 150) + .seconds(2)
        #expect(lab.longestDoubleHolding(Self.vip, for: watch) < .seconds(1))
        #expect(lab.holders(Self.vip) == ["n2"], "the VIP must stay on n2\n\(lab.log("n1"))")
        #expect(!lab.lab.holds(lab.namespace("n1"), Self.vip), "n1 removed the VIP its crashed run left behind")
    }

    @Test("graceful stop: priority 0 on the wire, takeover within Skew_Time")
    func gracefulStop() throws {
        let lab = try VRRPLab("stop", nodes: 2)
        defer { lab.close() }
        let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "vrrp", name: "wire")
        try lab.startVigil("n1", config: vrrpConfig(state: "MASTER", priority: 150))
        try lab.startVigil("n2", config: vrrpConfig(priority: 100))
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: .seconds(6)) != nil, "\(lab.log("n1"))")
        sleep(1)
        let clock = ContinuousClock()
        let before = clock.now
        lab.daemons["n1"]?.signal(SIGTERM)
        let takeover = lab.waitForHolder("n2", of: Self.vip, timeout: .seconds(3))
        let elapsed = clock.now - before
        // Skew_Time for priority 100 is 0.609 s.
        #expect(takeover != nil && elapsed < .milliseconds(609 + 500), "took \(elapsed)\n\(lab.log("n2"))")
        #expect(lab.daemons["n1"]?.waitForExit(timeout: .seconds(5)) == 0, "vigil exits 0 on SIGTERM")
        #expect(!lab.lab.holds(lab.namespace("n1"), Self.vip), "the stopped master removed its VIP")
        capture.stop()
        let zero = try capture.fields(["ip.src"], filter: "vrrp.prio == 0")
        #expect(zero.contains { $0 == ["198.51.100.1"] }, "the master resigned with priority 0")
    }

    @Test("link down on the master: FAULT, VIP gone, backup takes over; link up: back to MASTER by preemption")
    func linkDown() throws {
        let lab = try VRRPLab("link", nodes: 2)
        defer { lab.close() }
        try lab.startVigil("n1", config: vrrpConfig(state: "MASTER", priority: 150))
        try lab.startVigil("n2", config: vrrpConfig(priority: 100))
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: .seconds(6)) != nil, "\(lab.log("n1"))")
        try lab.lab.run(lab.namespace("n1"), ["ip", "link", "set", "eth0", "down"])
        #expect(
            lab.waitForHolder(
                "n2", of: Self.vip, timeout: masterDownInterval(interval: .seconds(1), priority: 100) + .seconds(1))
                != nil,
            "\(lab.log("n2"))")
        #expect(
            Lab.wait(timeout: .seconds(2)) { lab.log("n1").contains("(VI_1) Entering FAULT STATE") } != nil,
            "\(lab.log("n1"))")
        try lab.lab.run(lab.namespace("n1"), ["ip", "link", "set", "eth0", "up"])
        #expect(
            lab.waitForHolder(
                "n1", of: Self.vip, timeout: masterDownInterval(interval: .seconds(1), priority: 150) + .seconds(2))
                != nil,
            "\(lab.log("n1"))")
    }

    @Test("three nodes 150/120/100: failures hand the VIP down the chain")
    func threeNodes() throws {
        let lab = try VRRPLab("chain", nodes: 3)
        defer { lab.close() }
        try lab.startVigil("n1", config: vrrpConfig(priority: 150))
        try lab.startVigil("n2", config: vrrpConfig(priority: 120))
        try lab.startVigil("n3", config: vrrpConfig(priority: 100))
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: .seconds(6)) != nil, "\(lab.log("n1"))")
        try lab.crash("n1")
        #expect(
            lab.waitForHolder(
                "n2", of: Self.vip,
                timeout: masterDownInterval(interval: .seconds(1), priority: 120) + .milliseconds(500)) != nil,
            "\(lab.log("n2"))")
        try lab.crash("n2")
        #expect(
            lab.waitForHolder(
                "n3", of: Self.vip,
                timeout: masterDownInterval(interval: .seconds(1), priority: 100) + .milliseconds(500)) != nil,
            "\(lab.log("n3"))")
    }

    @Test("unicast pair: no multicast on the wire, same failover")
    func unicast() throws {
        let lab = try VRRPLab("unicast", nodes: 2)
        defer { lab.close() }
        let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "vrrp", name: "wire")
        try lab.startVigil(
            "n1", config: vrrpConfig(priority: 150, unicastSource: "198.51.100.1", peers: ["198.51.100.2"]))
        try lab.startVigil(
            "n2", config: vrrpConfig(priority: 100, unicastSource: "198.51.100.2", peers: ["198.51.100.1"]))
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: .seconds(6)) != nil, "\(lab.log("n1"))")
        try lab.crash("n1")
        #expect(
            lab.waitForHolder(
                "n2", of: Self.vip,
                timeout: masterDownInterval(interval: .seconds(1), priority: 100) + .milliseconds(500)) != nil,
            "\(lab.log("n2"))")
        sleep(2)
        capture.stop()
        let destinations = Set(try capture.fields(["ip.dst"], filter: "vrrp").map { $0[0] })
        #expect(destinations == ["198.51.100.2", "198.51.100.1"], "unicast only: \(destinations)")
    }

    @Test("VRRPv3 over IPv6: failover with unsolicited neighbour advertisements on the wire")
    func ipv6() throws {
        let lab = try VRRPLab("ipv6", nodes: 2)
        defer { lab.close() }
        let capture = try Capture(
            lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "ip6 proto 112 or icmp6", name: "wire")
        let vip6 = "2001:db8::100"
        try lab.startVigil("n1", config: vrrpConfig(priority: 150, version: 3, addresses: ["\(vip6)/64"]))
        try lab.startVigil("n2", config: vrrpConfig(priority: 100, version: 3, addresses: ["\(vip6)/64"]))
        #expect(lab.waitForHolder("n1", of: vip6, timeout: .seconds(6)) != nil, "\(lab.log("n1"))")
        try lab.crash("n1")
        #expect(
            lab.waitForHolder(
                "n2", of: vip6, timeout: masterDownInterval(interval: .seconds(1), priority: 100) + .milliseconds(500))
                != nil, "\(lab.log("n2"))")
        sleep(1)
        capture.stop()
        let adverts = try capture.fields(["ipv6.src", "ipv6.hlim", "vrrp.checksum.status"], filter: "vrrp")
        #expect(!adverts.isEmpty)
        #expect(adverts.allSatisfy { $0[0].hasPrefix("fe80::") && $0[1] == "255" && $0[2] == "1" }, "\(adverts)")
        let advertisements = try capture.fields(
            ["ipv6.src", "ipv6.dst", "ipv6.hlim", "icmpv6.nd.na.flag.o", "icmpv6.nd.na.target_address"],
            filter: "icmpv6.type == 136")
        let fromVIP = advertisements.filter { $0[0] == vip6 && $0[4] == vip6 }
        #expect(fromVIP.count >= 10, "both masters announce the VIP with unsolicited NAs: \(advertisements)")
        #expect(fromVIP.allSatisfy { $0[1] == "ff02::1" && $0[2] == "255" && $0[3] == "1" })
    }

    @Test("VRRPv3 over IPv4 at advert_int 0.1: takeover within 0.3 s plus skew")
    func fastVersion3() throws {
        let lab = try VRRPLab("v3fast", nodes: 2)
        defer { lab.close() }
        try lab.startVigil("n1", config: vrrpConfig(priority: 150, interval: "0.1", version: 3))
        try lab.startVigil("n2", config: vrrpConfig(priority: 100, interval: "0.1", version: 3))
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: .seconds(3)) != nil, "\(lab.log("n1"))")
        sleep(1)
        try lab.crash("n1")
        let bound = masterDownInterval(interval: .milliseconds(100), priority: 100) + .milliseconds(250)
        let elapsed = lab.waitForHolder("n2", of: Self.vip, timeout: .seconds(3))
        #expect(
            elapsed != nil && elapsed! < bound, "took \(String(describing: elapsed)), bound \(bound)\n\(lab.log("n2"))")
    }
}

/// A node's eth0 MAC address, as tshark prints it.
func macAddress(_ lab: VRRPLab, _ node: String) throws -> String {
    let output = try lab.lab.run(lab.namespace(node), ["cat", "/sys/class/net/eth0/address"]).output
    return output.trimmingCharacters(in: .whitespacesAndNewlines)
}

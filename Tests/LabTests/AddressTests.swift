import Foundation
import Testing
import VigilTestSupport

/// What a master does to the interfaces: addresses with their options, announcements on keepalived's schedule,
/// and nothing to addresses it did not add.
@Suite("Addresses and announcements", .serialized, .enabled(if: TestLab.shouldRun))
struct AddressTests {
    @Test("VIP options reach the kernel; excluded addresses too; GARP bursts at 0 s and 5 s, refresh every 2 s")
    func optionsAndAnnouncements() throws {
        let lab = try VRRPLab("addresses", nodes: 1)
        defer { lab.close() }
        let n1 = lab.namespace("n1")
        // A second interface for `dev`.
        try lab.lab.veth("eth1", in: n1, peer: "q1", in: lab.hub)
        // An address the administrator put there: Vigil must leave it alone.
        try lab.lab.run(n1, ["ip", "addr", "add", "198.51.100.101/32", "dev", "eth0"])
        let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "arp", name: "arp")
        let config = vrrpConfig(
            state: "MASTER", priority: 255,
            addresses: [
                "198.51.100.100/24 brd 198.51.100.255 label eth0:vip", "203.0.113.10/32 dev eth1 scope link",
                "198.51.100.101/32",
            ],
            extra: "    virtual_ipaddress_excluded {\n        203.0.113.20/32\n    }\n    garp_master_refresh 2")
        try lab.startVigil("n1", config: config)
        #expect(Lab.wait(timeout: .seconds(3)) { lab.lab.holds(n1, "203.0.113.20") } != nil, "\(lab.log("n1"))")
        let eth0 = try lab.lab.run(n1, ["ip", "-o", "-4", "addr", "show", "dev", "eth0"]).output
        let vipLine = eth0.split(separator: "\n").first { $0.contains("198.51.100.100/24") } ?? ""
        #expect(vipLine.contains("brd 198.51.100.255"), "\(eth0)")
        #expect(vipLine.contains("eth0:vip"), "\(eth0)")
        let eth1 = try lab.lab.run(n1, ["ip", "-o", "-4", "addr", "show", "dev", "eth1"]).output
        #expect(eth1.contains("203.0.113.10/32 scope link"), "\(eth1)")
        // Two rounds of announcements, then refreshes: watch 7.5 s.
        sleep(7)
        capture.stop()
        lab.stop("n1")
        #expect(!lab.lab.holds(n1, "198.51.100.100"), "Vigil removed the VIP it added")
        #expect(!lab.lab.holds(n1, "203.0.113.20"), "and the excluded one")
        #expect(lab.lab.holds(n1, "198.51.100.101"), "but not the address it found there")
        #expect(lab.lab.holds(n1, "198.51.100.1"), "nor the node's own address")

        let arps = try capture.fields(["frame.time_relative", "arp.src.proto_ipv4"], filter: "arp.opcode == 1")
        let vip = arps.filter { $0[1] == "198.51.100.100" }.compactMap { Double($0[0]) }
        #expect(vip.count >= 5 + 5 + 2, "first burst, second burst at 5 s, refreshes: \(vip)")
        guard let first = vip.first else { return }
        #expect(vip.prefix(5).allSatisfy { $0 - first < 0.5 }, "the first burst is immediate: \(vip)")
        #expect(vip.filter { (4.8...5.6).contains($0 - first) }.count >= 5, "the second burst comes 5 s later: \(vip)")
        #expect(arps.contains { $0[1] == "203.0.113.20" }, "excluded addresses are announced too")
    }

    @Test("an address on another interface tracks it (FAULT while it is down), unless no_track")
    func addressInterfaceTracked() throws {
        let lab = try VRRPLab("vip-dev", nodes: 1)
        defer { lab.close() }
        let n1 = lab.namespace("n1")
        try lab.lab.veth("eth1", in: n1, peer: "q1", in: lab.hub)
        for noTrack in [false, true] {
            let config = vrrpConfig(
                state: "MASTER", priority: 255,
                addresses: ["198.51.100.100/24", "203.0.113.10/32 dev eth1" + (noTrack ? " no_track" : "")])
            try lab.startVigil("n1", config: config)
            #expect(lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(3)) != nil, "\(lab.log("n1"))")
            try lab.lab.run(n1, ["ip", "link", "set", "eth1", "down"])
            if noTrack {
                #expect(
                    Lab.wait(timeout: .seconds(2)) { !lab.lab.holds(n1, "198.51.100.100") } == nil,
                    "with no_track the instance stays MASTER\n\(lab.log("n1"))")
            } else {
                #expect(
                    Lab.wait(timeout: .seconds(2)) { !lab.lab.holds(n1, "198.51.100.100") } != nil,
                    "eth1 down puts the instance in FAULT\n\(lab.log("n1"))")
                try lab.lab.run(n1, ["ip", "link", "set", "eth1", "up"])
                #expect(
                    lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(3)) != nil,
                    "eth1 up again: MASTER again\n\(lab.log("n1"))")
            }
            try lab.lab.run(n1, ["ip", "link", "set", "eth1", "up"])
            lab.stop("n1")
        }
    }

    @Test("an interface missing at start, created, deleted, created again, renamed away and back: the instance follows it, no restart")
    func dynamicInterface() throws {
        let lab = try VRRPLab("dynamic-if", nodes: 1)
        defer { lab.close() }
        let n1 = lab.namespace("n1")
        let config = vrrpConfig(state: "MASTER", priority: 255, addresses: ["203.0.113.100"])
            .replacingOccurrences(of: "interface eth0", with: "interface eth1")
        try lab.startVigil("n1", config: config)
        #expect(
            Lab.wait(timeout: .seconds(3)) { lab.log("n1").contains("(VI_1) Entering FAULT STATE") } != nil,
            "\(lab.log("n1"))")
        for round in 1...2 {
            try lab.lab.veth("eth1", in: n1, peer: "q\(round)", in: lab.hub)
            try lab.lab.run(n1, ["ip", "addr", "add", "203.0.113.1/24", "dev", "eth1"])
            #expect(
                Lab.wait(timeout: .seconds(3)) { lab.lab.holds(n1, "203.0.113.100", interface: "eth1") } != nil,
                "round \(round): the instance attaches to eth1 and takes the address\n\(lab.log("n1"))")
            try lab.lab.run(n1, ["ip", "link", "del", "eth1"])
            #expect(
                Lab.wait(timeout: .seconds(3)) { lab.log("n1").components(separatedBy: "Entering FAULT STATE").count > round + 1 } != nil,
                "round \(round): FAULT again when eth1 goes\n\(lab.log("n1"))")
        }
        // Renamed away: the instance's interface is gone (FAULT, the address off); renamed back: it attaches again.
        try lab.lab.veth("eth1", in: n1, peer: "q3", in: lab.hub)
        try lab.lab.run(n1, ["ip", "addr", "add", "203.0.113.1/24", "dev", "eth1"])
        #expect(Lab.wait(timeout: .seconds(3)) { lab.lab.holds(n1, "203.0.113.100", interface: "eth1") } != nil)
        let faults = lab.log("n1").components(separatedBy: "Entering FAULT STATE").count
        func rename(_ from: String, _ to: String) throws {
            try lab.lab.run(n1, ["ip", "link", "set", from, "down"])
            try lab.lab.run(n1, ["ip", "link", "set", from, "name", to])
            try lab.lab.run(n1, ["ip", "link", "set", to, "up"])
        }
        try rename("eth1", "wan0")
        #expect(
            Lab.wait(timeout: .seconds(3)) { lab.log("n1").components(separatedBy: "Entering FAULT STATE").count > faults } != nil,
            "renamed away: FAULT\n\(lab.log("n1"))")
        sleep(2)
        #expect(!lab.lab.holds(n1, "203.0.113.100", interface: "wan0"), "up again under another name, it is not the instance's interface: the VIP is off\n\(lab.log("n1"))")
        try rename("wan0", "eth1")
        #expect(
            Lab.wait(timeout: .seconds(5)) { lab.lab.holds(n1, "203.0.113.100", interface: "eth1") } != nil,
            "renamed back: the instance attaches again and takes the address\n\(lab.log("n1"))")
        #expect(lab.daemons["n1"]?.isRunning == true)
    }

    @Test("a crashed VRRP process is restarted by the supervisor, which cleans up and takes over again")
    func childRestart() throws {
        let lab = try VRRPLab("restart", nodes: 1)
        defer { lab.close() }
        try lab.startVigil("n1", config: vrrpConfig(state: "MASTER", priority: 255))
        #expect(lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(3)) != nil, "\(lab.log("n1"))")
        let pidPath = lab.lab.path("n1-run/vrrp.pid")
        let first = try String(contentsOfFile: pidPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        kill(Int32(first)!, SIGKILL)
        let restarted = Lab.wait(timeout: .seconds(5)) {
            let now = (try? String(contentsOfFile: pidPath, encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines)
            return now != nil && now != first && lab.log("n1").contains("Restarting vrrp child process")
        }
        #expect(restarted != nil, "\(lab.log("n1"))")
        // The new child writes its pid file before it cleans up and logs (through its log thread): wait for the line.
        let cleaned = Lab.wait(timeout: .seconds(3)) {
            lab.log("n1").contains("removed 198.51.100.100/32 left by an earlier Vigil")
        }
        #expect(cleaned != nil, "\(lab.log("n1"))")
        #expect(lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(3)) != nil, "\(lab.log("n1"))")
        #expect(lab.daemons["n1"]?.isRunning == true, "the supervisor lives on")
    }
}

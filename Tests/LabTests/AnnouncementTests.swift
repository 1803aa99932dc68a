import Foundation
import Testing
import VigilTestSupport

/// keepalived's controls over gratuitous ARPs, on the wire, Vigil and keepalived 2.2.7 with the same files:
/// `vrrp_min_garp`, `garp_group`, `garp_extra_if`.
@Suite("Announcement controls", .serialized, .enabled(if: TestLab.shouldRun))
struct AnnouncementTests {
    /// One node with eth0 and eth1 on the bridge; runs `config` with each daemon for `seconds` and returns, per
    /// daemon, the gratuitous ARPs seen: (seconds since the first, announced address).
    func announcements(_ name: String, _ config: String, seconds: UInt32) throws -> [String: [(Double, String)]] {
        let lab = try VRRPLab(name, nodes: 1)
        defer { lab.close() }
        try lab.lab.connect(
            lab.namespace("n1"), interface: "eth1", to: "br0", in: lab.hub, port: "q1", addresses: ["203.0.113.1/24"])
        var result = [String: [(Double, String)]]()
        for daemon in ["vigil", "keepalived"] {
            let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "arp", name: "arp-\(daemon)")
            if daemon == "vigil" {
                try lab.startVigil("n1", config: config)
            } else {
                try lab.startKeepalived("n1", config: config)
            }
            sleep(seconds)
            capture.stop()
            lab.stop("n1")
            let rows = try capture.fields(
                ["frame.time_relative", "arp.src.proto_ipv4"], filter: "arp.opcode == 1 && arp.src.proto_ipv4 == arp.dst.proto_ipv4")
            let parsed = rows.compactMap { row in Double(row[0]).map { ($0, row[1]) } }
            let start = parsed.first?.0 ?? 0
            result[daemon] = parsed.map { ($0.0 - start, $0.1) }
        }
        return result
    }

    @Test("vrrp_min_garp: one gratuitous ARP per address on becoming master, and no second burst")
    func minimalGARP() throws {
        let config = vrrpConfig(state: "MASTER", priority: 255)
            .replacingOccurrences(of: "global_defs {", with: "global_defs {\n    vrrp_min_garp")
        for (daemon, arps) in try announcements("mingarp", config, seconds: 7) {
            #expect(arps.filter { $0.1 == "198.51.100.100" }.count == 1, "\(daemon): \(arps)")
        }
    }

    @Test("garp_group: the group's interval separates every gratuitous ARP on its interfaces, whichever instance sends it")
    func group() throws {
        let config =
            "garp_group {\n    garp_interval 0.5\n    interfaces {\n        eth0\n        eth1\n    }\n}\n"
            + vrrpConfig(state: "MASTER", priority: 255, extra: "    garp_master_repeat 2\n    garp_master_delay 0")
            + vrrpConfig(
                name: "VI_2", state: "MASTER", priority: 255, vrid: 51, addresses: ["198.51.100.101"],
                extra: "    garp_master_repeat 2\n    garp_master_delay 0"
            ).replacingOccurrences(of: "global_defs {\n    router_id VI_2-255\n}\n", with: "")
        for (daemon, arps) in try announcements("garpgroup", config, seconds: 4) {
            // keepalived collapses the repeats of an address still waiting for its turn into one send (3 frames
            // here); Vigil sends every repeat, paced.
            #expect(arps.count == (daemon == "vigil" ? 4 : 3), "\(daemon): two instances, two each: \(arps)")
            #expect(Set(arps.map(\.1)) == ["198.51.100.100", "198.51.100.101"], "\(daemon): both instances")
            let gaps = zip(arps.dropFirst(), arps).map { $0.0 - $1.0 }
            #expect(gaps.allSatisfy { $0 >= 0.45 }, "\(daemon): gaps \(gaps)")
        }
    }

    @Test("garp_extra_if all: while master, the address on the other interface is announced again every interval")
    func extraInterface() throws {
        let config = vrrpConfig(
            state: "MASTER", priority: 255, addresses: ["198.51.100.100", "203.0.113.10 dev eth1"],
            extra: "    garp_extra_if all 1\n    garp_master_delay 0")
        for (daemon, arps) in try announcements("extraif", config, seconds: 6) {
            #expect(arps.filter { $0.1 == "198.51.100.100" }.count == 5, "\(daemon): the instance's own: one burst")
            let extra = arps.filter { $0.1 == "203.0.113.10" }.count
            #expect(extra >= 5 + 3, "\(daemon): eth1's address: its burst, then about one a second: \(arps)")
        }
    }
}

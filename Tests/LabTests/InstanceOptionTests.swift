import Foundation
import Testing
import VigilTestSupport

/// Instance options that decide FAULT, each run against Vigil and keepalived 2.2.7 with the same file.
@Suite("Instance options", .serialized, .enabled(if: TestLab.shouldRun))
struct InstanceOptionTests {
    static let vip = "198.51.100.100"

    func start(_ lab: VRRPLab, _ daemon: String, _ config: String) throws {
        if daemon == "vigil" {
            try lab.startVigil("n1", config: config)
        } else {
            try lab.startKeepalived("n1", config: config)
        }
    }

    @Test("unicast_fault_no_peer with no peer: FAULT, never the VIP; without it, multicast")
    func unicastFaultNoPeer() throws {
        let lab = try VRRPLab("nopeer", nodes: 1)
        defer { lab.close() }
        let n1 = lab.namespace("n1")
        for daemon in ["vigil", "keepalived"] {
            for faulting in [true, false] {
                let config = vrrpConfig(
                    state: "MASTER", priority: 255,
                    extra: "    unicast_src_ip 198.51.100.1\n" + (faulting ? "    unicast_fault_no_peer\n" : ""))
                try start(lab, daemon, config)
                let held = Lab.wait(timeout: .seconds(3)) { lab.lab.holds(n1, Self.vip) } != nil
                #expect(held == !faulting, "\(daemon), unicast_fault_no_peer \(faulting)\n\(lab.log("n1"))")
                lab.stop("n1")
            }
        }
    }

    @Test("dont_track_primary: the instance's interface going down does not fault it")
    func dontTrackPrimary() throws {
        let lab = try VRRPLab("primary", nodes: 1)
        defer { lab.close() }
        let n1 = lab.namespace("n1")
        for daemon in ["vigil", "keepalived"] {
            for ignoring in [true, false] {
                let config = vrrpConfig(
                    state: "MASTER", priority: 255, extra: ignoring ? "    dont_track_primary" : "")
                try start(lab, daemon, config)
                #expect(Lab.wait(timeout: .seconds(3)) { lab.lab.holds(n1, Self.vip) } != nil, "\(daemon)\n\(lab.log("n1"))")
                try lab.lab.run(n1, ["ip", "link", "set", "eth0", "down"])
                let lost = Lab.wait(timeout: .seconds(2)) { !lab.lab.holds(n1, Self.vip) } != nil
                #expect(lost == !ignoring, "\(daemon), dont_track_primary \(ignoring)\n\(lab.log("n1"))")
                try lab.lab.run(n1, ["ip", "link", "set", "eth0", "up"])
                lab.stop("n1")
            }
        }
    }
}

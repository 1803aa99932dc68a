import Foundation
import Testing
import VigilTestSupport

/// `use_vmac` on the real kernel and the wire: the master's addresses live on a macvlan with the virtual router's
/// MAC, so a client's neighbour entry for the VIP keeps that MAC across a failover, between Vigil nodes and between
/// Vigil and keepalived 2.2.7 both ways; the interface goes on stop.
@Suite("Virtual MAC", .serialized, .enabled(if: TestLab.shouldRun))
struct VMACTests {
    static let vip = "198.51.100.100"
    static let mac = "00:00:5e:00:01:32"  // VRID 50

    static func config(priority: Int) -> String {
        vrrpConfig(state: "BACKUP", priority: priority, addresses: ["\(vip)/24"], extra: "    use_vmac")
    }

    /// Which node's VMAC holds the VIP.
    static func holder(_ lab: VRRPLab) -> [String] {
        ["n1", "n2"].filter { lab.daemons[$0]?.isRunning == true && lab.lab.holds(lab.namespace($0), vip, interface: "vrrp.50") }
    }

    /// The client's neighbour entry for the VIP after it has reached it (nil: no answer). The client first talks to
    /// both nodes' own addresses: a node that had to ask for the client's MAC on its base interface would ask with
    /// the VIP as sender and the base MAC (keepalived 2.2.7 alike: its VMAC does not change how replies are routed).
    static func clientNeighbour(_ lab: VRRPLab) -> String? {
        let n3 = lab.namespace("n3")
        for address in ["198.51.100.1", "198.51.100.2"] {
            _ = try? lab.lab.run(n3, ["ping", "-c", "1", "-W", "1", address], check: false)
        }
        let answered = Lab.wait(timeout: .seconds(3)) {
            (try? lab.lab.run(n3, ["ping", "-c", "1", "-W", "1", vip], check: false).status) == 0
        }
        guard answered != nil else { return nil }
        let entry = (try? lab.lab.run(n3, ["ip", "neigh", "show", vip]).output) ?? ""
        return entry.split(separator: " ").drop { $0 != "lladdr" }.dropFirst().first.map(String.init)
    }

    static func link(_ lab: VRRPLab, _ node: String) -> String {
        (try? lab.lab.run(lab.namespace(node), ["ip", "-d", "link", "show", "vrrp.50"], check: false).output) ?? ""
    }

    func failover(first: String, second: String) throws {
        let lab = try VRRPLab("vmac-\(first.prefix(1))\(second.prefix(1))", nodes: 3)
        defer { lab.close() }
        let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "vrrp", name: "wire")
        func start(_ node: String, _ daemon: String, priority: Int) throws {
            if daemon == "vigil" {
                try lab.startVigil(node, config: Self.config(priority: priority))
            } else {
                try lab.startKeepalived(node, config: Self.config(priority: priority))
            }
        }
        try start("n1", first, priority: 200)
        try start("n2", second, priority: 100)
        let label = "\(first) (n1, 200) and \(second) (n2, 100)"
        #expect(
            Lab.wait(timeout: .seconds(8)) { Self.holder(lab) == ["n1"] } != nil,
            "\(label): n1 holds the VIP on vrrp.50\n\(lab.log("n1"))")
        for node in ["n1", "n2"] {
            let link = Self.link(lab, node)
            #expect(link.contains("macvlan mode private") && link.contains("link/ether \(Self.mac)"), "\(label) \(node): \(link)")
        }
        #expect(Self.clientNeighbour(lab) == Self.mac, "\(label): the client reaches the VIP at the virtual MAC")
        lab.stop("n1")
        #expect(
            Lab.wait(timeout: .seconds(6)) { Self.holder(lab) == ["n2"] } != nil,
            "\(label): n2 takes over\n\(lab.log("n2"))")
        #expect(Self.clientNeighbour(lab) == Self.mac, "\(label): after the failover, still the virtual MAC")
        #expect(!Self.link(lab, "n1").contains("macvlan"), "\(label): n1's VMAC went with it")
        capture.stop()
        let sources = try capture.fields(["eth.src", "ip.src"], filter: "vrrp")
        #expect(!sources.isEmpty && sources.allSatisfy { $0[0] == Self.mac }, "\(label): adverts come from the virtual MAC: \(Set(sources.map { $0[0] }))")
        lab.stop("n2")
        #expect(!Self.link(lab, "n2").contains("macvlan"), "\(label): n2's VMAC went on stop")
    }

    @Test("Vigil pair: the client's neighbour entry keeps the virtual MAC across a failover")
    func vigilPair() throws { try failover(first: "vigil", second: "vigil") }

    @Test("keepalived master, Vigil backup")
    func keepalivedToVigil() throws { try failover(first: "keepalived", second: "vigil") }

    @Test("Vigil master, keepalived backup")
    func vigilToKeepalived() throws { try failover(first: "vigil", second: "keepalived") }

    @Test("IPv6 (MAC 00:00:5e:00:02:VRID, adverts from the base's link-local on the VMAC); vmac_xmit_base sends from the base interface")
    func ipv6AndTransmitBase() throws {
        let lab = try VRRPLab("vmac6", nodes: 3)
        defer { lab.close() }
        let vip = "2001:db8::100"
        for transmitBase in [false, true] {
            let capture = try Capture(
                lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "ip6 proto 112", name: "wire\(transmitBase)")
            let extra = "    use_vmac\n" + (transmitBase ? "    vmac_xmit_base\n" : "")
            try lab.startVigil("n1", config: vrrpConfig(priority: 200, version: 3, addresses: ["\(vip)/64"], extra: extra))
            try lab.startVigil("n2", config: vrrpConfig(priority: 100, version: 3, addresses: ["\(vip)/64"], extra: extra))
            let n1 = lab.namespace("n1")
            #expect(
                Lab.wait(timeout: .seconds(8)) { lab.lab.holds(n1, vip, interface: "vrrp.50") } != nil, "\(lab.log("n1"))")
            let n3 = lab.namespace("n3")
            for address in ["2001:db8::1", "2001:db8::2"] {
                _ = try? lab.lab.run(n3, ["ping", "-c", "1", "-W", "1", address], check: false)
            }
            #expect(
                Lab.wait(timeout: .seconds(3)) {
                    (try? lab.lab.run(n3, ["ping", "-c", "1", "-W", "1", vip], check: false).status) == 0
                } != nil)
            let neighbour = (try? lab.lab.run(n3, ["ip", "-6", "neigh", "show", vip]).output) ?? ""
            #expect(neighbour.contains("lladdr 00:00:5e:00:02:32"), "transmit base \(transmitBase): \(neighbour)")
            sleep(1)
            capture.stop()
            lab.stop("n1")
            lab.stop("n2")
            let baseMAC = (try? lab.lab.run(n1, ["cat", "/sys/class/net/eth0/address"]).output)?.split(separator: "\n").first.map(String.init) ?? "?"
            let sources = Set(try capture.fields(["eth.src"], filter: "vrrp").map { $0[0] })
            #expect(sources == [transmitBase ? baseMAC : "00:00:5e:00:02:32"], "transmit base \(transmitBase): \(sources)")
        }
    }

    /// Whether this kernel makes ipvlan interfaces (the lab machines' kernel does not; the VM's does).
    static func kernelHasIPVLAN() throws -> Bool {
        let lab = try VRRPLab("ipvlan-probe", nodes: 1)
        defer { lab.lab.close() }
        let made = try lab.lab.run(
            lab.namespace("n1"), ["ip", "link", "add", "link", "eth0", "name", "probe0", "type", "ipvlan", "mode", "l2"],
            check: false)
        return made.succeeded
    }

    @Test("use_ipvlan: an L2 ipvlan with its own address, the VIP on the base as keepalived puts it, failover between Vigil and keepalived 2.2.7 both ways; on a kernel without ipvlan, FAULT and the kernel's reason")
    func ipvlan() throws {
        guard try Self.kernelHasIPVLAN() else {
            let lab = try VRRPLab("ipvlan-none", nodes: 1)
            defer { lab.close() }
            try lab.startVigil(
                "n1", config: vrrpConfig(state: "MASTER", priority: 255, extra: "    use_ipvlan vip50 198.51.100.11/24"))
            #expect(
                Lab.wait(timeout: .seconds(3)) { lab.log("n1").contains("cannot create its virtual interface vip50") }
                    != nil, "\(lab.log("n1"))")
            #expect(!lab.lab.holds(lab.namespace("n1"), Self.vip), "FAULT: no VIP anywhere")
            return
        }
        for (first, second) in [("vigil", "keepalived"), ("keepalived", "vigil")] {
            let lab = try VRRPLab("ipvlan-\(first.prefix(1))", nodes: 3)
            defer { lab.close() }
            func start(_ node: String, _ daemon: String, priority: Int, address: String) throws {
                let config = vrrpConfig(
                    priority: priority, addresses: ["\(Self.vip)/24"], extra: "    use_ipvlan vip50 \(address)/24")
                if daemon == "vigil" {
                    try lab.startVigil(node, config: config)
                } else {
                    try lab.startKeepalived(node, config: config)
                }
            }
            try start("n1", first, priority: 200, address: "198.51.100.11")
            try start("n2", second, priority: 100, address: "198.51.100.12")
            let label = "\(first) (n1) and \(second) (n2)"
            func holder() -> [String] {
                // The VIP stays on the base interface, as keepalived 2.2.7 puts it (only use_vmac moves addresses).
                ["n1", "n2"].filter { lab.daemons[$0]?.isRunning == true && lab.lab.holds(lab.namespace($0), Self.vip) }
            }
            #expect(Lab.wait(timeout: .seconds(8)) { holder() == ["n1"] } != nil, "\(label)\n\(lab.log("n1"))\n\(lab.log("n2"))")
            let link = (try? lab.lab.run(lab.namespace("n2"), ["ip", "-d", "link", "show", "vip50"]).output) ?? ""
            #expect(link.contains("ipvlan") && link.contains("mode l2"), "\(label): \(link)")
            #expect(lab.lab.holds(lab.namespace("n2"), "198.51.100.12", interface: "vip50"), "\(label): the backup's own address")
            let n3 = lab.namespace("n3")
            #expect((try? lab.lab.run(n3, ["ping", "-c", "1", "-W", "2", Self.vip], check: false).status) == 0, "\(label)")
            lab.stop("n1")
            #expect(Lab.wait(timeout: .seconds(6)) { holder() == ["n2"] } != nil, "\(label): takeover")
            #expect(
                Lab.wait(timeout: .seconds(3)) {
                    (try? lab.lab.run(n3, ["ping", "-c", "1", "-W", "1", Self.vip], check: false).status) == 0
                } != nil, "\(label): the client reaches the new master")
            lab.stop("n2")
            #expect(!((try? lab.lab.run(lab.namespace("n2"), ["ip", "link", "show", "vip50"], check: false).status) == 0), "\(label): removed on stop")
        }
    }
}

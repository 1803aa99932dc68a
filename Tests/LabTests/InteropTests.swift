import Foundation
import Testing
import VigilTestSupport

/// Vigil and Debian's keepalived 2.2.7 on one virtual router, each side as master and as backup, for every way
/// VRRP is run: the elections agree, failover works both ways, keepalived logs no packet error and tshark finds
/// every advert's checksum right.
@Suite("Interop with keepalived 2.2.7", .serialized, .enabled(if: TestLab.shouldRun))
struct InteropTests {
    enum Mode: String, CaseIterable, CustomStringConvertible {
        case v2Password = "VRRPv2 with PASS"
        case v2AH = "VRRPv2 with AH"
        case v3IPv4 = "VRRPv3 IPv4"
        case v3IPv6 = "VRRPv3 IPv6"
        case unicast = "VRRPv2 unicast"

        var description: String { rawValue }

        var vip: String { self == .v3IPv6 ? "2001:db8::100" : "198.51.100.100" }

        func config(node: Int, priority: Int, state: String) -> String {
            let other = node == 1 ? 2 : 1
            switch self {
            case .v2Password:
                return vrrpConfig(state: state, priority: priority, password: "1111")
            case .v2AH:
                // With AH, keepalived (and Vigil) start below priority 255 as BACKUP whatever `state` says.
                return vrrpConfig(state: state, priority: priority, vrid: 54, password: "secret1", authType: "AH")
            case .v3IPv4:
                return vrrpConfig(state: state, priority: priority, vrid: 51, version: 3)
            case .v3IPv6:
                return vrrpConfig(state: state, priority: priority, vrid: 52, version: 3, addresses: ["\(vip)/64"])
            case .unicast:
                return vrrpConfig(
                    state: state, priority: priority, vrid: 53, password: "1111", unicastSource: "198.51.100.\(node)",
                    peers: ["198.51.100.\(other)"])
            }
        }

        var captureFilter: String {
            switch self {
            case .v3IPv6: "ip6 proto 112"
            case .v2AH: "ip proto 51"
            default: "vrrp"
            }
        }
    }

    /// keepalived's log lines for adverts it could not accept (vrrp_check_packet and friends).
    static let keepalivedPacketErrors = [
        "invalid TTL", "wrong version", "Invalid auth type", "auth, expecting", "invalid passwd",
        "advertisement interval mismatch", "Invalid packet type", "unexpected ip number count", "ip_tot_len mismatch",
        "Invalid VRRPv3 checksum", "Invalid VRRPv2 checksum", "not present in MASTER advert", "packet too short",
        "packet too long", "vrrp packet too", "not a unicast peer", "Expected multicast packet",
        "Expected unicast packet", "IPSEC-AH : invalid", "IPSEC AH : invalid", "already processed",
        "Received AH header but", "No AH header but",
    ]

    static let cases: [(Mode, Bool)] = Mode.allCases.flatMap { [($0, true), ($0, false)] }

    @Test("elections agree and failover works both ways", arguments: cases)
    func interop(mode: Mode, vigilIsMaster: Bool) throws {
        let lab = try VRRPLab("interop", nodes: 2)
        defer { lab.close() }
        let capture = try Capture(
            lab: lab.lab, namespace: lab.hub, interface: "br0", filter: mode.captureFilter, name: "wire")
        func start(_ node: String, vigil: Bool) throws {
            let index = node == "n1" ? 1 : 2
            let config = mode.config(
                node: index, priority: index == 1 ? 150 : 100, state: index == 1 ? "MASTER" : "BACKUP")
            if vigil { try lab.startVigil(node, config: config) } else { try lab.startKeepalived(node, config: config) }
        }
        // n1 (priority 150) is the master side, n2 (100) the backup side.
        try start("n1", vigil: vigilIsMaster)
        try start("n2", vigil: !vigilIsMaster)
        let vip = mode.vip
        #expect(
            lab.waitForHolder("n1", of: vip, timeout: .seconds(8)) != nil,
            "n1 should win the election\nn1:\n\(lab.log("n1"))\nn2:\n\(lab.log("n2"))")
        #expect(lab.longestDoubleHolding(vip, for: .seconds(2)) == .zero)
        let keepalivedLog = lab.lab.path(vigilIsMaster ? "n2-keepalived.log" : "n1-keepalived.log")

        try lab.crash("n1")
        #expect(
            lab.waitForHolder(
                "n2", of: vip, timeout: masterDownInterval(interval: .seconds(1), priority: 100) + .milliseconds(500))
                != nil,
            "n2 should take over\n\(lab.log("n2"))")
        try start("n1", vigil: vigilIsMaster)
        #expect(
            lab.waitForHolder(
                "n1", of: vip, timeout: masterDownInterval(interval: .seconds(1), priority: 150) + .seconds(2)) != nil,
            "n1 should take the VIP back\nn1:\n\(lab.log("n1"))\nn2:\n\(lab.log("n2"))")
        sleep(1)
        capture.stop()

        let log = (try? String(contentsOfFile: keepalivedLog, encoding: .utf8)) ?? ""
        let errors = log.split(separator: "\n").filter { line in
            Self.keepalivedPacketErrors.contains { line.contains($0) }
        }
        #expect(errors.isEmpty, "keepalived rejected adverts:\n\(errors.joined(separator: "\n"))")
        let adverts = try capture.fields(["frame.number", "vrrp.checksum.status", "vrrp.prio"], filter: "vrrp")
        #expect(adverts.count >= 6, "adverts from both sides on the wire")
        let bad = adverts.filter { $0[1] != "1" }
        #expect(bad.isEmpty, "adverts with a bad checksum: \(bad)")
        #expect(try capture.fields(["frame.number"], filter: "_ws.malformed").isEmpty)
    }
}

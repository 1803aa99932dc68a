import Foundation
import Testing
import VigilTestSupport

/// Accept mode (RFC 5798 6.1) on the real kernel: a master that does not own its addresses drops traffic to them
/// with `no_accept` (and by default in strict mode), answers with `accept`, as keepalived 2.2.7 does with the
/// same file; the table goes on stop.
@Suite("Accept mode", .serialized, .enabled(if: TestLab.shouldRun))
struct AcceptModeTests {
    /// Whether n2 gets an answer from the VIP (IPv4 ping, or IPv6 ping to the excluded IPv6 address).
    static func answers(_ lab: VRRPLab, _ address: String) -> Bool {
        let result = try? lab.lab.run(lab.namespace("n2"), ["ping", "-c", "1", "-W", "1", address], check: false)
        return result?.status == 0
    }

    static func config(_ setting: String, global: String = "") -> String {
        vrrpConfig(
            state: "MASTER", priority: 200, addresses: ["198.51.100.100/24"],
            extra: "    \(setting)\n    virtual_ipaddress_excluded {\n        2001:db8::100/64\n    }"
        ).replacingOccurrences(of: "global_defs {", with: "global_defs {\n\(global)")
    }

    static func tables(_ lab: VRRPLab) -> String {
        (try? lab.lab.run(lab.namespace("n1"), ["nft", "list", "tables"]).output) ?? ""
    }

    @Test("no_accept drops traffic to a non-owner master's addresses, accept answers, strict mode means no_accept; keepalived 2.2.7 alike")
    func acceptMode() throws {
        let lab = try VRRPLab("accept", nodes: 2)
        defer { lab.close() }
        let cases: [(setting: String, global: String, answers: Bool)] = [
            ("no_accept", "", false),
            ("accept", "", true),
            ("", "", true),
            ("", "    vrrp_strict\n", false),
        ]
        for daemon in ["vigil", "keepalived"] {
            for (setting, global, expected) in cases {
                let config = Self.config(setting, global: global)
                if daemon == "vigil" {
                    try lab.startVigil("n1", config: config)
                } else {
                    try lab.startKeepalived("n1", config: config)
                }
                let label = "\(daemon) with `\(setting)\(global.isEmpty ? "" : " vrrp_strict")`"
                #expect(
                    lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(6)) != nil,
                    "\(label)\n\(lab.log("n1"))")
                sleep(1)
                #expect(Self.answers(lab, "198.51.100.100") == expected, "\(label): IPv4\n\(Self.tables(lab))")
                #expect(Self.answers(lab, "2001:db8::100") == expected, "\(label): IPv6\n\(Self.tables(lab))")
                #expect(Self.answers(lab, "198.51.100.1"), "the node's own address always answers")
                lab.stop("n1")
                if daemon == "vigil" {
                    #expect(!Self.tables(lab).contains("vigil_vrrp"), "\(label): the table goes on stop")
                }
            }
        }
    }
}

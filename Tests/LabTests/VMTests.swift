import Foundation
import Testing
import VigilTestSupport

/// The load balancer on a kernel with IPVS, in the VM lab (scripts/vm-run): what Vigil programs beside what
/// keepalived 2.2.7's checker programs for the same files.
@Suite("IPVS in the VM lab", .serialized, .enabled(if: TestLab.shouldRun))
struct VMTests {
    static let fixtures = "\(Package.root)/Tests/LabTests/Fixtures/ipvs"

    @Test("IPVS holds, line for line, what keepalived 2.2.7 programs: TCP/UDP/SCTP over IPv4 and IPv6, every scheduler and its flags, NAT/DR/TUN with tunnel types, persistence with granularity and engine, thresholds, sorry server, groups, firewall marks; both leave IPVS empty")
    func differential() throws {
        let files = ["basic.conf", "schedulers.conf", "persistence.conf", "groups.conf"]
        let result = try VMLab.run(
            files: ["\(Self.fixtures)/ipvs-differential.sh"] + files.map { "\(Self.fixtures)/\($0)" },
            ["sh", "/tmp/in/ipvs-differential.sh"] + files.map { "/tmp/in/\($0)" })
        let output = result.output
        for file in files {
            let section = output.components(separatedBy: "== \(file)\n").dropFirst().first?
                .components(separatedBy: "\n== ").first ?? ""
            #expect(section.contains("SAME ("), "\(file):\n\(section)\n\(result.error)")
            #expect(section.contains("keepalived left 0 lines") && section.contains("vigil left 0 lines"), "\(file)")
        }
        #expect(result.status == 0, "\(result.error)")
    }
}

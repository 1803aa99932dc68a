import Foundation
import Testing
import VigilTestSupport

/// The load balancer on a kernel with IPVS, in the VM lab (scripts/vm-run): what Vigil programs beside what
/// keepalived 2.2.7's checker programs for the same files.
@Suite("IPVS in the VM lab", .serialized, .enabled(if: TestLab.shouldRun))
struct VMTests {
    static let fixtures = "\(Package.root)/Tests/LabTests/Fixtures/ipvs"

    @Test("IPVS holds, line for line, what keepalived 2.2.7 programs: TCP/UDP/SCTP over IPv4 and IPv6, every scheduler and its flags, NAT/DR/TUN with tunnel types, persistence with granularity and engine, thresholds, sorry server, groups, firewall marks, lvs_timeouts, lvs_flush, lvs_flush_on_stop, sync daemons; both leave what keepalived leaves")
    func differential() throws {
        let files = ["basic.conf", "schedulers.conf", "persistence.conf", "groups.conf", "global.conf"]
        let result = try VMLab.run(
            files: ["\(Self.fixtures)/ipvs-differential.sh"] + files.map { "\(Self.fixtures)/\($0)" },
            ["sh", "/tmp/in/ipvs-differential.sh"] + files.map { "/tmp/in/\($0)" })
        let output = result.output
        for file in files {
            let section = output.components(separatedBy: "== \(file)\n").dropFirst().first?
                .components(separatedBy: "\n== ").first ?? ""
            #expect(section.contains("SAME ("), "\(file):\n\(section)\n\(result.error)")
            // Someone else's service stays, unless lvs_flush_on_stop (global.conf) empties IPVS.
            let left = file == "global.conf" ? 0 : 1
            #expect(
                section.contains("keepalived left \(left) lines") && section.contains("vigil left \(left) lines"),
                "\(file): \(section)")
        }
        #expect(result.status == 0, "\(result.error)")
    }

    @Test("traffic through the VIP: NAT, DR and TUN reach their real servers; rr spreads, persistence sticks; with lvs_sync_daemon a connection survives the master director stopping, without it it is reset")
    func traffic() throws {
        let result = try VMLab.run(
            files: ["\(Self.fixtures)/ipvs-traffic.sh"], ["sh", "/tmp/in/ipvs-traffic.sh"])
        var values = [String: String]()
        for line in result.output.split(separator: "\n") where line.hasPrefix("RESULT ") {
            let words = line.dropFirst(7).split(separator: " ", maxSplits: 1)
            values[String(words[0])] = words.count > 1 ? String(words[1]).trimmingCharacters(in: .whitespaces) : ""
        }
        let context = "\(result.output)\n\(result.error)"
        #expect(values["nat"] == "rs1", "NAT\n\(context)")
        #expect(values["dr"] == "rs3", "DR")
        #expect(values["tun"] == "rs5", "TUN")
        #expect(values["rr"] == "rs1=5 rs2=5", "round robin over two")
        #expect(values["persistent"] == "rs1=10" || values["persistent"] == "rs2=10", "persistence: one server for all")
        #expect(values["nosync"]?.hasPrefix("broken") == true, "without the sync daemon the new master resets it")
        #expect(values["daemons"]?.contains("master sync daemon (mcast=eth1, syncid=50") == true)
        #expect(values["synced-before-stop"] == "1", "the backup director held the connection before the master stopped\n\(context)")
        let survived = values["sync"] ?? ""
        #expect(survived.hasPrefix("survived"), "with the sync daemon the connection goes on: \(survived)\n\(context)")
        if let pause = Double(survived.split(separator: " ").last ?? "") {
            // lb1 resigns with priority 0: lb2 takes over within Skew_Time (0.61 s at priority 100) and announces;
            // the client's requests are 0.1 s apart. Bound: Master_Down_Interval (3.61 s) plus a second.
            #expect(pause < 4610, "the longest pause the client saw: \(pause) ms")
        }
        #expect(values["sync-connections-on-lb2"] == "1", "lb2 holds the synchronised connection")
    }

    /// Per real server, the times it entered and left IPVS, from "EVENT daemon seconds server=weight ..." lines.
    static func transitions(_ output: String, _ daemon: String) -> [String: [(Double, Bool)]] {
        var result = [String: [(Double, Bool)]]()
        var present = Set<String>()
        for line in output.split(separator: "\n") where line.hasPrefix("EVENT \(daemon) ") {
            let words = line.split(separator: " ")
            guard words.count >= 3, let time = Double(words[2]) else { continue }
            let now = Set(words.dropFirst(3).map { String($0.split(separator: "=")[0]) })
            for server in now.subtracting(present) { result[server, default: []].append((time, true)) }
            for server in present.subtracting(now) { result[server, default: []].append((time, false)) }
            present = now
        }
        return result
    }

    @Test("the checker beside keepalived 2.2.7's on the same scenario: every real server leaves and returns the same number of times, each within a check interval of keepalived (retry and delay_before_retry, alpha, quorum with hysteresis, the sorry server)")
    func checkerDifferential() throws {
        let result = try VMLab.run(
            files: ["\(Self.fixtures)/checker-differential.sh", "\(Self.fixtures)/checker.conf"],
            ["sh", "/tmp/in/checker-differential.sh"])
        let keepalived = Self.transitions(result.output, "keepalived")
        let vigil = Self.transitions(result.output, "vigil")
        #expect(keepalived["203.0.113.9:80"]?.count == 2, "the scenario ran: the sorry server came and went\n\(result.output)")
        #expect(Set(keepalived.keys) == Set(vigil.keys), "\(keepalived) \(vigil)")
        // Each daemon's scenario loop makes and sees changes up to one of its periods late (`PERIOD` lines).
        var period = 0.0
        for line in result.output.split(separator: "\n") where line.hasPrefix("PERIOD ") {
            period = max(period, Double(line.split(separator: " ").last ?? "") ?? 0)
        }
        for (server, theirs) in keepalived {
            let ours = vigil[server] ?? []
            #expect(ours.map(\.1) == theirs.map(\.1), "\(server): the same ins and outs: \(theirs) vs \(ours)")
            for (mine, reference) in zip(ours, theirs) {
                // Both check every delay_loop (1 s) from a random start, each check taking up to connect_timeout
                // (1 s): the same change can be seen up to 2 s apart. The HTTP_GET server (delay_loop 2) checks
                // one URL per delay_loop, so there it is two of its delay_loops: 4 s.
                let bound = (server == "203.0.113.5:8080" ? 4.0 : 2.0) + 2 * period
                #expect(abs(mine.0 - reference.0) <= bound, "\(server): \(reference) vs \(mine) (loop period \(period) s)")
            }
        }
    }

    @Test("use_ipvlan on a kernel with ipvlan: an L2 ipvlan with the node's own address, the adverts' source, the VIP on the base as keepalived puts it; failover between Vigil and keepalived 2.2.7 both ways, the client reaching the master; the ipvlan removed on stop")
    func ipvlan() throws {
        let result = try VMLab.run(
            files: ["\(Package.root)/Tests/LabTests/Fixtures/vm/ipvlan.sh"], ["sh", "/tmp/in/ipvlan.sh"])
        let context = "\(result.output)\n\(result.error)"
        #expect(result.status == 0, "\(context)")
        #expect(result.output.contains("RESULT ok vigil (n1) and keepalived (n2)"), "\(context)")
        #expect(result.output.contains("RESULT ok keepalived (n1) and vigil (n2)"), "\(context)")
        #expect(result.output.contains("RESULT done"), "\(context)")
    }
}

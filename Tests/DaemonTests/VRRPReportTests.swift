import Testing
import VRRP
import VigilConfig

@testable import Daemon

/// What the VRRP planner reports about itself: `vigil status`'s transition history, and the metrics a Prometheus
/// dashboard built for keepalived (mehdy/keepalived-exporter's names and labels) reads.
@Suite("VRRP planner: status history and exporter-compatible metrics")
struct VRRPReportTests {
    @Test("status keeps the last transitions with their reasons, oldest first, in the table and the JSON")
    func history() {
        var harness = PlannerHarness(instanceText(priority: 100))
        harness.start()
        harness.advance(by: .seconds(4))
        #expect(harness.state("VI_1") == .master)
        let report = harness.planner.statusReport(now: harness.now, wallClock: 1_000_000, pid: 1)
        let history = report.instances[0].history
        #expect(history.map { "\($0.from)>\($0.to)" } == ["INIT>BACKUP", "BACKUP>MASTER"], "\(history)")
        #expect(history.last?.reason.isEmpty == false)
        #expect(history[0].secondsAgo > history[1].secondsAgo)
        #expect(report.text.contains("Recent transitions:") && report.text.contains("VI_1  BACKUP -> MASTER"), "\(report.text)")
        #expect(report.json.contains(#""history":[{"seconds_ago":"#) && report.json.contains(#""from":"BACKUP","to":"MASTER""#))
    }

    @Test("the history holds the last 16 transitions")
    func historyBound() {
        var harness = PlannerHarness(instanceText(priority: 100))
        harness.start()
        for _ in 0..<12 {
            harness.advance(by: .seconds(4))  // MASTER
            harness.feed(harness.planner.received(PlannerHarness.advert(priority: 200), on: SocketKey(index: 2, family: .ipv4), now: harness.now))
        }
        let history = harness.planner.statusReport(now: harness.now, wallClock: 0, pid: 1).instances[0].history
        #expect(history.count == RouterState.historyLength)
        #expect(history.last.map { "\($0.from)>\($0.to)" } == "MASTER>BACKUP")
    }

    @Test("keepalived_vrrp_state per virtual address with ip_address and intf; excluded addresses; garp delay; script state")
    func exporterMetrics() {
        let text = """
            vrrp_script chk {
                script "/bin/true"
            }
            vrrp_instance VI_1 {
                state BACKUP
                interface eth0
                virtual_router_id 51
                priority 100
                garp_master_delay 3
                virtual_ipaddress {
                    198.51.100.100
                    198.51.100.101/24 dev eth1
                }
                virtual_ipaddress_excluded {
                    2001:db8::1/64
                }
                track_script {
                    chk
                }
            }

            """
        var harness = PlannerHarness(text)
        harness.start()
        let page = harness.planner.metricsPage(droppedNotifications: 0).text
        #expect(page.contains(#"keepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="51",ip_address="198.51.100.100"} 0"#), "\(page)")
        #expect(page.contains(#"keepalived_vrrp_state{iname="VI_1",intf="eth1",vrid="51",ip_address="198.51.100.101/24"} 0"#))
        #expect(page.contains(#"keepalived_vrrp_excluded_state{iname="VI_1",intf="eth0",vrid="51",ip_address="2001:db8::1/64"} 0"#))
        #expect(page.contains(#"keepalived_gratuitous_arp_delay_total{iname="VI_1",intf="eth0",vrid="51"} 3"#))
        #expect(page.contains(#"keepalived_script_state{name="chk"}"#))
    }
}

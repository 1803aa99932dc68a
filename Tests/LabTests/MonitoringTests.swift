import Foundation
import Testing
import VigilTestSupport

/// What Vigil ships for monitoring (packaging/monitoring): the alerting rules pass `promtool test rules`, and every
/// metric the rules and the Grafana dashboard query is one a running Vigil serves, on a page `promtool check
/// metrics` accepts.
@Suite("Monitoring: alerting rules and dashboard against a running Vigil", .serialized, .enabled(if: TestLab.shouldRun))
struct MonitoringTests {
    static let directory = "\(Package.root)/packaging/monitoring"

    @Test("the alerting rules fire as their tests say (promtool test rules)")
    func rules() throws {
        let check = try Command.run(["promtool", "check", "rules", "\(Self.directory)/vigil-alerts.yml"], check: false)
        #expect(check.status == 0, "\(check)")
        let test = try Command.run(["promtool", "test", "rules", "\(Self.directory)/vigil-alerts.test.yml"], check: false)
        #expect(test.status == 0 && test.output.contains("SUCCESS"), "\(test)")
    }

    @Test("every metric the rules and the dashboard use is served by Vigil (VRRP, a vrrp_script, a checker), and promtool accepts the page")
    func served() throws {
        let lab = try BalancerLab("monitor", servers: 1)
        defer { lab.close() }
        try lab.serve("rs1", ["http", lab.address("rs1"), "80", "rs1"])
        let config = """
            vrrp_script chk_true {
                script "/bin/true"
                interval 1
            }
            vrrp_instance VI_1 {
                state MASTER
                interface eth0
                virtual_router_id 51
                priority 150
                virtual_ipaddress {
                    203.0.113.200/32
                }
                virtual_ipaddress_excluded {
                    203.0.113.201/32
                }
                track_script {
                    chk_true
                }
            }
            virtual_server \(BalancerLab.vip) 80 {
                delay_loop 1
                lb_algo rr
                protocol TCP
                quorum 1
                real_server \(lab.address("rs1")) 80 {
                    TCP_CHECK {
                        connect_timeout 1
                    }
                }
            }

            """
        try lab.startVigil(config: config, arguments: ["--metrics", "127.0.0.1:9650"])
        var page = ""
        let published = Lab.wait(timeout: .seconds(8)) {
            page =
                (try? lab.lab.run(
                    lab.balancer,
                    ["/usr/bin/python3", "-c", "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9650/metrics').read().decode(), end='')"]
                ).output) ?? ""
            return page.contains("vigil_real_server_up{") && page.contains("keepalived_script_status{")
                && page.contains("keepalived_vrrp_state{") && page.contains("vigil_checks_total{")
                && page.contains(#"ip_address="203.0.113.201"} 2"#)  // MASTER
        }
        #expect(published != nil, "\(page)\n\(lab.log)")
        let lint = try Command.run(["promtool", "check", "metrics"], check: false, input: page)
        #expect(lint.status == 0, "\(lint)")
        #expect(page.contains(#"keepalived_vrrp_excluded_state{iname="VI_1",intf="eth0",vrid="51",ip_address="203.0.113.201"} 2"#), "\(page)")
        #expect(page.contains(#"keepalived_script_state{name="chk_true"}"#), "\(page)")

        let served = Set(page.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap {
            $0.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init)
        })
        let rules = try String(contentsOfFile: "\(Self.directory)/vigil-alerts.yml", encoding: .utf8)
        let dashboard = try String(contentsOfFile: "\(Self.directory)/grafana-dashboard.json", encoding: .utf8)
        #expect((try? JSONSerialization.jsonObject(with: Data(dashboard.utf8))) != nil, "the dashboard is JSON")
        let pattern = try NSRegularExpression(pattern: #"\b(keepalived|vigil)_[a-z_]+"#)
        func names(_ text: String) -> Set<String> {
            Set(pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
                Range($0.range, in: text).map { String(text[$0]) }
            }.filter { !$0.hasSuffix("_") && $0 != "vigil_vrrp" })
        }
        let used = names(rules).union(names(dashboard))
        #expect(used.count >= 15, "\(used.sorted())")
        #expect(used.subtracting(served).isEmpty, "queried but not served: \(used.subtracting(served).sorted())\n\(page)")
    }
}

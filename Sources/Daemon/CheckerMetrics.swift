import Glibc
import HealthCheck
import LinuxNet

/// The checker's Prometheus metrics: real servers, quorum, checks and load-balancer updates. The VRRP process
/// serves them beside its own (read from `checker.prom`, which the checker rewrites every second when something
/// changed); without a VRRP process the checker serves them itself.
extension CheckerService {
    public static let metricsFileName = "checker.prom"

    func metricsPage() -> MetricsPage {
        var page = MetricsPage()
        var up = [(labels: [(String, String)], value: String)]()
        var weight = [(labels: [(String, String)], value: String)]()
        for server in servers {
            for (index, member) in server.pool.members.enumerated() {
                let labels = [("virtual_server", server.name), ("real_server", server.realServerNames[index])]
                up.append((labels, member.isAlive ? "1" : "0"))
                weight.append((labels, String(member.effectiveWeight)))
            }
        }
        page.add("vigil_real_server_up", "gauge", "1 while every checker of the real server is up.", up)
        page.add("vigil_real_server_weight", "gauge", "The real server's weight (dynamic and FILE_CHECK changes included).", weight)
        page.add(
            "vigil_virtual_server_quorum_up", "gauge", "1 while the virtual server has its quorum.",
            servers.map { ([("virtual_server", $0.name)], $0.pool.quorumUp ? "1" : "0") })
        page.add(
            "vigil_checks_total", "counter", "Checks run, by checker kind and result.",
            checkCounts.keys.sorted { ($0.kind, $0.success ? 1 : 0) < ($1.kind, $1.success ? 1 : 0) }.map { key in
                ([("kind", key.kind), ("result", key.success ? "success" : "failure")], String(checkCounts[key] ?? 0))
            })
        page.add(
            "vigil_load_balancer_updates_total", "counter", "Transactions applied to the kernel's load balancer.",
            [([("backend", backend.name)], String(balancerUpdates))])
        page.add(
            "vigil_load_balancer_failures_total", "counter", "Transactions the kernel refused (retried every 5 s).",
            [([("backend", backend.name)], String(balancerFailures))])
        return page
    }

    /// Every second: the metrics file for the VRRP process, when something changed.
    func publishMetrics() {
        guard !stopping else { return }
        let text = metricsPage().text
        if text != lastPublishedMetrics {
            lastPublishedMetrics = text
            try? RuntimeDirectory.writeAtomically(runtime.file(Self.metricsFileName), contents: text, mode: 0o600)
        }
        loop.schedule(at: loop.now + 1_000_000_000) { [unowned self] in publishMetrics() }
    }

    func httpAnswer(_ request: [UInt8]) -> String {
        MetricsPage.httpAnswer(request) { metricsPage().text }
    }
}

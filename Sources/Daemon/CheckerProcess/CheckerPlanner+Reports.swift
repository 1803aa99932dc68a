import HealthCheck
import VigilConfig

/// What `vigil status` shows about the checker (each virtual server, its quorum, its real servers and their
/// checkers) and its Prometheus metrics. Pure functions of the planner's state.
extension CheckerPlanner {
    /// The checkers of one real server.
    func checkers(server: Int, member: Int) -> [CheckerState] {
        checkers.filter { $0.server == server && $0.member == member }
    }

    /// A JSON array, one object per virtual server (the `virtual_servers` member of docs/status.schema.json).
    var statusJSON: String {
        let servers = self.servers.enumerated().map { index, server in
            let realServers = server.pool.members.enumerated().map { memberIndex, member in
                let checkers = checkers(server: index, member: memberIndex).map { state in
                    "{\"kind\":\(JSON.string(state.checker.kind.keyword)),\"up\":\(member.checkers[state.index]),\"last\":\(JSON.string(state.lastDetail))}"
                }
                return
                    "{\"address\":\(JSON.string(server.realServerNames[memberIndex])),\"alive\":\(member.isAlive),\"weight\":\(member.effectiveWeight),\"checkers\":[\(checkers.joined(separator: ","))]}"
            }
            let destinations = server.pool.destinations.map { JSON.string("\($0.endpoint) weight \($0.weight)") }
            return
                "{\"name\":\(JSON.string(server.name)),\"quorum_up\":\(server.pool.quorumUp),\"live_weight\":\(server.pool.liveWeight),\"destinations\":[\(destinations.joined(separator: ","))],\"real_servers\":[\(realServers.joined(separator: ","))]}"
        }
        return "[" + servers.joined(separator: ",") + "]"
    }

    var statusText: String {
        var rows = [["VIRTUAL SERVER", "REAL SERVER", "STATE", "WEIGHT", "CHECKS"]]
        for (index, server) in servers.enumerated() {
            for (memberIndex, member) in server.pool.members.enumerated() {
                let checks = checkers(server: index, member: memberIndex).map {
                    "\($0.checker.kind.keyword) \(member.checkers[$0.index] ? "up" : "down")"
                }
                rows.append([
                    memberIndex == 0 ? server.name : "", server.realServerNames[memberIndex],
                    member.isAlive ? "UP" : "DOWN", String(member.effectiveWeight),
                    checks.isEmpty ? "-" : checks.joined(separator: ", "),
                ])
            }
            if !server.pool.quorumUp {
                rows.append(["", "(quorum lost: \(server.pool.liveWeight) < \(server.pool.quorum))", "", "", ""])
            }
        }
        var widths = [Int](repeating: 0, count: 5)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// Real servers, quorum, checks and load-balancer updates.
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
        page.add(
            "vigil_real_server_weight", "gauge", "The real server's weight (dynamic and FILE_CHECK changes included).",
            weight)
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
            [([("backend", backendName)], String(balancerUpdates))])
        page.add(
            "vigil_load_balancer_failures_total", "counter", "Transactions the kernel refused (retried every 5 s).",
            [([("backend", backendName)], String(balancerFailures))])
        return page
    }
}

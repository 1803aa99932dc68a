import Glibc
import HealthCheck
import LinuxNet

/// What `vigil status` shows about the checker: each virtual server, its quorum, its real servers and their checkers.
extension CheckerService {
    /// The control socket's name in the runtime directory.
    public static let controlSocketName = "checker.sock"

    func control(_ request: String) -> String {
        switch request.split(separator: " ").map(String.init) {
        case ["status"]: return statusText
        case ["status", "json"]:
            return "{\"vigil\":\(JSON.string(VigilVersion.number)),\"pid\":\(getpid()),\"instances\":[],\"virtual_servers\":\(statusJSON)}\n"
        case ["reload"]:
            reload()
            return "reloading\n"
        default: return "error: unknown request '\(request.prefix(64))'; try status, status json or reload\n"
        }
    }

    /// The checkers of one real server: kind, up, and what the last check found.
    func checkerRuntimes(server: Int, member: Int) -> [CheckerRuntime] {
        checkers.filter { $0.server == server && $0.member == member }
    }

    /// A JSON array, one object per virtual server (the `virtual_servers` member of docs/status.schema.json).
    var statusJSON: String {
        let servers = self.servers.enumerated().map { index, server in
            let realServers = server.pool.members.enumerated().map { memberIndex, member in
                let checkers = checkerRuntimes(server: index, member: memberIndex).map { runtime in
                    "{\"kind\":\(JSON.string(runtime.checker.kind.keyword)),\"up\":\(member.checkers[runtime.index]),\"last\":\(JSON.string(runtime.lastDetail))}"
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
                let checks = checkerRuntimes(server: index, member: memberIndex).map {
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
}

import Foundation
import Testing
import VigilTestSupport

/// The lab topology of LAB.md: a hub namespace with a bridge, and nodes each with `eth0` on it, IPv4 198.51.100.N
/// and IPv6 2001:db8::N. Nodes run Vigil or keepalived; a capture on the bridge sees every packet.
final class VRRPLab {
    let lab: Lab
    let hub: String
    private(set) var nodes: [String: String] = [:]
    private(set) var daemons: [String: BackgroundProcess] = [:]

    init(_ name: String, nodes count: Int) throws {
        lab = try TestLab.open(name)
        hub = try lab.namespace("hub")
        try lab.bridge("br0", in: hub)
        for index in 1...count { try addNode(index) }
    }

    func addNode(_ index: Int) throws {
        let name = "n\(index)"
        let namespace = try lab.namespace(name)
        try lab.connect(
            namespace, to: "br0", in: hub, port: "p\(index)",
            addresses: ["198.51.100.\(index)/24", "2001:db8::\(index)/64"])
        nodes[name] = namespace
    }

    func namespace(_ node: String) -> String { nodes[node]! }

    /// Starts Vigil on a node with a configuration; its runtime directory and pid files are the lab's.
    @discardableResult
    func startVigil(_ node: String, config: String, arguments extra: [String] = []) throws -> BackgroundProcess {
        let path = try lab.write("\(node)-vigil.conf", config)
        let runtime = lab.path("\(node)-run")
        try? FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        let process = try lab.start(
            namespace(node),
            [try Package.vigilBinary(), "-n", "-l", "-D", "-f", path, "--runtime-dir", runtime] + extra,
            log: "\(node)-vigil")
        daemons[node] = process
        return process
    }

    private var keepalivedStarts = 0

    /// Starts Debian's keepalived on a node, pid files in the lab's directory: new ones for every start, since
    /// keepalived refuses to start over a pid file whose process still exists, and a crashed keepalived's child
    /// can linger as a zombie where PID 1 does not reap orphans.
    @discardableResult
    func startKeepalived(_ node: String, config: String, vrrpOnly: Bool = true) throws -> BackgroundProcess {
        let path = try lab.write("\(node)-keepalived.conf", config)
        keepalivedStarts += 1
        let run = "\(node)-\(keepalivedStarts)"
        let process = try lab.start(
            namespace(node),
            [
                "keepalived", "-n", "-l", "-D", "-f", path, "-p", lab.path("\(run)-k.pid"), "-r",
                lab.path("\(run)-v.pid"), "-c", lab.path("\(run)-c.pid"), "-b", lab.path("\(run)-b.pid"),
            ] + (vrrpOnly ? ["-P"] : []), log: "\(node)-keepalived")
        daemons[node] = process
        return process
    }

    /// Kills every process of a node at once, as a crash would (no priority 0, no cleanup).
    func crash(_ node: String) throws {
        let list = try Command.run(["ip", "netns", "pids", namespace(node)]).output
        for pid in list.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        _ = daemons[node]?.waitForExit(timeout: .seconds(5))
        daemons[node] = nil
    }

    /// Stops a node's daemon gracefully (SIGTERM) and waits for it.
    func stop(_ node: String) {
        daemons[node]?.stop(signal: SIGTERM, timeout: .seconds(10))
        daemons[node] = nil
    }

    func log(_ node: String) -> String { daemons[node]?.log ?? "" }

    /// The nodes claiming `address` now: their kernel has it and their daemon runs. (A crashed node keeps the
    /// address on its interface, as it would with keepalived; it is no claim, and its next start removes it.)
    func holders(_ address: String) -> [String] {
        nodes.keys.sorted().filter { daemons[$0]?.isRunning == true && lab.holds(nodes[$0]!, address) }
    }

    /// Waits until exactly `node` holds `address`; returns how long that took.
    func waitForHolder(_ node: String, of address: String, timeout: Duration) -> Duration? {
        Lab.wait(timeout: timeout) { self.holders(address) == [node] }
    }

    /// Watches `address` for `duration`, sampling every 20 ms, and returns the longest time two nodes held it at
    /// once.
    func longestDoubleHolding(_ address: String, for duration: Duration) -> Duration {
        let clock = ContinuousClock()
        let end = clock.now + duration
        var longest = Duration.zero
        var since: ContinuousClock.Instant?
        while clock.now < end {
            let count = holders(address).count
            if count > 1 {
                since = since ?? clock.now
                longest = max(longest, clock.now - since!)
            } else {
                since = nil
            }
            usleep(20_000)
        }
        return longest
    }

    /// Reads a node's Vigil stats dump (SIGUSR2) as `label: value` lines.
    func vigilStats(_ node: String) throws -> [String: Int] {
        let dump = lab.path("\(node)-run/vigil.stats")
        try? FileManager.default.removeItem(atPath: dump)
        let pidText = try String(contentsOfFile: lab.path("\(node)-run/vrrp.pid"), encoding: .utf8)
        guard let pid = Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)) else { return [:] }
        kill(pid, SIGUSR2)
        _ = Lab.wait(timeout: .seconds(5)) { FileManager.default.fileExists(atPath: dump) }
        var stats = [String: Int]()
        var path = [String]()
        for line in try String(contentsOfFile: dump, encoding: .utf8).split(separator: "\n") {
            let level = line.prefix { $0 == " " }.count / 2
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard parts.count == 2 else { continue }
            path = Array(path.prefix(max(0, level - 1)))
            if parts[1].isEmpty {
                path.append(parts[0])
            } else if let value = Int(parts[1]) {
                stats[(path + [parts[0]]).joined(separator: "/")] = value
            }
        }
        return stats
    }

    func close() { lab.close() }
}

/// A keepalived.conf for one instance, written the way users write them.
func vrrpConfig(
    name: String = "VI_1", state: String = "BACKUP", priority: Int, vrid: Int = 50, interval: String = "1",
    version: Int? = nil, password: String? = nil, authType: String = "PASS", addresses: [String] = ["198.51.100.100"],
    nopreempt: Bool = false, unicastSource: String? = nil, peers: [String] = [], extra: String = ""
) -> String {
    var lines = ["global_defs {", "    router_id \(name)-\(priority)", "}", "", "vrrp_instance \(name) {"]
    lines += ["    state \(state)", "    interface eth0", "    virtual_router_id \(vrid)"]
    lines += ["    priority \(priority)", "    advert_int \(interval)"]
    if let version { lines.append("    version \(version)") }
    if nopreempt { lines.append("    nopreempt") }
    if let password {
        lines += ["    authentication {", "        auth_type \(authType)", "        auth_pass \(password)", "    }"]
    }
    if let unicastSource {
        lines.append("    unicast_src_ip \(unicastSource)")
        lines.append("    unicast_peer {")
        lines += peers.map { "        \($0)" }
        lines.append("    }")
    }
    lines.append("    virtual_ipaddress {")
    lines += addresses.map { "        \($0)" }
    lines.append("    }")
    if !extra.isEmpty { lines.append(extra) }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
}

/// Master_Down_Interval for a v2 or v3 router: 3 intervals plus (256 - priority)/256 of one.
func masterDownInterval(interval: Duration, priority: Int) -> Duration {
    interval * 3 + interval * (256 - priority) / 256
}

import Foundation
import NetworkLab

struct FloodResult: Codable {
    var implementation: Implementation
    /// "" for the default configuration, else what was added to global_defs.
    var variant: String = ""
    var packetsPerSecond: Double
    var seconds: Double
    var cpuSeconds: Double
    var adverts: Int
    var worstGapDeviationMs: Double
    var backupBecameMaster: Bool
    /// Daemon processes (of both nodes) that were gone by the end of the flood: killed or crashed.
    var processesLost: Int = 0
}

/// A master and a backup while a third host floods them with adverts (wrong password, priority 254) at `rate`
/// per second: the CPU both daemons spend, and whether the master's adverts keep their 1 s interval.
func measureFlood(
    _ implementation: Implementation, rate: Int, seconds: Int, vigil: String, global: String = ""
) throws -> FloodResult {
    // vigil-flood is built beside vigil-bench.
    let flooder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
        "vigil-flood"
    ).path
    let lab = try BenchLab("flood", nodes: 3, vigil: vigil)
    defer { lab.close() }
    let vip = "198.51.100.100"
    func config(_ priority: Int, _ state: String) -> String {
        BenchConfig.file([
            BenchConfig.instance(
                name: "VI_1", vrid: 50, priority: priority, state: state, interval: "1", version: 2, vip: vip)
        ]).replacingOccurrences(of: "router_id bench\n", with: "router_id bench\n" + (global.isEmpty ? "" : "    \(global)\n"))
    }
    _ = try lab.start(implementation, on: "n1", config: config(150, "MASTER"))
    _ = try lab.start(implementation, on: "n2", config: config(100, "BACKUP"))
    _ = Lab.wait(timeout: .seconds(8)) { lab.holds("n1", vip) }
    sleep(2)
    let capture = try Capture(
        lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "vrrp and src host 198.51.100.1", name: "flood")
    let pids = lab.pids("n1") + lab.pids("n2")
    let before = pids.map(ProcessCost.cpuSeconds).reduce(0, +)
    let start = epochNow()
    let output = try lab.lab.run(
        lab.nodes["n3"]!, [flooder, "eth0", String(rate), String(seconds)]
    ).output
    let end = epochNow()
    let after = pids.map(ProcessCost.cpuSeconds).reduce(0, +)
    let lost = pids.filter { kill($0, 0) != 0 }.count
    capture.stop()
    let sent = Double(output.split(separator: " ").dropFirst().first ?? "0") ?? 0
    let times = try capture.fields(["frame.time_epoch"]).compactMap { Double($0[0]) }.filter {
        $0 >= start && $0 <= end
    }
    let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
    return FloodResult(
        implementation: implementation, variant: global, packetsPerSecond: sent / (end - start), seconds: end - start,
        cpuSeconds: after - before, adverts: times.count,
        worstGapDeviationMs: gaps.map { abs($0 - 1) * 1000 }.max() ?? .nan,
        backupBecameMaster: lab.holds("n2", vip), processesLost: lost)
}

struct LossResult: Codable {
    var implementation: Implementation
    var seconds: Int
    var lossPercent: Int
    var spuriousTakeovers: Int
    var predicted: Double
}

/// A master and a backup at advert_int 1 while the backup's kernel drops `percent` % of the VRRP packets it
/// receives (nftables `numgen random`), for `seconds`: how often the backup takes the VIP although the master
/// never failed, counted from the kernel (`ip monitor address` in the backup's namespace). Vigil and keepalived run
/// at the same time, in two labs, so that they see the same conditions.
func measureLoss(seconds: Int, percent: Int, vigil: String) throws -> [LossResult] {
    let vip = "198.51.100.100"
    var labs = [(Implementation, BenchLab, BackgroundProcess)]()
    defer { for (_, lab, _) in labs { lab.close() } }
    for implementation in Implementation.allCases {
        let lab = try BenchLab("loss", nodes: 2, vigil: vigil)
        func config(_ priority: Int, _ state: String) -> String {
            BenchConfig.file([
                BenchConfig.instance(
                    name: "VI_1", vrid: 50, priority: priority, state: state, interval: "1", version: 2, vip: vip)
            ])
        }
        _ = try lab.start(implementation, on: "n1", config: config(150, "MASTER"))
        _ = try lab.start(implementation, on: "n2", config: config(100, "BACKUP"))
        _ = Lab.wait(timeout: .seconds(8)) { lab.holds("n1", vip) }
        let rules = """
            table inet loss {
                chain input { type filter hook input priority 0; ip protocol 112 numgen random mod 100 < \(percent) drop; }
            }

            """
        try lab.lab.run(lab.nodes["n2"]!, ["nft", "-f", try lab.lab.write("loss.nft", rules)])
        let monitor = try lab.lab.start(lab.nodes["n2"]!, ["ip", "monitor", "address"], log: "n2-monitor")
        labs.append((implementation, lab, monitor))
    }
    sleep(UInt32(seconds))
    // Three consecutive adverts lost make the backup's Master_Down timer (3.61 s) expire before the fourth: a run
    // of three losses starts at a given advert with probability (1 - p) p^3.
    let p = Double(percent) / 100
    let predicted = Double(seconds) * (1 - p) * p * p * p
    return labs.map { implementation, _, monitor in
        let added = monitor.log.split(separator: "\n").filter { !$0.hasPrefix("Deleted") && $0.contains(" \(vip)/") }
        return LossResult(
            implementation: implementation, seconds: seconds, lossPercent: percent, spuriousTakeovers: added.count,
            predicted: predicted)
    }
}

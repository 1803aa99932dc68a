import Foundation
import NetworkLab

struct StressResult: Codable {
    var implementation: Implementation
    /// "" for the default configuration, else what was added to global_defs.
    var variant: String
    var seconds: Int
    var hogs: Int
    /// The VIP added on the backup: it took over although the master never failed.
    var spuriousTakeovers: Int
    /// Adverts the backup sent (it sends only while it believes itself MASTER).
    var backupAdverts: Int
    var masterAdverts: Int
    /// The master's longest silence on the wire, and how many of its gaps exceeded two intervals.
    var longestGapMs: Double
    var gapsOverTwoIntervals: Int
    /// The 1-minute load average at the end (the hogs' doing).
    var loadAverage: Double
}

/// The stretch goal: a master and a backup at VRRPv3 `advert_int 0.01` (Master_Down_Interval 36.1 ms) while
/// `hogs` busy loops (two per CPU, normal priority) keep every CPU full, for `seconds`. Every variant runs at the same
/// time in labs of its own, so that all see the same load: Vigil and keepalived on the same file, and keepalived
/// again with its documented remedy for a busy host, `vrrp_rt_priority`.
func measureStress(seconds: Int, vigil: String) throws -> [StressResult] {
    let vip = "198.51.100.100"
    let variants: [(Implementation, String)] = [(.vigil, ""), (.keepalived, ""), (.keepalived, "vrrp_rt_priority 1")]
    var labs = [(Implementation, String, BenchLab, BackgroundProcess, Capture)]()
    defer { for (_, _, lab, _, _) in labs { lab.close() } }
    for (implementation, global) in variants {
        let lab = try BenchLab("stress", nodes: 2, vigil: vigil)
        func config(_ priority: Int, _ state: String) -> String {
            BenchConfig.file([
                BenchConfig.instance(
                    name: "VI_1", vrid: 50, priority: priority, state: state, interval: "0.01", version: 3, vip: vip)
            ]).replacingOccurrences(
                of: "router_id bench\n", with: "router_id bench\n" + (global.isEmpty ? "" : "    \(global)\n"))
        }
        _ = try lab.start(implementation, on: "n1", config: config(150, "MASTER"))
        _ = try lab.start(implementation, on: "n2", config: config(100, "BACKUP"))
        guard Lab.wait(timeout: .seconds(8), { lab.holds("n1", vip) && !lab.holds("n2", vip) }) != nil else {
            throw CommandError(arguments: ["stress"], reason: "\(implementation) \(global): the master did not settle")
        }
        let monitor = try lab.lab.start(lab.nodes["n2"]!, ["ip", "monitor", "address"], log: "n2-monitor")
        let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "vrrp", name: "stress")
        labs.append((implementation, global, lab, monitor, capture))
    }
    let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    let hogPath = labs[0].2.lab.path("hog.log")
    var hogs = [BackgroundProcess]()
    for _ in 0..<(2 * cpus) {
        hogs.append(try BackgroundProcess(["sh", "-c", "while :; do :; done"], logPath: hogPath))
    }
    let start = epochNow()
    sleep(UInt32(seconds))
    let end = epochNow()
    let load = Double(
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").first ?? "") ?? .nan
    for hog in hogs { hog.stop(signal: SIGKILL) }
    var results = [StressResult]()
    for (implementation, global, _, monitor, capture) in labs {
        capture.stop()
        let rows = try capture.fields(["frame.time_epoch", "ip.src"]).compactMap { row -> (Double, String)? in
            guard row.count == 2, let time = Double(row[0]), time >= start, time <= end else { return nil }
            return (time, row[1])
        }
        let master = rows.filter { $0.1 == "198.51.100.1" }.map(\.0)
        let gaps = zip(master.dropFirst(), master).map { ($0 - $1) * 1000 }
        let added = monitor.log.split(separator: "\n").filter { !$0.hasPrefix("Deleted") && $0.contains(" \(vip)/") }
        results.append(
            StressResult(
                implementation: implementation, variant: global, seconds: seconds, hogs: hogs.count,
                spuriousTakeovers: added.count, backupAdverts: rows.filter { $0.1 == "198.51.100.2" }.count,
                masterAdverts: master.count, longestGapMs: gaps.max() ?? .nan,
                gapsOverTwoIntervals: gaps.filter { $0 > 20 }.count, loadAverage: load))
    }
    return results
}

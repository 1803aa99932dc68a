import Foundation
import NetworkLab

/// One kill -9 of a master and what followed.
struct TakeoverTrial: Codable {
    /// Kill to the VIP present on the backup (its kernel's address event).
    var killToAddress: Double?
    /// Kill to the backup's first gratuitous ARP on the wire.
    var killToAnnouncement: Double?
    /// Old master's last advert to the new master's first, minus Master_Down_Interval.
    var protocolOverhead: Double?
    /// Old master's last advert to the VIP in the backup's kernel, minus Master_Down_Interval: the takeover's part
    /// an implementation controls, without the kill's phase in the master's advert cycle (which moves kill to
    /// VIP by a few milliseconds either way from run to run, whatever the implementation).
    var addressOverhead: Double?
}

struct TakeoverSeries: Codable {
    var implementation: Implementation
    var mode: String
    var interval: Double
    var masterDownInterval: Double
    var trials: [TakeoverTrial]
}

/// Takeover after kill -9: a backup (priority 100) stays up; the master (150) is started, killed, and started
/// again, `trials` times. The wire (tshark on the bridge) and the backup's kernel (`ip -ts monitor`) say when
/// things happened; the kill time is taken just before the signals.
func measureTakeover(
    _ implementation: Implementation, interval: String, version: Int, trials: Int, vigil: String
) throws -> TakeoverSeries {
    let seconds = Double(interval)!
    let lab = try BenchLab("takeover", nodes: 2, vigil: vigil)
    defer { lab.close() }
    let vip = "198.51.100.100"
    let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "vrrp or arp", name: "wire")
    let monitorLog = lab.lab.path("n2-monitor.log")
    let monitor = try BackgroundProcess(
        ["ip", "netns", "exec", lab.nodes["n2"]!, "env", "TZ=UTC", "ip", "-ts", "monitor", "address"],
        logPath: monitorLog)
    defer { monitor.stop(signal: SIGKILL) }
    func config(_ priority: Int, _ state: String) -> String {
        BenchConfig.file([
            BenchConfig.instance(
                name: "VI_1", vrid: 50, priority: priority, state: state, interval: interval, version: version,
                vip: vip)
        ])
    }
    _ = try lab.start(implementation, on: "n2", config: config(100, "BACKUP"))
    var kills = [Double]()
    for trial in 0..<trials {
        _ = try lab.start(implementation, on: "n1", config: config(150, "MASTER"))
        let settled = Lab.wait(timeout: .seconds(Int(seconds * 10) + 8), interval: .milliseconds(5)) {
            lab.holds("n1", vip) && !lab.holds("n2", vip)
        }
        guard settled != nil else {
            log("trial \(trial): the master did not take over; skipped")
            _ = lab.crash("n1")
            continue
        }
        // Kill after a couple of adverts, at a phase of the advert cycle spread evenly over the trials (the same
        // phases for both implementations: a random phase would make the medians differ by chance alone).
        let phase = (Double(trial) + 0.5) / Double(trials)
        usleep(useconds_t((2 * seconds + phase * seconds) * 1e6))
        kills.append(lab.crash("n1"))
        let taken = Lab.wait(timeout: .seconds(Int(seconds * 5) + 3), interval: .milliseconds(2)) {
            lab.holds("n2", vip)
        }
        if taken == nil { log("trial \(trial): the backup did not take over") }
        usleep(useconds_t(seconds * 1.5e6))
    }
    usleep(300_000)
    capture.stop()
    monitor.stop(signal: SIGINT)

    let addressTimes = parseMonitor(monitorLog, address: vip)
    let packets = try capture.fields(
        ["frame.time_epoch", "ip.src", "vrrp.prio", "arp.opcode", "arp.src.proto_ipv4"])
    let adverts = packets.filter { !$0[2].isEmpty }.compactMap { row -> (Double, String, Int)? in
        guard let time = Double(row[0]), let priority = Int(row[2]) else { return nil }
        return (time, row[1], priority)
    }
    let arps = packets.filter { $0[3] == "1" && $0[4] == vip }.compactMap { Double($0[0]) }
    let masterDown = 3 * seconds + (256.0 - 100) / 256 * seconds
    var results = [TakeoverTrial]()
    for (index, kill) in kills.enumerated() {
        let next = index + 1 < kills.count ? kills[index + 1] : .infinity
        var trial = TakeoverTrial()
        trial.killToAddress = addressTimes.first { $0 > kill && $0 < next }.map { $0 - kill }
        // The backup's announcements come after its takeover; the old master's came before the kill.
        trial.killToAnnouncement = arps.first { $0 > kill && $0 < next }.map { $0 - kill }
        // The old master's last advert is the last one before the new master's first, not the last one before
        // the kill's time stamp: that is taken just before the signal, and an advert sent in the microseconds
        // between (the backup's timer restarts on it) made one trial in twenty read a whole interval late.
        let first = adverts.first { $0.0 > kill && $0.0 < next && $0.1 == "198.51.100.2" && $0.2 == 100 }
        let last = first.flatMap { first in adverts.last { $0.0 < first.0 && $0.1 == "198.51.100.1" } }
        if let last, let first { trial.protocolOverhead = (first.0 - last.0) - masterDown }
        if let last, let added = trial.killToAddress.map({ kill + $0 }) {
            trial.addressOverhead = (added - last.0) - masterDown
        }
        results.append(trial)
    }
    return TakeoverSeries(
        implementation: implementation, mode: version == 2 ? "v2 advert_int \(interval)" : "v3 advert_int \(interval)",
        interval: seconds, masterDownInterval: masterDown, trials: results)
}

/// Times (epoch seconds) at which `ip -ts monitor address` saw `address` added.
func parseMonitor(_ path: String, address: String) -> [Double] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").filter { !$0.contains("Deleted") && $0.contains(" \(address)/") }.compactMap {
        parseMonitor(line: $0)
    }
}

/// The time stamp (epoch seconds) of one `ip -ts monitor` line.
func parseMonitor(line: Substring) -> Double? {
    guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return nil }
    let stamp = line[line.index(after: line.startIndex)..<close]
    // 2026-11-30T07:09:34.283581, UTC.
    let parts = stamp.split(separator: ".")
    guard parts.count == 2, let fraction = Double("0." + parts[1]) else { return nil }
    let fields = parts[0].split(whereSeparator: { "-T:".contains($0) }).compactMap { Int32($0) }
    guard fields.count == 6 else { return nil }
    var tm = tm()
    tm.tm_year = fields[0] - 1900
    tm.tm_mon = fields[1] - 1
    tm.tm_mday = fields[2]
    tm.tm_hour = fields[3]
    tm.tm_min = fields[4]
    tm.tm_sec = fields[5]
    return Double(timegm(&tm)) + fraction
}

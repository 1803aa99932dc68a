import Foundation
import NetworkLab

struct JitterResult: Codable {
    var implementation: Implementation
    var load: String
    var interval: Double
    var rounds: Int
    var adverts: Int
    var gapStandardDeviationMs: Double
    var p99DeviationMs: Double
    var worstDeviationMs: Double

    /// The gaps of every round together (rounds alternate between the implementations, so that a disturbance of
    /// the machine falls on both).
    init(_ implementation: Implementation, busy: Bool, interval: Double, rounds: [[Double]]) {
        self.implementation = implementation
        load = busy ? "both cores busy" : "idle"
        self.interval = interval
        self.rounds = rounds.count
        let gaps = rounds.flatMap { $0 }
        adverts = gaps.count + rounds.count
        let deviations = gaps.map { abs($0 - interval) * 1000 }
        gapStandardDeviationMs = gaps.standardDeviation * 1000
        p99DeviationMs = deviations.percentile(99)
        worstDeviationMs = deviations.max() ?? .nan
    }
}

/// Advert timing of a master at advert_int 0.05: the gaps between its adverts on the wire during `seconds`, idle
/// or with both cores busy (CPU hogs in the root namespace).
func measureJitterGaps(_ implementation: Implementation, busy: Bool, seconds: Int, vigil: String) throws -> [Double] {
    let lab = try BenchLab("jitter", nodes: 1, vigil: vigil)
    defer { lab.close() }
    let config = BenchConfig.file([
        BenchConfig.instance(
            name: "VI_1", vrid: 60, priority: 255, state: "MASTER", interval: "0.05", version: 3,
            vip: "198.51.100.100")
    ])
    _ = try lab.start(implementation, on: "n1", config: config)
    _ = Lab.wait(timeout: .seconds(5)) { lab.holds("n1", "198.51.100.100") }
    var hogs = [BackgroundProcess]()
    if busy {
        for index in 0..<2 {
            hogs.append(
                try BackgroundProcess(["sh", "-c", "while :; do :; done"], logPath: lab.lab.path("hog\(index).log")))
        }
    }
    defer { for hog in hogs { hog.stop(signal: SIGKILL) } }
    sleep(1)
    let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "vrrp", name: "jitter")
    sleep(UInt32(seconds))
    capture.stop()
    let times = try capture.fields(["frame.time_epoch"]).compactMap { Double($0[0]) }
    return zip(times.dropFirst(), times).map { $0 - $1 }
}

struct ScaleResult: Codable {
    var implementation: Implementation
    var instances: Int
    var mode: String
    var processes: Int
    /// One value per round (rounds alternate the implementations).
    var cpuSecondsPerMinute: [Double]
    var residentMiB: [Double]
    var proportionalMiB: [Double]
    var windowSeconds: Int
    var mastered: Int
}

/// One round of idle cost: `count` masters started quiet, every VIP up, 3 s to settle, then CPU (every thread's
/// scheduler time, in ns) over `window` seconds and RSS and PSS of every process of the implementation.
func measureScaleRound(
    _ implementation: Implementation, count: Int, interval: String, version: Int, window: Int, vigil: String,
    curve: Bool = false
) throws -> (cpu: Double, resident: Double, proportional: Double, processes: Int, mastered: Int) {
    let interfaces = curve ? (count + 249) / 250 : count > 250 ? 2 : 1
    let lab = try BenchLab(scale: "scale", interfaces: interfaces, vigil: vigil)
    defer { lab.close() }
    let namespace = lab.nodes["n1"]!
    if curve {
        // IPv6 adverts leave from the link-local address: wait until no interface's is tentative any more.
        _ = Lab.wait(timeout: .seconds(10), interval: .milliseconds(100)) {
            let output = (try? Command.run(["ip", "-n", namespace, "-6", "addr", "show", "tentative"]).output) ?? "x"
            return output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
    }
    _ = try lab.start(
        implementation, on: "n1",
        config: curve
            ? BenchConfig.curve(count: count) : BenchConfig.scale(count: count, interval: interval, version: version),
        quiet: true)
    // All masters: every VIP (the IPv4 /32s, the IPv6 /128s) on the interfaces.
    var mastered = 0
    _ = Lab.wait(timeout: .seconds(60), interval: .milliseconds(200)) {
        mastered = (0..<interfaces).flatMap { lab.lab.addresses(namespace, "eth\($0)") }
            .filter { $0.hasSuffix("/32") || ($0.hasPrefix("2001:db8:") && $0.hasSuffix("/128")) }.count
        return mastered >= count
    }
    sleep(3)
    let pids = lab.pids("n1")
    let before = pids.map(ProcessCost.preciseCPUSeconds).reduce(0, +)
    let start = epochNow()
    sleep(UInt32(window))
    let after = pids.map(ProcessCost.preciseCPUSeconds).reduce(0, +)
    let elapsed = epochNow() - start
    let resident = pids.map(ProcessCost.residentKiB).reduce(0, +)
    let proportional = pids.map(ProcessCost.proportionalKiB).reduce(0, +)
    return ((after - before) / elapsed * 60, Double(resident) / 1024, Double(proportional) / 1024, pids.count, mastered)
}

/// Idle cost over `rounds` rounds, the implementations alternating (and which goes first alternating too).
func measureScale(
    count: Int, interval: String, version: Int, window: Int, rounds: Int, vigil: String, curve: Bool = false,
    log: (String) -> Void
) throws -> [ScaleResult] {
    var results = [Implementation: ScaleResult]()
    for round in 1...rounds {
        let order = round % 2 == 1 ? Implementation.allCases : Implementation.allCases.reversed()
        for implementation in order {
            log("scale \(implementation) \(count) x v\(version) \(interval) round \(round)/\(rounds)")
            let one = try measureScaleRound(
                implementation, count: count, interval: interval, version: version, window: window, vigil: vigil,
                curve: curve)
            var result =
                results[implementation]
                ?? ScaleResult(
                    implementation: implementation, instances: count,
                    mode: curve ? "v3 IPv6 advert_int 1" : "v\(version) advert_int \(interval)",
                    processes: one.processes, cpuSecondsPerMinute: [], residentMiB: [], proportionalMiB: [],
                    windowSeconds: window, mastered: one.mastered)
            result.cpuSecondsPerMinute.append(one.cpu)
            result.residentMiB.append(one.resident)
            result.proportionalMiB.append(one.proportional)
            result.mastered = min(result.mastered, one.mastered)
            results[implementation] = result
        }
    }
    return Implementation.allCases.compactMap { results[$0] }
}

struct StartupResult: Codable {
    var implementation: Implementation
    var instances: Int
    /// One value per round; nil where not every instance advertised.
    var firstAdvert: [Double?]
    var allAdverts: [Double?]
    /// Exec to the last of the instances' addresses in the kernel (`ip -ts monitor address`).
    var allAddresses: [Double?] = []
}

/// Start-up: exec to the first advert on the wire, and to every instance's first advert.
func measureStartup(_ implementation: Implementation, count: Int, vigil: String) throws -> StartupResult {
    let lab = try BenchLab(scale: "startup", interfaces: count > 250 ? 2 : 1, vigil: vigil)
    defer { lab.close() }
    let capture = try Capture(
        lab: lab.lab, namespace: lab.nodes["n1"]!, interface: "any", filter: "vrrp", name: "startup")
    let monitorLog = lab.lab.path("startup-monitor.log")
    let monitor = try BackgroundProcess(
        ["ip", "netns", "exec", lab.nodes["n1"]!, "env", "TZ=UTC", "ip", "-ts", "monitor", "address"],
        logPath: monitorLog)
    usleep(200_000)
    let start = epochNow()
    _ = try lab.start(
        implementation, on: "n1", config: BenchConfig.scale(count: count, interval: "1", version: 2), quiet: true)
    sleep(count > 100 ? 6 : 3)
    capture.stop()
    monitor.stop(signal: SIGINT)
    // Every address the configuration gives its instances, each counted once (198.51.100.x and 203.0.113.x /32).
    var addressTimes = [String: Double]()
    for line in ((try? String(contentsOfFile: monitorLog, encoding: .utf8)) ?? "").split(separator: "\n")
    where !line.contains("Deleted") && line.contains("/32 ") {
        guard let slash = line.range(of: "/32 "), let inet = line.range(of: "inet ", options: .backwards, range: line.startIndex..<slash.lowerBound),
            let time = parseMonitor(line: line)
        else { continue }
        let address = String(line[inet.upperBound..<slash.lowerBound])
        if addressTimes[address] == nil { addressTimes[address] = time }
    }
    let addresses = addressTimes.count >= count ? addressTimes.values.max().map { $0 - start } : nil
    let rows = try capture.fields(["frame.time_epoch", "vrrp.virt_rtr_id", "ip.src"])
    var firstByInstance = [String: Double]()
    for row in rows {
        guard let time = Double(row[0]) else { continue }
        let key = "\(row[2])/\(row[1])"
        if firstByInstance[key] == nil { firstByInstance[key] = time }
    }
    let first = firstByInstance.values.min().map { $0 - start }
    let all = firstByInstance.count >= count ? firstByInstance.values.max().map { $0 - start } : nil
    return StartupResult(
        implementation: implementation, instances: count, firstAdvert: [first], allAdverts: [all],
        allAddresses: [addresses])
}

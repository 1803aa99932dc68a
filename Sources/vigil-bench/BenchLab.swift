import Foundation
import NetworkLab

/// What is being measured: Vigil (the release binary) or Debian's keepalived.
enum Implementation: String, CaseIterable, Codable, CustomStringConvertible {
    case vigil, keepalived
    var description: String { rawValue }
}

/// Wall-clock seconds since the epoch: tshark, `ip -ts monitor` and our kills share this clock.
func epochNow() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func log(_ text: String) {
    FileHandle.standardError.write(Data("[bench] \(text)\n".utf8))
}

/// A lab of one hub bridge and nodes, running either implementation.
final class BenchLab {
    let lab: Lab
    let hub: String
    var nodes: [String: String] = [:]
    var daemons: [String: BackgroundProcess] = [:]
    let vigil: String

    init(_ name: String, nodes count: Int, vigil: String) throws {
        self.vigil = vigil
        lab = try Lab(name)
        hub = try lab.namespace("hub")
        try lab.bridge("br0", in: hub)
        for index in 1...count {
            let namespace = try lab.namespace("n\(index)")
            try lab.connect(namespace, to: "br0", in: hub, port: "p\(index)", addresses: ["198.51.100.\(index)/24"])
            nodes["n\(index)"] = namespace
        }
    }

    /// A node with `interfaces` veth interfaces whose peers sit unbridged in the hub (for scale runs).
    init(scale name: String, interfaces: Int, vigil: String) throws {
        self.vigil = vigil
        lab = try Lab(name)
        hub = try lab.namespace("hub")
        let namespace = try lab.namespace("n1")
        nodes["n1"] = namespace
        for index in 0..<interfaces {
            try lab.veth("eth\(index)", in: namespace, peer: "q\(index)", in: hub)
            let subnet = index == 0 ? "198.51.100.1/24" : index == 1 ? "203.0.113.1/24" : "198.51.100.\(200 + index)/32"
            try Command.run(["ip", "-n", namespace, "addr", "add", subnet, "dev", "eth\(index)"])
        }
    }

    /// Starts `implementation` on `node`. With `quiet`, neither logs anywhere (`-G`, no `-l`): the idle-cost runs
    /// measure the daemons, not their logging.
    func start(_ implementation: Implementation, on node: String, config: String, quiet: Bool = false) throws
        -> BackgroundProcess
    {
        let logging = quiet ? ["-G"] : ["-l"]
        let path = try lab.write("\(node)-\(implementation).conf", config)
        let namespace = nodes[node]!
        let process: BackgroundProcess
        switch implementation {
        case .vigil:
            let runtime = lab.path("\(node)-run")
            mkdir(runtime, 0o700)
            process = try lab.start(
                namespace, [vigil, "-n"] + logging + ["-f", path, "--runtime-dir", runtime], log: "\(node)-vigil")
        case .keepalived:
            process = try lab.start(
                namespace,
                ["keepalived", "-n"] + logging + [
                    "-P", "-f", path, "-p", lab.path("\(node)-k.pid"), "-r",
                    lab.path("\(node)-v.pid"), "-c", lab.path("\(node)-c.pid"),
                ], log: "\(node)-keepalived")
        }
        daemons[node] = process
        return process
    }

    /// kill -9 everything in a node: the master dies without a word.
    func crash(_ node: String) -> Double {
        let pids = ((try? Command.run(["ip", "netns", "pids", nodes[node]!]).output) ?? "")
            .split(separator: "\n").compactMap { Int32($0) }
        let when = epochNow()
        for pid in pids { kill(pid, SIGKILL) }
        _ = daemons[node]?.waitForExit(timeout: .seconds(3))
        daemons[node] = nil
        // A crashed machine comes back with an empty /run: no pid files (keepalived refuses to start over them).
        for file in [
            "\(node)-k.pid", "\(node)-v.pid", "\(node)-c.pid", "\(node)-run/vigil.pid", "\(node)-run/vrrp.pid",
        ] {
            unlink(lab.path(file))
        }
        return when
    }

    func holds(_ node: String, _ address: String) -> Bool { lab.holds(nodes[node]!, address) }

    /// The processes running in a node.
    func pids(_ node: String) -> [Int32] {
        ((try? Command.run(["ip", "netns", "pids", nodes[node]!]).output) ?? "").split(separator: "\n").compactMap {
            Int32($0)
        }
    }

    func close() { lab.close() }
}

/// CPU time (user + system) and resident memory of processes, from /proc.
struct ProcessCost {
    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Seconds of CPU used so far by every thread of `pid`, from the scheduler's nanosecond accounting
    /// (/proc/PID/task/TID/schedstat): clock ticks (10 ms) are too coarse for a daemon that sleeps.
    static func preciseCPUSeconds(_ pid: Int32) -> Double {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var nanoseconds = 0.0
        for task in tasks {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8),
                let first = text.split(separator: " ").first, let value = Double(first)
            else { continue }
            nanoseconds += value
        }
        return nanoseconds / 1e9
    }

    /// Seconds of CPU used so far by `pid` (utime + stime).
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / ticksPerSecond
    }

    /// Proportional set size of `pid` in KiB: shared pages split among the processes sharing them.
    static func proportionalKiB(_ pid: Int32) -> Int {
        guard let rollup = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else { return 0 }
        for line in rollup.split(separator: "\n") where line.hasPrefix("Pss:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    /// Resident set size of `pid` in KiB.
    static func residentKiB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}

extension Array where Element == Double {
    var sortedValues: [Double] { sorted() }
    func percentile(_ p: Double) -> Double {
        guard !isEmpty else { return .nan }
        let sorted = self.sorted()
        let rank = Swift.max(0, Swift.min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[rank]
    }
    var median: Double {
        guard !isEmpty else { return .nan }
        let sorted = self.sorted()
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
    var mean: Double { isEmpty ? .nan : reduce(0, +) / Double(count) }
    var standardDeviation: Double {
        guard count > 1 else { return 0 }
        let m = mean
        return (map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(count - 1)).squareRoot()
    }
}

import Foundation
import NetworkLab

/// One change of a tracked file or process, and when its new priority reached the wire.
struct TrackingResult: Codable {
    var implementation: Implementation
    /// "file written", "process exited", "process started".
    var change: String
    /// Seconds from the change to the first advert carrying the new priority; nil when none came.
    var latencies: [Double?]
}

/// Time from a tracked file's write (and close) or a tracked process's exit to the master's priority-0 advert on
/// the wire: the trackers have weight 0, so the change puts the master in FAULT and it resigns at once, whatever the
/// phase of its advert cycle (a weighted change waits for the next advert: both implementations then show only
/// that wait). Both daemons are started in the host's network namespace with `net_namespace` (keepalived's way of
/// getting the kernel's process events, which reach only that namespace), so each uses what it has: inotify and
/// process events. After each change the tracker is restored and the master takes over again.
func measureTracking(_ implementation: Implementation, trials: Int, vigil: String) throws -> [TrackingResult] {
    let lab = try BenchLab("tracking", nodes: 1, vigil: vigil)
    defer { lab.close() }
    let namespace = lab.nodes["n1"]!
    let file = lab.lab.path("tracked-value")
    try "0\n".write(toFile: file, atomically: false, encoding: .utf8)
    let name = "vgbench\(getpid() % 10000)"
    let program = lab.lab.path(name)
    try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: program)
    var tracked: BackgroundProcess? = try BackgroundProcess([program, "3600"], logPath: lab.lab.path("tracked.log"))
    defer { tracked?.stop(signal: SIGKILL, timeout: .seconds(5)) }
    let config =
        "net_namespace \(namespace)\n"
        + "track_file value {\n    file \(file)\n    weight 0\n}\n"
        + "vrrp_track_process service {\n    process \(name)\n    weight 0\n}\n"
        + BenchConfig.file([
            BenchConfig.instance(
                name: "VI_1", vrid: 50, priority: 150, state: "MASTER", interval: "1", version: 2,
                vip: "198.51.100.100"
            ).replacingOccurrences(
                of: "    virtual_ipaddress {",
                with: "    track_file {\n        value\n    }\n    track_process {\n        service\n    }\n    virtual_ipaddress {")
        ])
    let path = try lab.lab.write("tracking-\(implementation).conf", config)
    let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "vrrp", name: "wire")
    let arguments: [String]
    switch implementation {
    case .vigil:
        let runtime = lab.lab.path("run")
        mkdir(runtime, 0o700)
        arguments = [vigil, "-n", "-l", "-f", path, "--runtime-dir", runtime]
    case .keepalived:
        arguments = [
            "keepalived", "-n", "-l", "-f", path, "-p", lab.lab.path("k.pid"), "-r", lab.lab.path("v.pid"), "-c",
            lab.lab.path("c.pid"),
        ]
    }
    // In the host's namespace until the daemon moves itself (net_namespace).
    let daemon = try BackgroundProcess(arguments, logPath: lab.lab.path("daemon.log"))
    defer { daemon.stop(signal: SIGTERM, timeout: .seconds(10)) }
    var changes = [(kind: String, time: Double)]()
    for kind in ["file written", "process exited"] {
        for trial in 0..<trials {
            guard Lab.wait(timeout: .seconds(10), { lab.holds("n1", "198.51.100.100") }) != nil else {
                log("tracking \(implementation): not master again; trial skipped")
                continue
            }
            // A phase spread over the advert cycle.
            usleep(useconds_t(1_200_000 + trial * 1_000_000 / max(trials, 1)))
            let time = epochNow()
            if kind == "file written" {
                try "1\n".write(toFile: file, atomically: false, encoding: .utf8)
            } else {
                tracked?.stop(signal: SIGKILL, timeout: .seconds(5))
                tracked = nil
            }
            changes.append((kind, time))
            _ = Lab.wait(timeout: .seconds(3)) { !lab.holds("n1", "198.51.100.100") }
            usleep(300_000)
            if kind == "file written" {
                try "0\n".write(toFile: file, atomically: false, encoding: .utf8)
            } else {
                tracked = try BackgroundProcess([program, "3600"], logPath: lab.lab.path("tracked-\(trial).log"))
            }
        }
    }
    sleep(1)
    capture.stop()
    let resignations = try capture.fields(["frame.time_epoch", "vrrp.prio"], filter: "vrrp").compactMap {
        row -> Double? in
        guard let time = Double(row[0]), row[1] == "0" else { return nil }
        return time
    }
    var results = [String: [Double?]]()
    for (index, change) in changes.enumerated() {
        let next = index + 1 < changes.count ? changes[index + 1].time : .infinity
        let seen = resignations.first { $0 > change.time && $0 < next }
        results[change.kind, default: []].append(seen.map { $0 - change.time })
    }
    return ["file written", "process exited"].map {
        TrackingResult(implementation: implementation, change: $0, latencies: results[$0] ?? [])
    }
}

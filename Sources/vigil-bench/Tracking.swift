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

/// Time from a tracked file's write (and close) or a tracked process's exit or start to the master's first advert
/// with the new priority on the wire. Both daemons are started in the host's network namespace with
/// `net_namespace` (keepalived's way of getting the kernel's process events, which reach only that namespace), so
/// each uses the mechanism it has: inotify and process events. Master priority 150, advert_int 1, tracker weight
/// -50; `trials` changes each way, 2.5 s apart.
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
    let config =
        "net_namespace \(namespace)\n"
        + "track_file value {\n    file \(file)\n    weight -1\n}\n"
        + "vrrp_track_process service {\n    process \(name)\n    weight -50\n}\n"
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
    _ = Lab.wait(timeout: .seconds(8)) { lab.holds("n1", "198.51.100.100") }
    sleep(2)
    var changes = [(kind: String, time: Double, priority: Int)]()
    for trial in 0..<trials {
        // A spread of phases against the advert cycle.
        usleep(useconds_t(2_500_000 + (trial % 4) * 250_000))
        let time = epochNow()
        try (trial % 2 == 0 ? "50\n" : "0\n").write(toFile: file, atomically: false, encoding: .utf8)
        changes.append(("file written", time, trial % 2 == 0 ? 100 : 150))
    }
    for trial in 0..<(2 * trials) {
        usleep(useconds_t(2_500_000 + (trial % 4) * 250_000))
        let time = epochNow()
        if let running = tracked {
            running.stop(signal: SIGKILL, timeout: .seconds(5))
            tracked = nil
            changes.append(("process exited", time, 100))
        } else {
            tracked = try BackgroundProcess([program, "3600"], logPath: lab.lab.path("tracked-\(trial).log"))
            changes.append(("process started", time, 150))
        }
    }
    sleep(2)
    tracked?.stop(signal: SIGKILL, timeout: .seconds(5))
    capture.stop()
    let adverts = try capture.fields(["frame.time_epoch", "vrrp.prio"], filter: "vrrp").compactMap {
        row -> (Double, Int)? in
        guard let time = Double(row[0]), let priority = Int(row[1]) else { return nil }
        return (time, priority)
    }
    var results = [String: [Double?]]()
    for (index, change) in changes.enumerated() {
        let next = index + 1 < changes.count ? changes[index + 1].time : .infinity
        let seen = adverts.first { $0.0 > change.time && $0.0 < next && $0.1 == change.priority }
        results[change.kind, default: []].append(seen.map { $0.0 - change.time })
    }
    return ["file written", "process exited", "process started"].map {
        TrackingResult(implementation: implementation, change: $0, latencies: results[$0] ?? [])
    }
}

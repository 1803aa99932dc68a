import Foundation
import NetworkLab

/// BFD detection beside keepalived: one implementation on n1 runs a session with keepalived 2.2.7's BFD process on
/// n2 (the same peer for both, so the peer's own timing is common to both rows); the peer is killed with SIGKILL at a
/// spread of phases, and the wire says how long n1 took: from the peer's last packet to n1's first packet saying
/// Down with "Control Detection Time Expired". Downs while the peer ran are counted as spurious.
struct BFDResult: Codable {
    var implementation: Implementation
    var intervalMs: Double
    var multiplier: Int
    /// Milliseconds per trial; nil when n1 never said Down on the wire.
    var detections: [Double?]
    /// Down packets (diagnostic 1) from n1 while the peer was running.
    var spuriousDowns: Int
    var seconds: Double

    var detectionTimeMs: Double { intervalMs * Double(multiplier) }
}

func measureBFD(
    _ implementation: Implementation, interval: String, multiplier: Int, trials: Int, vigil: String
) throws -> BFDResult {
    let lab = try BenchLab("bfd", nodes: 2, vigil: vigil)
    defer { lab.close() }
    func instance(_ name: String, neighbor: String, source: String) -> String {
        "bfd_instance \(name) {\n    neighbor_ip \(neighbor)\n    source_ip \(source)\n    min_rx \(interval)\n    min_tx \(interval)\n    multiplier \(multiplier)\n}\n"
    }
    let measured = try lab.lab.write("n1.conf", instance("peer", neighbor: "198.51.100.2", source: "198.51.100.1"))
    let peerConfig = try lab.lab.write("n2.conf", instance("measured", neighbor: "198.51.100.1", source: "198.51.100.2"))
    var starts = 0
    func keepalived(_ node: String, _ config: String) throws -> BackgroundProcess {
        starts += 1
        let run = "\(node)-\(starts)"
        return try lab.lab.start(
            lab.nodes[node]!,
            [
                "keepalived", "-n", "-l", "-f", config, "-p", lab.lab.path("\(run)-k.pid"), "-r",
                lab.lab.path("\(run)-v.pid"), "-c", lab.lab.path("\(run)-c.pid"), "-b", lab.lab.path("\(run)-b.pid"),
            ], log: run)
    }
    let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "udp port 3784", name: "bfd")
    let daemon: BackgroundProcess
    switch implementation {
    case .vigil:
        let runtime = lab.lab.path("n1-run")
        mkdir(runtime, 0o700)
        daemon = try lab.lab.start(
            lab.nodes["n1"]!, [vigil, "-n", "-l", "-f", measured, "--runtime-dir", runtime], log: "n1-vigil")
    case .keepalived:
        daemon = try keepalived("n1", measured)
    }
    defer { daemon.stop(signal: SIGTERM, timeout: .seconds(10)) }
    let started = epochNow()
    var kills = [Double]()
    var running = [(from: Double, to: Double)]()
    for trial in 0..<trials {
        let ups = daemon.log.components(separatedBy: "(peer) Entering Up state").count
        let peer = try keepalived("n2", peerConfig)
        let from = epochNow()
        guard Lab.wait(timeout: .seconds(10), { daemon.log.components(separatedBy: "(peer) Entering Up state").count > ups })
            != nil
        else {
            log("bfd \(implementation) \(interval) ms: the session did not come up; trial skipped")
            peer.stop(signal: SIGKILL, timeout: .seconds(3))
            continue
        }
        // Up for a while, then killed at a phase spread over the interval.
        usleep(useconds_t(2_000_000 + trial * 1_000 * Int((Double(interval) ?? 10) * 1000) / max(trials, 1) / 1000))
        let when = epochNow()
        for pid in lab.pids("n2") { kill(pid, SIGKILL) }
        _ = peer.waitForExit(timeout: .seconds(3))
        kills.append(when)
        running.append((from, when))
        usleep(500_000)
    }
    let seconds = epochNow() - started
    usleep(300_000)
    capture.stop()
    let packets = try capture.fields(["frame.time_epoch", "ip.src", "bfd.sta", "bfd.diag"], filter: "bfd").compactMap {
        row -> (time: Double, source: String, state: Int, diag: Int)? in
        func number(_ text: String) -> Int? { text.hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text) }
        guard let time = Double(row[0]), let state = number(row[2]), let diag = number(row[3]) else { return nil }
        return (time, row[1], state, diag)
    }
    var detections = [Double?]()
    for (index, kill) in kills.enumerated() {
        let next = index + 1 < kills.count ? kills[index + 1] : .infinity
        guard
            let down = packets.first(where: {
                $0.time > kill - 0.05 && $0.time < next && $0.source == "198.51.100.1" && $0.state == 1 && $0.diag == 1
            }),
            let last = packets.last(where: { $0.source == "198.51.100.2" && $0.time < down.time })
        else {
            detections.append(nil)
            continue
        }
        detections.append((down.time - last.time) * 1000)
    }
    // A Down with diagnostic 1 that the first packet of an episode says while the peer still runs is spurious;
    // count the episodes (Up → Down transitions), not every Down packet.
    var spurious = 0
    var previous = -1
    for packet in packets where packet.source == "198.51.100.1" {
        defer { previous = packet.state }
        guard packet.state == 1, packet.diag == 1, previous == 3 else { continue }
        if running.contains(where: { packet.time > $0.from && packet.time < $0.to - 0.001 }) { spurious += 1 }
    }
    return BFDResult(
        implementation: implementation, intervalMs: Double(interval) ?? 0, multiplier: multiplier,
        detections: detections, spuriousDowns: spurious, seconds: seconds)
}

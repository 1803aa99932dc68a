import Foundation
import Testing
import VigilTestSupport

/// track_file through inotify and vrrp_track_process through the kernel's process events, on the wire, beside
/// keepalived 2.2.7 with the same files.
@Suite("Event-driven tracking", .serialized, .enabled(if: TestLab.shouldRun))
struct TrackingEventTests {
    /// The priorities n1 advertised, with their times (epoch seconds).
    static func priorities(_ capture: Capture) throws -> [(Double, Int)] {
        try capture.fields(["frame.time_epoch", "vrrp.prio"], filter: "vrrp && ip.src == 198.51.100.1").compactMap {
            guard let time = Double($0[0]), let priority = Int($0[1]) else { return nil }
            return (time, priority)
        }
    }

    @Test("track_file: a value written moves the priority on the wire (weight × value), removing the file counts 0")
    func trackFile() throws {
        let lab = try VRRPLab("trackfile", nodes: 1)
        defer { lab.close() }
        let file = lab.lab.path("tracked-value")
        let config =
            "track_file tracked {\n    file \(file)\n    weight -1\n}\n"
            + vrrpConfig(state: "MASTER", priority: 150, extra: "    track_file {\n        tracked\n    }")
        for daemon in ["vigil", "keepalived"] {
            try "0\n".write(toFile: file, atomically: false, encoding: .utf8)
            let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "vrrp", name: "tf-\(daemon)")
            if daemon == "vigil" {
                try lab.startVigil("n1", config: config)
            } else {
                try lab.startKeepalived("n1", config: config)
            }
            #expect(lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(6)) != nil, "\(daemon)\n\(lab.log("n1"))")
            try "40\n".write(toFile: file, atomically: false, encoding: .utf8)
            sleep(3)
            try FileManager.default.removeItem(atPath: file)
            sleep(3)
            capture.stop()
            lab.stop("n1")
            let seen = try Self.priorities(capture).map(\.1)
            #expect(seen.contains(110), "\(daemon): 150 - 40 on the wire: \(seen)")
            #expect(seen.last == 150, "\(daemon): the file removed counts 0: \(seen)")
        }
    }

    @Test("vrrp_track_process through the kernel's process events (Vigil started in the host's namespace with net_namespace): exit and start move the priority; terminate_delay holds it")
    func trackProcess() throws {
        let lab = try VRRPLab("trackproc", nodes: 1)
        defer { lab.close() }
        let n1 = lab.namespace("n1")
        let name = "vgtrk\(getpid() % 100000)"
        let program = lab.lab.path(name)
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: program)
        let config =
            "net_namespace \(n1)\n"
            + "vrrp_track_process tracked {\n    process \(name)\n    weight -60\n    terminate_delay 2\n}\n"
            + vrrpConfig(state: "MASTER", priority: 150, extra: "    track_process {\n        tracked\n    }")
        let path = try lab.lab.write("trackproc.conf", config)
        let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "vrrp", name: "tp")
        let tracked = try BackgroundProcess([program, "600"], logPath: lab.lab.path("tracked.log"))
        // Started in the host's namespace: the supervisor opens the process events there, then moves into n1.
        let vigil = try BackgroundProcess(
            [try Package.vigilBinary(), "-n", "-l", "-D", "-f", path, "--runtime-dir", lab.lab.path("tp-run")],
            logPath: lab.lab.path("tp-vigil.log"))
        defer { vigil.stop(signal: SIGTERM, timeout: .seconds(10)) }
        #expect(Lab.wait(timeout: .seconds(6)) { lab.lab.holds(n1, "198.51.100.100") } != nil, "\(vigil.log)")
        sleep(2)
        let killed = Date().timeIntervalSince1970
        tracked.stop(signal: SIGKILL, timeout: .seconds(5))
        sleep(4)
        let again = Date().timeIntervalSince1970
        let restarted = try BackgroundProcess([program, "600"], logPath: lab.lab.path("tracked2.log"))
        defer { restarted.stop(signal: SIGKILL, timeout: .seconds(5)) }
        sleep(2)
        capture.stop()
        #expect(!vigil.log.contains("process events are not available"), "\(vigil.log)")
        let seen = try Self.priorities(capture)
        let dropped = seen.first { $0.0 > killed && $0.1 == 90 }?.0
        #expect(dropped != nil, "150 - 60 once the process is gone: \(seen.map(\.1))")
        if let dropped {
            // terminate_delay 2 s, adverts every second: not before 2 s, by 2 s + one interval + slack.
            #expect(dropped - killed >= 1.9 && dropped - killed <= 3.5, "after \(dropped - killed) s")
        }
        let back = seen.first { $0.0 > again && $0.1 == 150 }?.0
        #expect(back != nil && back! - again <= 1.5, "a new process counts at once (exec): \(seen.map(\.1))")
    }
}

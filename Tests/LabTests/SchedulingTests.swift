import Foundation
import Testing
import VigilTestSupport

/// The VRRP loop's scheduling, read from the kernel: real-time by default, keepalived's keywords when given, and
/// never passed on to the scripts it starts.
@Suite("Scheduling of the VRRP loop", .serialized, .enabled(if: TestLab.shouldRun))
struct SchedulingTests {
    /// `chrt -p` of the VRRP process's loop thread (its main thread) and of a script it started.
    func policies(_ globals: String) throws -> (loop: String, script: String) {
        let lab = try VRRPLab("sched", nodes: 1)
        defer { lab.close() }
        let record = lab.lab.path("script-policy")
        let script = try lab.lab.write(
            "policy", "#!/bin/sh\nchrt -p $$ > \(record).tmp && mv \(record).tmp \(record)\n")
        chmod(script, 0o755)
        let config =
            "global_defs {\n\(globals)\n}\nvrrp_script policy {\n    script \"\(script)\"\n    interval 1\n}\n"
            + vrrpConfig(priority: 100, extra: "    track_script {\n        policy\n    }")
        try lab.startVigil("n1", config: config)
        #expect(lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(8)) != nil, "\(lab.log("n1"))")
        #expect(Lab.wait(timeout: .seconds(3)) { FileManager.default.fileExists(atPath: record) } != nil)
        let pid = try String(contentsOfFile: lab.lab.path("n1-run/vrrp.pid"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let loop = try Command.run(["chrt", "-p", pid]).output
        return (loop, (try? String(contentsOfFile: record, encoding: .utf8)) ?? "")
    }

    @Test("By default the loop runs at SCHED_RR 1; the scripts it starts run at normal priority")
    func realtimeByDefault() throws {
        let (loop, script) = try policies("")
        #expect(loop.contains("SCHED_RR") && loop.contains("priority: 1\n"), "\(loop)")
        #expect(script.contains("SCHED_OTHER") && script.contains("priority: 0"), "\(script)")
    }

    @Test("vrrp_rt_priority sets the real-time priority; vigil_no_realtime keeps normal scheduling")
    func keywords() throws {
        let (configured, _) = try policies("    vrrp_rt_priority 20")
        #expect(configured.contains("SCHED_RR") && configured.contains("priority: 20\n"), "\(configured)")
        let (normal, _) = try policies("    vigil_no_realtime")
        #expect(normal.contains("SCHED_OTHER"), "\(normal)")
    }
}

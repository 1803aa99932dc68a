import Foundation
import Testing
import VigilTestSupport

/// Instance options that decide FAULT, each run against Vigil and keepalived 2.2.7 with the same file.
@Suite("Instance options", .serialized, .enabled(if: TestLab.shouldRun))
struct InstanceOptionTests {
    static let vip = "198.51.100.100"

    func start(_ lab: VRRPLab, _ daemon: String, _ config: String) throws {
        if daemon == "vigil" {
            try lab.startVigil("n1", config: config)
        } else {
            try lab.startKeepalived("n1", config: config)
        }
    }

    @Test("unicast_fault_no_peer with no peer: FAULT, never the VIP; without it, multicast")
    func unicastFaultNoPeer() throws {
        let lab = try VRRPLab("nopeer", nodes: 1)
        defer { lab.close() }
        let n1 = lab.namespace("n1")
        for daemon in ["vigil", "keepalived"] {
            for faulting in [true, false] {
                let config = vrrpConfig(
                    state: "MASTER", priority: 255,
                    extra: "    unicast_src_ip 198.51.100.1\n" + (faulting ? "    unicast_fault_no_peer\n" : ""))
                try start(lab, daemon, config)
                let held = Lab.wait(timeout: .seconds(3)) { lab.lab.holds(n1, Self.vip) } != nil
                #expect(held == !faulting, "\(daemon), unicast_fault_no_peer \(faulting)\n\(lab.log("n1"))")
                lab.stop("n1")
            }
        }
    }

    @Test("dont_track_primary: the instance's interface going down does not fault it")
    func dontTrackPrimary() throws {
        let lab = try VRRPLab("primary", nodes: 1)
        defer { lab.close() }
        let n1 = lab.namespace("n1")
        for daemon in ["vigil", "keepalived"] {
            for ignoring in [true, false] {
                let config = vrrpConfig(
                    state: "MASTER", priority: 255, extra: ignoring ? "    dont_track_primary" : "")
                try start(lab, daemon, config)
                #expect(Lab.wait(timeout: .seconds(3)) { lab.lab.holds(n1, Self.vip) } != nil, "\(daemon)\n\(lab.log("n1"))")
                try lab.lab.run(n1, ["ip", "link", "set", "eth0", "down"])
                let lost = Lab.wait(timeout: .seconds(2)) { !lab.lab.holds(n1, Self.vip) } != nil
                #expect(lost == !ignoring, "\(daemon), dont_track_primary \(ignoring)\n\(lab.log("n1"))")
                try lab.lab.run(n1, ["ip", "link", "set", "eth0", "up"])
                lab.stop("n1")
            }
        }
    }

    @Test("net_namespace (and -s): started in another namespace, Vigil runs in the named one; -s wins")
    func networkNamespace() throws {
        let lab = try VRRPLab("netns", nodes: 2)
        defer { lab.close() }
        for useOption in [false, true] {
            let target = lab.namespace(useOption ? "n2" : "n1")
            let written = useOption ? "net_namespace \(lab.namespace("n1"))\n" : "net_namespace \(target)\n"
            let path = try lab.lab.write("netns.conf", written + vrrpConfig(state: "MASTER", priority: 255))
            var arguments = [try Package.vigilBinary(), "-n", "-l", "-f", path, "--runtime-dir", lab.lab.path("netns-run-\(useOption)")]
            if useOption { arguments += ["-s", target] }
            let process = try lab.lab.start(lab.hub, arguments, log: "netns-\(useOption)")
            #expect(
                Lab.wait(timeout: .seconds(3)) { lab.lab.holds(target, Self.vip) } != nil,
                "the VIP is in \(target)\n\(process.log)")
            #expect(!lab.lab.holds(lab.hub, Self.vip, interface: "br0"))
            process.stop(signal: SIGTERM, timeout: .seconds(10))
            #expect(!lab.lab.holds(target, Self.vip), "removed on stop")
        }
    }

    @Test("startup_script runs before the VRRP process (which waits for it, or for its timeout); shutdown_script after it stopped")
    func lifecycleScripts() throws {
        let lab = try VRRPLab("lifecycle", nodes: 1)
        defer { lab.close() }
        let n1 = lab.namespace("n1")
        let marks = lab.lab.path("marks")
        let startup = try lab.lab.write(
            "startup.sh", "#!/bin/sh\necho \"start $(ip -o addr show dev eth0 | grep -c 198.51.100.100)\" >> \(marks)\nsleep $1\n")
        let shutdown = try lab.lab.write(
            "shutdown.sh", "#!/bin/sh\necho \"stop $(ip -o addr show dev eth0 | grep -c 198.51.100.100)\" >> \(marks)\n")
        chmod(startup, 0o755)
        chmod(shutdown, 0o755)
        for (sleep, timeout) in [(1, 10), (100, 1)] {
            try? FileManager.default.removeItem(atPath: marks)
            let global = "    startup_script \"\(startup) \(sleep)\"\n    startup_script_timeout \(timeout)\n    shutdown_script \(shutdown)\n    script_user root\n"
            let config = vrrpConfig(state: "MASTER", priority: 255)
                .replacingOccurrences(of: "global_defs {", with: "global_defs {\n" + global)
            let started = ContinuousClock.now
            try lab.startVigil("n1", config: config)
            #expect(Lab.wait(timeout: .seconds(8)) { lab.lab.holds(n1, Self.vip) } != nil, "\(lab.log("n1"))")
            let waited = ContinuousClock.now - started
            #expect(waited >= .seconds(min(sleep, timeout)), "the VRRP process waited for the script: \(waited)")
            #expect(waited < .seconds(min(sleep, timeout) + 5), "and no longer: \(waited)")
            let process = lab.daemons["n1"]
            lab.stop("n1")
            let log = process?.log ?? ""
            let lines = (try? String(contentsOfFile: marks, encoding: .utf8)) ?? ""
            #expect(lines == "start 0\nstop 0\n", "before the VIP, and after it went:\n\(lines)\n\(log)")
            if timeout == 1 { #expect(log.contains("startup script \(startup) timed out"), "\(log)") }
        }
    }

    @Test("notify_deleted: an instance a reload removes runs its script and tells the generic notify DELETED, as keepalived")
    func notifyDeleted() throws {
        let lab = try VRRPLab("deleted", nodes: 1)
        defer { lab.close() }
        let n1 = lab.namespace("n1")
        let marks = lab.lab.path("deleted-marks")
        let script = try lab.lab.write("deleted.sh", "#!/bin/sh\necho \"deleted $*\" >> \(marks)\n")
        let generic = try lab.lab.write("generic.sh", "#!/bin/sh\necho \"notify $*\" >> \(marks)\n")
        chmod(script, 0o755)
        chmod(generic, 0o755)
        let kept = vrrpConfig(name: "VI_2", state: "MASTER", priority: 255, vrid: 52, addresses: ["198.51.100.102"])
            .replacingOccurrences(of: "global_defs {", with: "global_defs {\n    script_user root")
        let removed = vrrpConfig(
            state: "MASTER", priority: 255, extra: "    notify_deleted \(script)\n    notify \(generic)"
        ).replacingOccurrences(of: "global_defs {\n    router_id VI_1-255\n}\n", with: "")
        for daemon in ["vigil", "keepalived"] {
            try? FileManager.default.removeItem(atPath: marks)
            let path = lab.lab.path(daemon == "vigil" ? "n1-vigil.conf" : "n1-keepalived.conf")
            if daemon == "vigil" {
                try lab.startVigil("n1", config: kept + removed)
            } else {
                try lab.startKeepalived("n1", config: kept + removed)
            }
            #expect(Lab.wait(timeout: .seconds(5)) { lab.lab.holds(n1, Self.vip) } != nil, "\(daemon)\n\(lab.log("n1"))")
            sleep(1)
            try kept.write(toFile: path, atomically: true, encoding: .utf8)
            lab.daemons["n1"]?.signal(SIGHUP)
            #expect(Lab.wait(timeout: .seconds(5)) { !lab.lab.holds(n1, Self.vip) } != nil, "\(daemon)")
            sleep(1)
            let lines = ((try? String(contentsOfFile: marks, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            #expect(lines.contains("deleted ") && lines.contains("notify INSTANCE VI_1 DELETED 255"), "\(daemon): \(lines)")
            #expect(!lines.contains { $0.contains("STOP") || $0.contains("FAULT") }, "\(daemon): \(lines)")
            lab.stop("n1")
        }
    }

    @Test("linkbeat_interfaces: the carrier lost on the instance's interface faults it, back it recovers, as keepalived")
    func linkbeat() throws {
        let lab = try VRRPLab("linkbeat", nodes: 1)
        defer { lab.close() }
        let n1 = lab.namespace("n1")
        let config = "linkbeat_interfaces {\n    eth0\n}\n" + vrrpConfig(state: "MASTER", priority: 255)
        for daemon in ["vigil", "keepalived"] {
            try start(lab, daemon, config)
            #expect(Lab.wait(timeout: .seconds(3)) { lab.lab.holds(n1, Self.vip) } != nil, "\(daemon)\n\(lab.log("n1"))")
            // The far end of the cable goes: eth0 stays administratively up, without a carrier.
            try lab.lab.run(lab.hub, ["ip", "link", "set", "p1", "down"])
            #expect(Lab.wait(timeout: .seconds(3)) { !lab.lab.holds(n1, Self.vip) } != nil, "\(daemon): FAULT")
            try lab.lab.run(lab.hub, ["ip", "link", "set", "p1", "up"])
            #expect(Lab.wait(timeout: .seconds(5)) { lab.lab.holds(n1, Self.vip) } != nil, "\(daemon): back")
            lab.stop("n1")
        }
    }
}

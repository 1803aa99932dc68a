import Foundation
import Testing
import VigilTestSupport

/// Running Vigil: reload without losing a VIP, `vigil status`, Prometheus metrics, systemd's notify protocol.
@Suite("Operations: reload, status, metrics, systemd", .serialized, .enabled(if: TestLab.shouldRun))
struct OperationsTests {
    static let kept = "198.51.100.100"
    static let removed = "198.51.100.101"
    static let added = "198.51.100.102"

    /// Two instances before the reload: VI_1 (kept, with a VIP that stays and one that goes) and VI_2 (removed).
    static func before(priority: Int) -> String {
        vrrpConfig(name: "VI_1", state: "MASTER", priority: priority, addresses: [kept, removed])
            + vrrpConfig(name: "VI_2", state: "MASTER", priority: priority, vrid: 52, addresses: ["198.51.100.110"])
            .replacingOccurrences(of: "global_defs {\n    router_id VI_2-\(priority)\n}\n", with: "")
    }

    /// After: VI_1 with another priority and one VIP swapped for another; VI_2 gone; VI_3 new.
    static func after(priority: Int) -> String {
        vrrpConfig(name: "VI_1", state: "MASTER", priority: priority - 10, addresses: [kept, added])
            + vrrpConfig(name: "VI_3", state: "MASTER", priority: priority, vrid: 53, addresses: ["198.51.100.120"])
            .replacingOccurrences(of: "global_defs {\n    router_id VI_3-\(priority)\n}\n", with: "")
    }

    /// What `ip monitor address` saw for an address: "+" for each addition, "-" for each removal.
    static func monitorEvents(_ log: String, _ address: String) -> [String] {
        log.split(separator: "\n").filter { $0.contains(" \(address)/") }.map { $0.hasPrefix("Deleted") ? "-" : "+" }
    }

    /// Runs the reload sequence against one implementation and returns what the wire and the kernel saw.
    func reloadSequence(
        keepalived: Bool
    ) throws -> (
        monitor: String, adverts: [[String]], log: String, reloadedAt: Double, holdsAfter: [String: Bool]
    ) {
        let lab = try VRRPLab(keepalived ? "reload-ka" : "reload", nodes: 1)
        defer { lab.close() }
        let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "vrrp", name: "wire")
        let monitor = try lab.lab.start(lab.namespace("n1"), ["ip", "monitor", "address"], log: "monitor")
        let configPath = lab.lab.path(keepalived ? "n1-keepalived.conf" : "n1-vigil.conf")
        if keepalived {
            try lab.startKeepalived("n1", config: Self.before(priority: 200))
        } else {
            try lab.startVigil("n1", config: Self.before(priority: 200))
        }
        _ = Lab.wait(timeout: .seconds(8)) { lab.lab.holds(lab.namespace("n1"), Self.removed) }
        sleep(2)
        try Self.after(priority: 200).write(toFile: configPath, atomically: true, encoding: .utf8)
        let reloadedAt = Date().timeIntervalSince1970
        lab.daemons["n1"]?.signal(SIGHUP)
        sleep(5)
        capture.stop()
        let n1 = lab.namespace("n1")
        let holds = [Self.kept, Self.removed, Self.added, "198.51.100.110", "198.51.100.120"].reduce(
            into: [String: Bool]()
        ) { $0[$1] = lab.lab.holds(n1, $1) }
        let adverts = try capture.fields(["frame.time_epoch", "vrrp.virt_rtr_id", "vrrp.prio"], filter: "vrrp")
        return (monitor.log, adverts, lab.log("n1"), reloadedAt, holds)
    }

    @Test("reload with the VIP held: the kept VIP never leaves, no advert is late, the removed instance resigns")
    func reloadKeepsVIPs() throws {
        let result = try reloadSequence(keepalived: false)
        // The kernel saw the kept VIP added once (at start-up) and never removed.
        #expect(Self.monitorEvents(result.monitor, Self.kept) == ["+"], "\(result.monitor)")
        #expect(Self.monitorEvents(result.monitor, Self.removed) == ["+", "-"], "\(result.monitor)")
        #expect(Self.monitorEvents(result.monitor, Self.added) == ["+"], "\(result.monitor)")
        #expect(
            result.holdsAfter == [
                Self.kept: true, Self.removed: false, Self.added: true, "198.51.100.110": false, "198.51.100.120": true,
            ])
        // VI_1's adverts (VRID 50) kept their 1 s interval through the reload, and carry the new priority.
        let vi1 = result.adverts.filter { $0[1] == "50" }.compactMap { Double($0[0]) }
        let gaps = zip(vi1.dropFirst(), vi1).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 < 1.1 }, "VI_1 advert gaps: \(gaps)")
        #expect(result.adverts.filter { $0[1] == "50" }.last?[2] == "190")
        // VI_2 (VRID 52) resigned with priority 0; VI_3 (VRID 53) advertises.
        #expect(result.adverts.contains { $0[1] == "52" && $0[2] == "0" }, "VI_2 sent priority 0")
        #expect(result.adverts.contains { $0[1] == "53" })
        #expect(result.log.contains("Reloaded: 1 instance kept, 1 added, 1 removed"), "\(result.log)")
    }

    @Test("the same reload against keepalived 2.2.7, for comparison (recorded, not judged)")
    func reloadKeepalived() throws {
        guard Command.exists("keepalived") else {
            Issue.record("keepalived is needed; scripts/test installs it")
            return
        }
        let result = try reloadSequence(keepalived: true)
        let vi1 = result.adverts.filter { $0[1] == "50" }.compactMap { Double($0[0]) }
        let gaps = zip(vi1.dropFirst(), vi1).map { $0 - $1 }
        print(
            "keepalived reload: kept VIP events \(Self.monitorEvents(result.monitor, Self.kept)), removed \(Self.monitorEvents(result.monitor, Self.removed)), added \(Self.monitorEvents(result.monitor, Self.added)); longest VI_1 advert gap \(gaps.max() ?? 0) s; VI_2 priority 0 sent: \(result.adverts.contains { $0[1] == "52" && $0[2] == "0" })"
        )
        #expect(result.holdsAfter[Self.kept] == true)
    }

    @Test("a reload with a broken file changes nothing and logs the diagnostics")
    func brokenReload() throws {
        let lab = try VRRPLab("badreload", nodes: 1)
        defer { lab.close() }
        try lab.startVigil("n1", config: Self.before(priority: 200))
        #expect(Lab.wait(timeout: .seconds(8)) { lab.lab.holds(lab.namespace("n1"), Self.removed) } != nil)
        try "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 300\n".write(
            toFile: lab.lab.path("n1-vigil.conf"), atomically: true, encoding: .utf8)
        lab.daemons["n1"]?.signal(SIGHUP)
        #expect(
            Lab.wait(timeout: .seconds(3)) { lab.log("n1").contains("Reload refused") } != nil, "\(lab.log("n1"))")
        #expect(lab.log("n1").contains("n1-vigil.conf:3"), "the diagnostics name the place\n\(lab.log("n1"))")
        sleep(2)
        #expect(lab.lab.holds(lab.namespace("n1"), Self.kept) && lab.lab.holds(lab.namespace("n1"), Self.removed))
        #expect(lab.daemons["n1"]?.isRunning == true)
    }

    func status(_ lab: VRRPLab, json: Bool = false) throws -> String {
        try Command.run(
            [try Package.vigilBinary(), "status", "--runtime-dir", lab.lab.path("n1-run")] + (json ? ["--json"] : [])
        ).output
    }

    @Test("vigil status and --json follow every state change within an advert interval; the JSON fits its schema")
    func statusFollowsState() throws {
        let lab = try VRRPLab("status", nodes: 2)
        defer { lab.close() }
        try lab.startVigil("n1", config: vrrpConfig(priority: 100))
        #expect(Lab.wait(timeout: .seconds(2)) { (try? status(lab))?.contains("BACKUP") == true } != nil)
        let table = try status(lab)
        #expect(table.hasPrefix("INSTANCE"), "\(table)")
        #expect(table.contains("VI_1") && table.contains("eth0") && table.contains("100/100"), "\(table)")
        // It becomes master; status says so within one advert interval of the kernel holding the VIP.
        #expect(lab.waitForHolder("n1", of: Self.kept, timeout: .seconds(8)) != nil)
        #expect(
            Lab.wait(timeout: .seconds(1)) { (try? status(lab, json: true))?.contains("\"state\":\"MASTER\"") == true }
                != nil)
        // A better router arrives: BACKUP, and the master's address, within an interval of the VIP leaving.
        try lab.startVigil("n2", config: vrrpConfig(priority: 150))
        #expect(lab.waitForHolder("n2", of: Self.kept, timeout: .seconds(8)) != nil)
        #expect(
            Lab.wait(timeout: .seconds(1)) {
                let json = (try? status(lab, json: true)) ?? ""
                return json.contains("\"state\":\"BACKUP\"") && json.contains("\"master\":\"198.51.100.2\"")
            } != nil, "\((try? status(lab, json: true)) ?? "")")
        let json = try status(lab, json: true)
        let schema = "\(Package.root)/docs/status.schema.json"
        let check = try Command.run(
            [
                "/usr/bin/python3", "-c",
                "import json, sys, jsonschema; jsonschema.validate(json.loads(sys.argv[1]), json.load(open(sys.argv[2])))",
                json, schema,
            ], check: false)
        #expect(check.status == 0, "\(check.error)\n\(json)")
    }

    @Test("vigil status for monitoring: recent transitions with reasons, exit 2 in FAULT, a control group that reads but cannot reload")
    func statusForMonitoring() throws {
        let lab = try VRRPLab("statmon", nodes: 2)
        defer { lab.close() }
        // A runtime directory others can reach up to: /tmp/vigil-ctl-XXXXXX (0755)/run (Vigil's, 0710 root:adm).
        let parent = try Command.run(["mktemp", "-d", "/tmp/vigil-ctl-XXXXXX"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        chmod(parent, 0o755)
        let runtime = "\(parent)/run"
        try lab.startVigil("n1", config: vrrpConfig(priority: 100), arguments: ["--runtime-dir", runtime, "--control-group=adm"])
        func status(_ arguments: [String] = [], as user: Bool = false) throws -> CommandResult {
            let command = [try Package.vigilBinary(), "status", "--runtime-dir", runtime] + arguments
            let nobody = ["setpriv", "--reuid=65534", "--regid=4", "--clear-groups"]  // nobody, group adm
            return try Command.run((user ? nobody : []) + command, check: false)
        }
        #expect(lab.waitForHolder("n1", of: Self.kept, timeout: .seconds(8)) != nil)
        try lab.startVigil("n2", config: vrrpConfig(priority: 150))
        #expect(lab.waitForHolder("n2", of: Self.kept, timeout: .seconds(8)) != nil)
        #expect(Lab.wait(timeout: .seconds(2)) { (try? status())?.output.contains("MASTER -> BACKUP") == true } != nil)
        let table = try status()
        #expect(table.status == 0, "\(table)")
        #expect(table.output.contains("Recent transitions:") && table.output.contains("BACKUP -> MASTER"), "\(table.output)")
        let json = try status(["--json"]).output
        #expect(json.contains(#""history":[{"#) && json.contains(#""from":"MASTER","to":"BACKUP""#), "\(json)")
        // A member of the control group (here nobody with group adm) reads the status, and may not reload.
        let asMember = try status(as: true)
        #expect(asMember.status == 0 && asMember.output.contains("VI_1"), "\(asMember)")
        let reload = try Command.run(
            ["setpriv", "--reuid=65534", "--regid=4", "--clear-groups", try Package.vigilBinary(), "reload", "--runtime-dir", runtime],
            check: false)
        #expect(reload.status != 0 && (reload.output + reload.error).contains("only root"), "\(reload)")
        #expect(!lab.log("n1").contains("Reloading the configuration"), "the member's reload did nothing")
        let outsider = try Command.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", try Package.vigilBinary(), "status", "--runtime-dir", runtime],
            check: false)
        #expect(outsider.status == 1, "outside the group: no access: \(outsider)")
        // The link goes: FAULT, and `vigil status` exits 2 for monitoring scripts.
        try lab.lab.run(lab.namespace("n1"), ["ip", "link", "set", "eth0", "down"])
        #expect(Lab.wait(timeout: .seconds(3)) { (try? status())?.status == 2 } != nil, "\((try? status())?.output ?? "")")
        #expect(try status().output.contains("FAULT"))
    }

    @Test("metrics pass promtool, carry the community exporter's names and labels, and move with packets and transitions")
    func metrics() throws {
        let lab = try VRRPLab("metrics", nodes: 2)
        defer { lab.close() }
        try lab.startVigil("n1", config: vrrpConfig(priority: 100), arguments: ["--metrics", "127.0.0.1:9650"])
        try lab.startVigil("n2", config: vrrpConfig(priority: 150))
        #expect(lab.waitForHolder("n2", of: Self.kept, timeout: .seconds(8)) != nil)
        let parser = """
            import sys, urllib.request
            from prometheus_client.parser import text_string_to_metric_families
            text = urllib.request.urlopen("http://127.0.0.1:9650/metrics").read().decode()
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                    print(f"{sample.name}|{labels}|{sample.value}")
            """
        func scrape() throws -> [String: Double] {
            let output = try lab.lab.run(lab.namespace("n1"), ["/usr/bin/python3", "-c", parser]).output
            var values = [String: Double]()
            for line in output.split(separator: "\n") {
                let parts = line.split(separator: "|", omittingEmptySubsequences: false)
                if parts.count == 3, let value = Double(parts[2]) { values["\(parts[0]){\(parts[1])}"] = value }
            }
            return values
        }
        let labels = "{iname=VI_1,intf=eth0,vrid=50}"
        // keepalived_vrrp_state is per virtual address, as mehdy/keepalived-exporter exports it.
        let stateLabels = "{iname=VI_1,intf=eth0,ip_address=\(Self.kept),vrid=50}"
        let first = try scrape()
        #expect(first["keepalived_up{}"] == 1)
        #expect(first["keepalived_vrrp_state\(stateLabels)"] == 1, "BACKUP: \(first)")
        #expect(first["keepalived_gratuitous_arp_delay_total\(labels)"] == 5, "garp_master_delay's default: \(first)")
        // Prometheus's own linter on the page as served.
        let page = try lab.lab.run(
            lab.namespace("n1"), ["/usr/bin/python3", "-c", "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9650/metrics').read().decode(), end='')"]
        ).output
        let lint = try Command.run(["promtool", "check", "metrics"], check: false, input: page)
        #expect(lint.status == 0, "promtool check metrics: \(lint)\n\(page)")
        sleep(3)
        let second = try scrape()
        #expect(
            (second["keepalived_advertisements_received_total\(labels)"] ?? 0)
                > (first["keepalived_advertisements_received_total\(labels)"] ?? 0))
        // n2 leaves: n1 takes over, and the transition counters say so.
        lab.stop("n2")
        #expect(lab.waitForHolder("n1", of: Self.kept, timeout: .seconds(5)) != nil)
        let third = try scrape()
        #expect(third["keepalived_vrrp_state\(stateLabels)"] == 2)
        #expect(third["keepalived_become_master_total\(labels)"] == 1)
        #expect(third["keepalived_priority_zero_received_total\(labels)"] == 1)
    }

    @Test("systemd's notify protocol: READY=1 after start-up, RELOADING=1 then READY=1 around a reload")
    func systemdNotify() throws {
        let lab = try VRRPLab("notify", nodes: 1)
        defer { lab.close() }
        // A stand-in for systemd: a datagram socket that records what arrives.
        let socketPath = lab.lab.path("notify.sock")
        let received = lab.lab.path("notify.log")
        let listener = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind(sys.argv[1])
            with open(sys.argv[2], "a") as out:
                while True:
                    out.write(s.recv(4096).decode().replace("\\n", " ") + "\\n")
                    out.flush()
            """
        _ = try lab.lab.start(
            lab.namespace("n1"), ["/usr/bin/python3", "-c", listener, socketPath, received], log: "sd")
        #expect(Lab.wait(timeout: .seconds(5)) { FileManager.default.fileExists(atPath: socketPath) } != nil)
        setenv("NOTIFY_SOCKET", socketPath, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        try lab.startVigil("n1", config: vrrpConfig(state: "MASTER", priority: 255))
        func lines() -> [String] {
            ((try? String(contentsOfFile: received, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        #expect(Lab.wait(timeout: .seconds(5)) { lines().contains { $0.hasPrefix("READY=1") } } != nil, "\(lines())")
        lab.daemons["n1"]?.signal(SIGHUP)
        #expect(Lab.wait(timeout: .seconds(5)) { lines().filter { $0.hasPrefix("READY=1") }.count == 2 } != nil)
        let order = lines().compactMap { line -> String? in
            line.hasPrefix("READY=1") ? "READY" : line.hasPrefix("RELOADING=1") ? "RELOADING" : nil
        }
        #expect(order == ["READY", "RELOADING", "READY"], "\(lines())")
        #expect(lines().contains { $0.contains("STATUS=1 instance: 1 MASTER") }, "\(lines())")
    }

    /// systemd's watchdog as systemd sets it up: NOTIFY_SOCKET, WATCHDOG_USEC=2 s and WATCHDOG_PID = the main
    /// process (the shell's pid, which `exec` hands to Vigil's supervisor). The supervisor must ping at least every
    /// half interval (sd_watchdog_enabled's advice; systemd's own limit is the whole interval), whatever the file
    /// runs, and stop pinging while a child's loop is stuck.
    @Test("the watchdog is fed every half interval for VRRP-only, checker-only and mixed files, and not while a loop is stuck")
    func watchdog() throws {
        let lab = try VRRPLab("watchdog", nodes: 1)
        defer { lab.close() }
        let n1 = lab.namespace("n1")
        let listener = """
            import socket, sys, time
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind(sys.argv[1])
            with open(sys.argv[2], "a") as out:
                while True:
                    text = s.recv(4096).decode().replace("\\n", " ")
                    out.write("%.3f %s\\n" % (time.monotonic(), text))
                    out.flush()
            """
        let virtualServer = """
            virtual_server 203.0.113.50 80 {
                delay_loop 1
                lb_algo rr
                real_server 198.51.100.9 80 {
                    TCP_CHECK {
                        connect_timeout 1
                    }
                }
            }

            """
        let files: [(String, String)] = [
            ("vrrp", vrrpConfig(state: "MASTER", priority: 255)),
            ("checker", virtualServer),
            ("mixed", vrrpConfig(state: "MASTER", priority: 255) + virtualServer),
        ]
        for (kind, config) in files {
            let socketPath = lab.lab.path("\(kind)-notify.sock")
            let received = lab.lab.path("\(kind)-notify.log")
            _ = try lab.lab.start(n1, ["/usr/bin/python3", "-c", listener, socketPath, received], log: "\(kind)-sd")
            #expect(Lab.wait(timeout: .seconds(5)) { FileManager.default.fileExists(atPath: socketPath) } != nil)
            let path = try lab.lab.write("\(kind).conf", config)
            let runtime = lab.lab.path("\(kind)-run")
            try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
            let command = [
                "export NOTIFY_SOCKET=\(socketPath) WATCHDOG_USEC=2000000 WATCHDOG_PID=$$;",
                "exec \(try Package.vigilBinary()) -n -l -f \(path) --runtime-dir \(runtime)",
            ].joined(separator: " ")
            let vigil = try lab.lab.start(n1, ["sh", "-c", command], log: "\(kind)-vigil")
            func pings() -> [Double] {
                ((try? String(contentsOfFile: received, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                    line in line.contains("WATCHDOG=1") ? Double(line.split(separator: " ")[0]) : nil
                }
            }
            sleep(8)
            let steady = pings()
            #expect(steady.count >= 7, "\(kind): \(steady.count) pings in 8 s\n\(vigil.log)")
            let gaps = zip(steady.dropFirst(), steady).map { $0 - $1 }
            #expect(gaps.allSatisfy { $0 <= 1.25 }, "\(kind): gaps between pings \(gaps)")
            if kind == "mixed" {
                // Freeze the VRRP process's loop: the pings stop within the interval, and say why; they resume.
                let pid = try String(contentsOfFile: "\(runtime)/vrrp.pid", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                kill(Int32(pid)!, SIGSTOP)
                let stopped = Date()
                sleep(4)
                let frozen = pings().filter { $0 > steady.last! }
                kill(Int32(pid)!, SIGCONT)
                let afterStop = frozen.count
                #expect(afterStop <= 3, "pings while the VRRP loop was stopped: \(frozen)")
                #expect(vigil.log.contains("vrrp child process has not reported"), "\(vigil.log)")
                let resumed = Lab.wait(timeout: .seconds(3)) { pings().count > steady.count + afterStop }
                #expect(resumed != nil, "pings resume \(Date().timeIntervalSince(stopped)) s after the stop")
            }
            vigil.stop(signal: SIGTERM, timeout: .seconds(10))
        }
    }
}

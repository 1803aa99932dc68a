import Foundation
import Testing
import VigilTestSupport

/// Tracking, sync groups and notifications against real processes, interfaces, FIFOs and an SMTP server.
///
/// Bounds: a tracker's change is seen within its script's interval (plus its run time); from then on the protocol's
/// bounds of FailoverTests apply (Master_Down_Interval, or Skew_Time after a priority-0 advert), with the same
/// 0.5 s tolerance for the kernel and the scheduler.
@Suite("Tracking, sync groups and notifications", .serialized, .enabled(if: TestLab.shouldRun))
struct TrackingTests {
    static let vip = "198.51.100.100"

    /// Writes an executable script into the lab's directory; returns its path.
    @discardableResult
    func script(_ lab: VRRPLab, _ name: String, _ body: String) throws -> String {
        let path = try lab.lab.write(name, body)
        chmod(path, 0o755)
        return path
    }

    func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The seed's non-preemptive config with its check in the lab: the backup's `vrrp_script check` (given to the
    /// master too), its script path the lab's, a 2 s interval instead of 10 to keep the test short, and its
    /// `track_script` moved into the instance: at the top level, where the seed has it, it has no effect (Vigil
    /// warns, keepalived ignores it).
    func adaptSeed(_ name: String, checkList: String) throws -> String {
        var text = try String(contentsOfFile: "\(Package.root)/examples/seed/\(name).conf", encoding: .utf8)
        let seedScript =
            "vrrp_script check {\n    script \"/server/scripts/check_list\" #检测nginx脚本\n    interval  10 #间隔时间\n}\n"
        let topLevelTrack = "track_script  {\n    check #调用nginx检测脚本\n}\n"
        if !text.contains(seedScript) {
            text = text.replacingOccurrences(of: "vrrp_instance", with: seedScript + topLevelTrack + "vrrp_instance")
        }
        #expect(text.contains(seedScript) && text.contains(topLevelTrack), "the seed changed: \(text)")
        text = text.replacingOccurrences(of: topLevelTrack, with: "")
        text = text.replacingOccurrences(of: "/server/scripts/check_list", with: checkList)
        text = text.replacingOccurrences(of: "interval  10", with: "interval 2\n    timeout 10")
        text = text.replacingOccurrences(
            of: "    state BACKUP", with: "    track_script {\n        check\n    }\n    state BACKUP")
        return text
    }

    @Test(
        "seed, non-preemptive, with check_list: the service dies for good on the master, the script stops Vigil, the VIP moves and stays"
    )
    func seedCheckList() throws {
        let lab = try VRRPLab("checklist", nodes: 2)
        defer { lab.close() }
        var configs = [String: String]()
        for (node, seed) in [("n1", "nopreempt-master"), ("n2", "nopreempt-backup")] {
            // The stand-ins: `svc-nX` (a copy of sleep) for nginx, `start-svc-nX` for `systemctl start nginx`, and
            // Vigil's pid file for `systemctl stop keepalived`. The logic is the seed's, line for line.
            let service = lab.lab.path("svc-\(node)")
            try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: service)
            // The service runs under a shell that waits for it, so that a killed service is collected at once (as
            // init would; a dead but uncollected process still counts for `ps -C`).
            let start = try script(
                lab, "start-svc-\(node)",
                "#!/bin/sh\n[ -x \(service) ] || exit 1\nsh -c '\(service) 1000 & wait' </dev/null >/dev/null 2>&1 &\n")
            let checkList = try script(
                lab, "check_list-\(node)",
                """
                #!/bin/sh
                nginxpid=$(ps -C svc-\(node) --no-header|wc -l)
                if [ $nginxpid -eq 0 ];then
                    \(start)
                    sleep 3
                    nginxpid=$(ps -C svc-\(node) --no-header|wc -l)
                    if [ $nginxpid -eq 0 ];then
                        kill $(cat \(lab.lab.path("\(node)-run/vigil.pid")))
                    fi
                fi

                """)
            try lab.lab.run(lab.namespace(node), [start])
            configs[node] = try adaptSeed(seed, checkList: checkList)
        }
        try lab.startVigil("n1", config: configs["n1"]!)
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: .seconds(8)) != nil, "\(lab.log("n1"))")
        try lab.startVigil("n2", config: configs["n2"]!)
        #expect(lab.longestDoubleHolding(Self.vip, for: .seconds(3)) == .zero)
        #expect(lab.holders(Self.vip) == ["n1"])

        // The service on n1 dies and cannot start again.
        try FileManager.default.removeItem(atPath: lab.lab.path("svc-n1"))
        try Command.run(["pkill", "-x", "svc-n1"])
        // The next run (within 2 s) tries a restart, waits 3 s, and stops Vigil; the backup takes over within
        // Skew_Time of the priority-0 advert.
        let bound = Duration.seconds(2 + 3) + .milliseconds(609 + 1500)
        #expect(lab.waitForHolder("n2", of: Self.vip, timeout: bound) != nil, "\(lab.log("n1"))\n\(lab.log("n2"))")
        #expect(lab.daemons["n1"]?.waitForExit(timeout: .seconds(5)) == 0, "check_list stopped Vigil on n1")
        #expect(!lab.lab.holds(lab.namespace("n1"), Self.vip))

        // The service is repaired and Vigil restarted on n1: non-preemptive, the VIP stays on n2.
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: lab.lab.path("svc-n1"))
        try lab.lab.run(lab.namespace("n1"), [lab.lab.path("start-svc-n1")])
        try lab.startVigil("n1", config: configs["n1"]!)
        let watch = masterDownInterval(interval: .seconds(1), priority: 150) + .seconds(3)
        #expect(lab.longestDoubleHolding(Self.vip, for: watch) < .seconds(1))
        #expect(lab.holders(Self.vip) == ["n2"], "the VIP must stay on n2\n\(lab.log("n1"))")
    }

    @Test(
        "track_script: a negative weight moves the VIP to the backup and back (preemptive); weight 0 puts the master in FAULT"
    )
    func scriptWeights() throws {
        let lab = try VRRPLab("weights", nodes: 2)
        defer { lab.close() }
        let down = lab.lab.path("service-down")
        let broken = lab.lab.path("service-broken")
        let config =
            """
            vrrp_script chk_service {
                script "/usr/bin/test ! -e \(down)"
                interval 1
                weight -60
            }
            vrrp_script chk_essential {
                script "/usr/bin/test ! -e \(broken)"
                interval 1
            }

            """
            + vrrpConfig(
                state: "MASTER", priority: 150,
                extra: "    track_script {\n        chk_service\n        chk_essential weight 0\n    }")
        try lab.startVigil("n1", config: config)
        try lab.startVigil("n2", config: vrrpConfig(priority: 100))
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: .seconds(8)) != nil, "\(lab.log("n1"))")

        // 150 - 60 = 90 < 100: the backup stops hearing a better master and takes over.
        _ = try lab.lab.write("service-down", "")
        let moveOut =
            Duration.seconds(2) + masterDownInterval(interval: .seconds(1), priority: 100) + .milliseconds(500)
        #expect(lab.waitForHolder("n2", of: Self.vip, timeout: moveOut) != nil, "\(lab.log("n1"))\n\(lab.log("n2"))")
        #expect(lab.log("n1").contains("(VI_1) Changing effective priority from 150 to 90"), "\(lab.log("n1"))")

        // The script recovers: 150 again, n1 preempts.
        try FileManager.default.removeItem(atPath: down)
        let moveBack =
            Duration.seconds(2) + masterDownInterval(interval: .seconds(1), priority: 150) + .milliseconds(500)
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: moveBack) != nil, "\(lab.log("n1"))")

        // Weight 0: failure is FAULT, whatever the priority.
        _ = try lab.lab.write("service-broken", "")
        #expect(lab.waitForHolder("n2", of: Self.vip, timeout: moveOut) != nil, "\(lab.log("n1"))")
        #expect(
            Lab.wait(timeout: .seconds(2)) { lab.log("n1").contains("(VI_1) Entering FAULT STATE") } != nil,
            "\(lab.log("n1"))")
        #expect(!lab.lab.holds(lab.namespace("n1"), Self.vip))
    }

    @Test("vrrp_sync_group: two instances on two interfaces; one interface failing moves both")
    func syncGroup() throws {
        let lab = try VRRPLab("sync", nodes: 2)
        defer { lab.close() }
        try lab.lab.bridge("br1", in: lab.hub)
        for index in 1...2 {
            try lab.lab.connect(
                lab.namespace("n\(index)"), interface: "eth1", to: "br1", in: lab.hub, port: "q\(index)",
                addresses: ["203.0.113.\(index)/24"])
        }
        let vip2 = "203.0.113.100"
        func config(priority: Int) -> String {
            """
            vrrp_sync_group G1 {
                group {
                    VI_1
                    VI_2
                }
            }

            """
                + vrrpConfig(name: "VI_1", priority: priority)
                + vrrpConfig(name: "VI_2", priority: priority, vrid: 51, addresses: [vip2])
                .replacingOccurrences(of: "interface eth0", with: "interface eth1")
                .replacingOccurrences(of: "global_defs {\n    router_id VI_2-\(priority)\n}\n", with: "")
        }
        func holders2() -> [String] {
            ["n1", "n2"].filter {
                lab.daemons[$0]?.isRunning == true && lab.lab.holds(lab.namespace($0), vip2, interface: "eth1")
            }
        }
        try lab.startVigil("n1", config: config(priority: 150))
        try lab.startVigil("n2", config: config(priority: 100))
        let startup = masterDownInterval(interval: .seconds(1), priority: 150) + .seconds(3)
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: startup) != nil, "\(lab.log("n1"))")
        #expect(Lab.wait(timeout: .seconds(2)) { holders2() == ["n1"] } != nil, "\(lab.log("n1"))")

        // eth1 fails on n1: VI_2 goes FAULT and takes VI_1 with it.
        try lab.lab.run(lab.namespace("n1"), ["ip", "link", "set", "eth1", "down"])
        let bound = masterDownInterval(interval: .seconds(1), priority: 100) + .milliseconds(500)
        #expect(lab.waitForHolder("n2", of: Self.vip, timeout: bound) != nil, "\(lab.log("n1"))\n\(lab.log("n2"))")
        #expect(Lab.wait(timeout: .seconds(1)) { holders2() == ["n2"] } != nil, "\(lab.log("n2"))")
        #expect(lab.log("n1").contains("(VI_1) Entering FAULT STATE"), "\(lab.log("n1"))")
        #expect(lab.log("n1").contains("VRRP_Group(G1) Syncing instances to FAULT state"), "\(lab.log("n1"))")

        // eth1 returns: both come back to n1 together (preemption).
        try lab.lab.run(lab.namespace("n1"), ["ip", "link", "set", "eth1", "up"])
        let back = masterDownInterval(interval: .seconds(1), priority: 150) + .seconds(2)
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: back) != nil, "\(lab.log("n1"))")
        #expect(Lab.wait(timeout: .seconds(1)) { holders2() == ["n1"] } != nil, "\(lab.log("n1"))")
    }

    @Test("notify scripts see MASTER, BACKUP, FAULT and STOP in order; the FIFO reader sees all of 50 fast transitions")
    func notifications() throws {
        let lab = try VRRPLab("notify", nodes: 2)
        defer { lab.close() }
        let n1 = lab.namespace("n1")
        // A tracked link inside n1 that the test can fail and restore at will.
        try lab.lab.run(n1, ["ip", "link", "add", "t0", "type", "veth", "peer", "name", "t1"])
        try lab.lab.run(n1, ["ip", "link", "set", "t1", "up"])
        try lab.lab.run(n1, ["ip", "link", "set", "t0", "up"])
        let record = lab.lab.path("notify.log")
        let recorder = try script(lab, "record", "#!/bin/sh\necho \"$*\" >> \(record)\n")
        let fifo = lab.lab.path("vrrp.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let fifoOut = lab.lab.path("fifo.out")
        _ = try lab.lab.start(n1, ["sh", "-c", "exec cat \(fifo) > \(fifoOut)"], log: "fifo-reader")
        let config = vrrpConfig(
            priority: 100,
            extra: """
                    track_interface {
                        t0
                    }
                    notify_master "\(recorder) master"
                    notify_backup "\(recorder) backup"
                    notify_fault "\(recorder) fault"
                    notify_stop "\(recorder) stop"
                    notify \(recorder)
                """
        ).replacingOccurrences(of: "global_defs {", with: "global_defs {\n    notify_fifo \(fifo)")
        try lab.startVigil("n1", config: config)
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: .seconds(8)) != nil, "\(lab.log("n1"))")
        // A better router arrives: n1 goes BACKUP.
        try lab.startVigil("n2", config: vrrpConfig(priority: 150))
        #expect(lab.waitForHolder("n2", of: Self.vip, timeout: .seconds(8)) != nil, "\(lab.log("n2"))")
        // 25 failures and repairs of the tracked link in about five seconds: 50 transitions.
        try lab.lab.run(
            n1,
            ["sh", "-c", "for i in $(seq 25); do ip link set t0 down; sleep 0.1; ip link set t0 up; sleep 0.1; done"])
        sleep(1)
        lab.stop("n1")

        var expected = ["backup", "INSTANCE VI_1 BACKUP 100", "master", "INSTANCE VI_1 MASTER 100"]
        expected += ["backup", "INSTANCE VI_1 BACKUP 100"]
        for _ in 0..<25 { expected += ["fault", "INSTANCE VI_1 FAULT 100", "backup", "INSTANCE VI_1 BACKUP 100"] }
        expected += ["stop", "INSTANCE VI_1 STOP 100"]
        #expect(
            Lab.wait(timeout: .seconds(5)) { lines(record).count >= expected.count } != nil,
            "\(lines(record).count) notify runs\n\(lab.log("n1"))")
        #expect(lines(record) == expected, "\(lab.log("n1"))")

        let fifoExpected = expected.filter { $0.hasPrefix("INSTANCE") }.map {
            $0.replacingOccurrences(of: "INSTANCE VI_1", with: "INSTANCE \"VI_1\"")
        }
        #expect(Lab.wait(timeout: .seconds(3)) { lines(fifoOut).count >= fifoExpected.count } != nil)
        #expect(lines(fifoOut) == fifoExpected)
    }

    @Test("smtp_alert: a real SMTP server gets keepalived's mail; with the server down, failover keeps its time")
    func mail() throws {
        let lab = try VRRPLab("mail", nodes: 3)
        defer { lab.close() }
        // n3 is the mail server: aiosmtpd's debugging handler prints every message it receives.
        _ = try lab.lab.start(
            lab.namespace("n3"), ["/usr/bin/python3", "-u", "-m", "aiosmtpd", "-n", "-l", "198.51.100.3:2525"],
            log: "smtpd")
        #expect(
            Lab.wait(timeout: .seconds(10)) {
                (try? lab.lab.run(lab.namespace("n3"), ["ss", "-ltn"]).output.contains("198.51.100.3:2525")) == true
            } != nil)
        func config(priority: Int, server: String) -> String {
            vrrpConfig(priority: priority).replacingOccurrences(
                of: "global_defs {",
                with: """
                    global_defs {
                        notification_email {
                            ops@example.net
                        }
                        notification_email_from vigil@example.net
                        smtp_server \(server)
                        smtp_connect_timeout 2
                        smtp_alert
                    """)
        }
        try lab.startVigil("n1", config: config(priority: 150, server: "198.51.100.3 2525"))
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: .seconds(8)) != nil, "\(lab.log("n1"))")
        let smtpLog = { lab.lab.path("smtpd.log") }()
        let subject = "Subject: [VI_1-150] VRRP Instance VI_1 - Entering MASTER state"
        #expect(
            Lab.wait(timeout: .seconds(5)) {
                ((try? String(contentsOfFile: smtpLog, encoding: .utf8)) ?? "").contains(subject)
            } != nil, "\((try? String(contentsOfFile: smtpLog, encoding: .utf8)) ?? "")\n\(lab.log("n1"))")
        let received = (try? String(contentsOfFile: smtpLog, encoding: .utf8)) ?? ""
        #expect(received.contains("X-Mailer: Keepalived"))
        #expect(received.contains("=> VRRP Instance is now owning VRRP VIPs <="))

        // n2's mail server does not exist: mail fails after smtp_connect_timeout, failover does not wait for it.
        try lab.startVigil("n2", config: config(priority: 100, server: "198.51.100.251"))
        sleep(2)
        try lab.crash("n1")
        let bound = masterDownInterval(interval: .seconds(1), priority: 100) + .milliseconds(500)
        #expect(lab.waitForHolder("n2", of: Self.vip, timeout: bound) != nil, "\(lab.log("n2"))")
        #expect(
            Lab.wait(timeout: .seconds(8)) { lab.log("n2").contains("cannot send the alert mail") } != nil,
            "\(lab.log("n2"))")
    }

    @Test("Scripts that hang, fork and exit, or print 10 MB: adverts keep their interval on the wire; no zombies")
    func badScripts() throws {
        let lab = try VRRPLab("badscripts", nodes: 1)
        defer { lab.close() }
        let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "vrrp", name: "wire")
        let config =
            """
            vrrp_script hangs {
                script "/bin/sleep 1000"
                interval 1
                timeout 2
                weight 10
            }
            vrrp_script forks {
                script "/bin/sh -c 'sleep 1000 & exit 0'"
                interval 1
                weight 10
            }
            vrrp_script talks {
                script "/usr/bin/head -c 10485760 /dev/zero"
                interval 1
                weight 10
            }

            """
            + vrrpConfig(
                state: "MASTER", priority: 100,
                extra: "    track_script {\n        hangs\n        forks\n        talks\n    }")
        try lab.startVigil("n1", config: config)
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: .seconds(8)) != nil, "\(lab.log("n1"))")
        sleep(8)
        capture.stop()
        let times = try capture.fields(["frame.time_epoch"], filter: "vrrp && ip.src == 198.51.100.1").compactMap {
            Double($0[0])
        }
        #expect(times.count >= 6, "adverts: \(times)")
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 > 0.8 && $0 < 1.25 }, "advert gaps: \(gaps)")
        #expect(lab.log("n1").contains("VRRP_Script(hangs) timed_out"), "\(lab.log("n1"))")
        // Every script Vigil started has been collected: no zombie children (a script may be between its end and
        // its collection for an instant, hence the wait).
        let pidText = try String(contentsOfFile: lab.lab.path("n1-run/vrrp.pid"), encoding: .utf8)
        let vrrpPID = pidText.trimmingCharacters(in: .whitespacesAndNewlines)
        func zombies() -> [String] {
            let output = (try? Command.run(["ps", "-o", "pid=,stat=", "--ppid", vrrpPID], check: false).output) ?? ""
            return output.split(separator: "\n").filter { $0.split(separator: " ").last?.hasPrefix("Z") == true }
                .map(String.init)
        }
        #expect(Lab.wait(timeout: .seconds(3)) { zombies().isEmpty } != nil, "zombies: \(zombies())")
    }

    @Test(
        "enable_script_security: a world-writable script is refused with a clear message; a safe one runs as script_user"
    )
    func scriptSecurity() throws {
        let lab = try VRRPLab("security", nodes: 1)
        defer { lab.close() }
        // /tmp is writable by everyone, so the scripts live under /run, in a directory only root can change.
        let directory = "/run/\(lab.lab.prefix)-scripts"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ranMarker = "\(directory)/unsafe-ran"
        try "#!/bin/sh\n[ \"$(id -un)\" = nobody ]\n".write(
            toFile: "\(directory)/safe", atomically: false, encoding: .utf8)
        chmod("\(directory)/safe", 0o755)
        try "#!/bin/sh\ntouch \(ranMarker)\n".write(toFile: "\(directory)/unsafe", atomically: false, encoding: .utf8)
        chmod("\(directory)/unsafe", 0o777)
        let config =
            """
            global_defs {
                enable_script_security
                script_user nobody
            }
            vrrp_script safe {
                script "\(directory)/safe"
                interval 1
            }
            vrrp_script unsafe {
                script "\(directory)/unsafe"
                interval 1
            }

            """
            + vrrpConfig(priority: 100, extra: "    track_script {\n        safe\n    }")
            .replacingOccurrences(of: "global_defs {\n    router_id VI_1-100\n}\n", with: "")
            + vrrpConfig(
                name: "VI_2", priority: 100, vrid: 51, addresses: ["198.51.100.101"],
                extra: "    track_script {\n        unsafe\n    }"
            )
            .replacingOccurrences(of: "global_defs {\n    router_id VI_2-100\n}\n", with: "")
        // The configuration test says what is wrong and where.
        let path = try lab.lab.write("security.conf", config)
        let test = try Command.run([try Package.vigilBinary(), "-t", "-f", path], check: false)
        #expect(test.status != 0)
        #expect(test.error.contains("\(directory)/unsafe is not safe to run"), "\(test.error)")

        // The daemon refuses the unsafe script (its tracker is disabled, as keepalived does) and runs the safe one
        // as nobody: it succeeds only then, and with weight 0 its failure would be FAULT.
        try lab.startVigil("n1", config: config)
        #expect(lab.waitForHolder("n1", of: Self.vip, timeout: .seconds(8)) != nil, "\(lab.log("n1"))")
        #expect(lab.log("n1").contains("\(directory)/unsafe is not safe to run"), "\(lab.log("n1"))")
        #expect(!lab.log("n1").contains("(VI_1) Entering FAULT STATE"), "\(lab.log("n1"))")
        sleep(2)
        #expect(!FileManager.default.fileExists(atPath: ranMarker), "the unsafe script must never run")
    }
}

import Foundation
import Testing
import VigilTestSupport

/// keepalived's options doing what they do, on a running Vigil in a namespace (their parsing is unit-tested in
/// `CommandLineTests`).
@Suite("keepalived's flags, for real", .serialized, .enabled(if: TestLab.shouldRun))
struct FlagTests {
    func vigil(_ lab: VRRPLab, _ arguments: [String]) throws -> CommandResult {
        try lab.lab.run(lab.namespace("n1"), [try Package.vigilBinary()] + arguments, check: false)
    }

    @Test("-h, -v, --signum, unknown options, leftovers, -t=FILE, -e, -s, -T: answers and exit codes as keepalived's")
    func immediateAnswers() throws {
        let lab = try VRRPLab("flags-cli", nodes: 1)
        defer { lab.close() }
        let help = try vigil(lab, ["-h"])
        #expect(help.status == 0 && help.error.contains("--use-file=FILE") && help.output.isEmpty, "\(help)")
        let version = try vigil(lab, ["-v"])
        #expect(version.status == 0 && version.error.contains("Vigil"), "\(version)")
        #expect(try vigil(lab, ["--signum=JSON"]).output == "36\n")
        #expect(try vigil(lab, ["--signum", "STOP"]).output == "15\n")
        let unknownSignal = try vigil(lab, ["--signum=NOPE"])
        #expect(unknownSignal.status == 1 && unknownSignal.error.contains("Unknown sigfunc NOPE"))
        let unknown = try vigil(lab, ["-Z", "--bogus"])
        #expect(unknown.status == 1 && unknown.error == "Unknown option -Z\nUnknown option --bogus\n", "\(unknown)")
        #expect(try vigil(lab, ["status", "--help"]).output.contains("Usage: vigil status"), "help, not a connection")

        let good = try lab.lab.write("good.conf", vrrpConfig(priority: 100))
        let leftovers = try vigil(lab, ["-t", "-f", good, "stray"])
        #expect(leftovers.status == 0 && leftovers.output == "Unexpected argument(s): stray \n", "\(leftovers)")
        // -tFILE: the report goes to the file, not to standard error.
        let bad = try lab.lab.write("bad.conf", vrrpConfig(priority: 100, extra: "    nonsense_keyword 1"))
        let report = lab.lab.path("test.log")
        let toFile = try vigil(lab, ["-t\(report)", "-f", bad])
        #expect(toFile.status == 5 && toFile.error.isEmpty, "\(toFile)")
        #expect(((try? String(contentsOfFile: report, encoding: .utf8)) ?? "").contains("nonsense_keyword"))
        // -e: a missing include is reported (a warning: exit 5), where keepalived's default only notes it.
        let including = try lab.lab.write("including.conf", vrrpConfig(priority: 100) + "include /nonexistent/x.conf\n")
        #expect(try vigil(lab, ["-t", "-f", including]).status == 0)
        #expect(try vigil(lab, ["-t", "-e", "-f", including]).status == 5)
        // A bad -S is reported and counts as a configuration error under -t.
        let facility = try vigil(lab, ["-t", "-S", "mail", "-f", good])
        #expect(facility.status == 5 && facility.error.contains("Invalid log facility 'mail'"), "\(facility)")
        // -s NAME of a namespace that does not exist: said, and not started.
        let namespace = try vigil(
            lab, ["-n", "-l", "-s", "vigil-no-such-namespace", "-f", good, "--runtime-dir", lab.lab.path("ns-run")])
        #expect(
            namespace.status == 1 && namespace.error.contains("Unable to set network namespace vigil-no-such-namespace"),
            "\(namespace)")
        // -T: genhash, against a page served in the namespace.
        let root = lab.lab.path("www")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try "hello\n".write(toFile: "\(root)/index.html", atomically: true, encoding: .utf8)
        _ = try lab.lab.start(
            lab.namespace("n1"),
            ["/usr/bin/python3", "-m", "http.server", "8080", "--bind", "198.51.100.1", "--directory", root], log: "www")
        _ = Lab.wait(timeout: .seconds(5)) {
            (try? lab.lab.run(lab.namespace("n1"), ["ss", "-ltn"]).output.contains(":8080")) == true
        }
        let genhash = try vigil(lab, ["-T", "-s", "198.51.100.1", "-p", "8080", "-u", "/index.html"])
        #expect(genhash.output.contains("MD5SUM = b1946ac92492d2347c6235b4d2611184"), "\(genhash)")
    }

    /// The processes whose command line holds `fragment`.
    func processes(_ fragment: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(fragment)
        }
    }

    @Test("the VRRP process started while the supervisor reads the file: kept when wanted, gone without a trace when not")
    func earlyVRRPProcess() throws {
        let lab = try VRRPLab("flags-early", nodes: 1)
        defer { lab.close() }
        // A missing file: exit 4, and nothing left behind, waiting or not.
        let runtime = lab.lab.path("early-run")
        let missing = try vigil(lab, ["-n", "-l", "-f", lab.lab.path("missing.conf"), "--runtime-dir", runtime])
        #expect(missing.status == 4, "\(missing)")
        #expect(processes("missing.conf --role vrrp").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(runtime)/vrrp.pid"))
        // No instance: the one started early is sent away before the supervisor goes on.
        let none = try lab.startVigil("n1", config: "global_defs {\n    router_id early\n}\n")
        let settled = Lab.wait(timeout: .seconds(5)) {
            FileManager.default.fileExists(atPath: lab.lab.path("n1-run") + "/vigil.pid")
        }
        #expect(settled != nil)
        usleep(300_000)
        #expect(processes("n1-vigil.conf --role vrrp").isEmpty, "\(none.log)")
        #expect(!FileManager.default.fileExists(atPath: lab.lab.path("n1-run") + "/vrrp.pid"))
        _ = none.stop()
        // An instance: one VRRP process, started early and let go on (its gate's descriptor on its command line).
        let one = try lab.startVigil("n1", config: vrrpConfig(priority: 100))
        let running = Lab.wait(timeout: .seconds(5)) { processes("n1-vigil.conf --role vrrp").count == 1 }
        #expect(running != nil)
        #expect(processes("n1-vigil.conf --role vrrp --runtime-dir").count == 1)
        #expect(processes("--gate-fd 5").count == 1, "started early, at its gate's descriptor")
        #expect(Lab.wait(timeout: .seconds(8)) { one.log.contains("Entering BACKUP STATE") || one.log.contains("Entering MASTER STATE") } != nil, "\(one.log)")
        #expect(one.log.components(separatedBy: "Starting vrrp child process").count == 2, "said once: \(one.log)")
        _ = one.stop()
    }

    @Test("-a, -d, -X, -u, -m, -G and the JSON and STATS_CLEAR signals on a running Vigil")
    func runningDaemon() throws {
        let lab = try VRRPLab("flags-run", nodes: 1)
        defer { lab.close() }
        let n1 = lab.namespace("n1")
        // An address that was there before Vigil: only -X makes leaving MASTER remove it too.
        try lab.lab.run(n1, ["ip", "addr", "add", "198.51.100.101/32", "dev", "eth0"])
        let logFile = lab.lab.path("vigil-file.log")
        let process = try lab.startVigil(
            "n1",
            config: vrrpConfig(state: "MASTER", priority: 255, addresses: ["198.51.100.100", "198.51.100.101"]),
            arguments: ["-a", "-d", "-X", "-u", "0077", "-m", "-g\(logFile)"])
        #expect(lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(3)) != nil, "\(lab.log("n1"))")
        sleep(1)
        func fileLog() -> String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
        #expect(fileLog().contains("Netlink reports 198.51.100.100/32 added to eth0"), "-a\n\(fileLog())")
        #expect(fileLog().contains("name: VI_1"), "-d dumps the configuration\n\(fileLog())")
        var info = stat()
        #expect(stat(logFile, &info) == 0 && info.st_mode & 0o777 == 0o600, "-u 0077: the log file is 0600")
        let supervisor = process.pid
        let limits = try String(contentsOfFile: "/proc/\(supervisor)/limits", encoding: .utf8)
        #expect(
            limits.split(separator: "\n").contains { $0.hasPrefix("Max core file size") && $0.contains("unlimited") },
            "-m\n\(limits)")
        // keepalived's JSON signal: the state in vigil.json; STATS_CLEAR: the counters start again.
        let json = lab.lab.path("n1-run/vigil.json")
        kill(supervisor, 36)
        #expect(Lab.wait(timeout: .seconds(3)) { FileManager.default.fileExists(atPath: json) } != nil)
        #expect(((try? String(contentsOfFile: json, encoding: .utf8)) ?? "").contains("\"state\":\"MASTER\""))
        sleep(2)
        let sent = try lab.vigilStats("n1")["Advertisements/Sent"] ?? 0
        kill(supervisor, 63)
        usleep(300_000)
        let cleared = try lab.vigilStats("n1")["Advertisements/Sent"] ?? 0
        #expect(sent >= 2 && cleared < sent, "STATS_CLEAR: \(sent) then \(cleared)")
        lab.stop("n1")
        #expect(!lab.lab.holds(n1, "198.51.100.100"))
        #expect(!lab.lab.holds(n1, "198.51.100.101"), "-X released the address that was there before")
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(supervisor)"))

        // -G without -l or -g: nothing is logged anywhere Vigil writes.
        let quiet = try lab.lab.start(
            n1,
            [
                try Package.vigilBinary(), "-n", "-G", "-f", try lab.lab.write("quiet.conf", vrrpConfig(priority: 100)),
                "--runtime-dir", lab.lab.path("quiet-run"),
            ], log: "quiet")
        sleep(2)
        #expect(quiet.isRunning)
        quiet.stop(signal: SIGTERM, timeout: .seconds(5))
        #expect(quiet.log.isEmpty, "-G: \(quiet.log)")
    }

    @Test("-I leaves the load balancer's services in place when Vigil stops")
    func dontReleaseIPVS() throws {
        let lab = try VRRPLab("flags-lb", nodes: 1)
        defer { lab.close() }
        let config = """
            virtual_server 203.0.113.50 80 {
                delay_loop 1
                lb_algo rr
                real_server 198.51.100.9 80 {
                    weight 1
                }
            }

            """
        for keep in [false, true] {
            try lab.startVigil("n1", config: config, arguments: keep ? ["-I"] : [])
            let present = Lab.wait(timeout: .seconds(5)) {
                (try? lab.lab.run(lab.namespace("n1"), ["nft", "list", "table", "ip", "vigil"]).succeeded) == true
            }
            #expect(present != nil, "\(lab.log("n1"))")
            lab.stop("n1")
            let after = try lab.lab.run(lab.namespace("n1"), ["nft", "list", "table", "ip", "vigil"], check: false)
            #expect(after.succeeded == keep, keep ? "-I keeps the table" : "without -I the table goes")
            if keep { try lab.lab.run(lab.namespace("n1"), ["nft", "delete", "table", "ip", "vigil"]) }
        }
    }
}

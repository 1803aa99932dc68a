import CLinux
import Daemon
import Glibc
import LinuxNet
import NetworkLab
import VigilConfig

/// `vigil lab`: the seed's preemptive pair in network namespaces, failing over in front of you.
enum LabDemo {
    static let vip = "198.51.100.100"

    static func config(routerID: String, instance: String, state: String, priority: Int) -> String {
        """
        global_defs {
            router_id \(routerID)
        }
        vrrp_instance \(instance) {
            state \(state)
            interface eth0
            virtual_router_id 50
            priority \(priority)
            advert_int 1
            authentication {
                auth_type PASS
                auth_pass 1111
            }
            virtual_ipaddress {
                \(vip)
            }
        }

        """
    }
}

/// `vigil lab-probe INTERFACE SOURCE TARGET`, run by the demo inside the client's namespace: who answers an ARP
/// request for TARGET. Prints the MAC, or says nobody did (exit 1).
func labProbe(interface: String, source: String, target: String) -> Int32 {
    guard let from = IPAddress(source), let to = IPAddress(target), from.family == .ipv4, to.family == .ipv4 else {
        printError("vigil lab-probe: SOURCE and TARGET are IPv4 addresses")
        return 2
    }
    do {
        guard let mac = try ARPProbe.resolve(interface: interface, source: from, target: to, timeout: .seconds(1))
        else {
            print("no answer")
            return 1
        }
        print(ARPProbe.format(mac))
        return 0
    } catch {
        printError("vigil lab-probe: \(error)")
        return 2
    }
}

/// Runs the demo; returns the exit code.
func runLab() -> Int32 {
    if let reason = Lab.unavailableReason(tools: ["ip"]) {
        printError("vigil lab: \(reason)")
        return 1
    }
    // Ctrl-C and SIGTERM end the demo cleanly: they are checked between steps.
    var set = sigset_t()
    vigil_sigemptyset(&set)
    vigil_sigaddset(&set, SIGINT)
    vigil_sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_BLOCK, &set, nil)
    let demo: Demo
    do {
        demo = try Demo()
    } catch {
        printError("vigil lab: \(error)")
        return 1
    }
    defer {
        demo.lab.close()
        say("cleaned up: namespaces \(demo.lab.prefix)-*, their processes and files removed")
    }
    do {
        try demo.run()
        return 0
    } catch is Interrupted {
        say("interrupted")
        return 130
    } catch {
        say("vigil lab: \(error)")
        return 1
    }
}

struct DemoFailure: Error, CustomStringConvertible {
    var description: String
}

struct Interrupted: Error {}

func say(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

final class Demo {
    let lab: Lab
    let hub: String
    let n1: String
    let n2: String
    let client: String
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant
    var daemons: [String: BackgroundProcess] = [:]
    let vigil = Daemonizer.executablePath()

    init() throws {
        lab = try Lab("demo")
        start = clock.now
        hub = try lab.namespace("hub")
        try lab.bridge("br0", in: hub)
        n1 = try lab.namespace("n1")
        n2 = try lab.namespace("n2")
        client = try lab.namespace("client")
        try lab.connect(n1, to: "br0", in: hub, port: "p1", addresses: ["198.51.100.1/24"])
        try lab.connect(n2, to: "br0", in: hub, port: "p2", addresses: ["198.51.100.2/24"])
        try lab.connect(client, to: "br0", in: hub, port: "p3", addresses: ["198.51.100.200/24"])
    }

    func stamp(_ text: String) {
        let elapsed = (clock.now - start).seconds
        let seconds = (elapsed * 100).rounded() / 100
        var column = String(seconds)
        while column.count < 6 { column = " " + column }
        say("[\(column) s] \(text)")
    }

    func checkInterrupt() throws {
        var pending = sigset_t()
        sigpending(&pending)
        if sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1 { throw Interrupted() }
    }

    func wait(timeout: Duration, _ condition: () -> Bool) throws -> Duration? {
        var result: Duration?
        var interrupted = false
        result = Lab.wait(timeout: timeout) {
            var pending = sigset_t()
            sigpending(&pending)
            if sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1 {
                interrupted = true
                return true
            }
            return condition()
        }
        if interrupted { throw Interrupted() }
        return result
    }

    func startVigil(_ namespace: String, node: String, state: String, priority: Int) throws {
        let path = try lab.write(
            "\(node).conf",
            LabDemo.config(
                routerID: node == "n1" ? "lb01" : "lb02", instance: node == "n1" ? "VI_1" : "VI_2", state: state,
                priority: priority))
        let runtime = lab.path("\(node)-run")
        mkdir(runtime, 0o700)
        daemons[node] = try lab.start(
            namespace, [vigil, "-n", "-l", "-f", path, "--runtime-dir", runtime], log: "\(node)-vigil")
    }

    func holder() -> String? {
        if lab.holds(n1, LabDemo.vip) && daemons["n1"]?.isRunning == true { return "n1" }
        if lab.holds(n2, LabDemo.vip) && daemons["n2"]?.isRunning == true { return "n2" }
        return nil
    }

    func mac(_ namespace: String) -> String {
        // `ip -o link`: "... link/ether 02:00:5e:.. brd ff:ff:...".
        let line = (try? Command.run(["ip", "-n", namespace, "-o", "link", "show", "eth0"]).output) ?? ""
        let words = line.split(separator: " ")
        guard let index = words.firstIndex(of: "link/ether"), index + 1 < words.count else { return "?" }
        return String(words[index + 1])
    }

    /// Who answers the client's ARP request for the VIP (Vigil's own probe, sent from the client's namespace):
    /// where the client's traffic for the VIP goes.
    func clientView() -> String {
        let answer = ((try? lab.run(client, [vigil, "lab-probe", "eth0", "198.51.100.200", LabDemo.vip], check: false))?
            .output ?? "").filter { !$0.isWhitespace }
        guard answer.count == 17 else { return "no answer" }
        let owner = answer == mac(n1) ? "n1" : answer == mac(n2) ? "n2" : "?"
        return "\(answer) (\(owner))"
    }

    func run() throws {
        say("Vigil lab: the seed's preemptive pair, VRID 50, VIP \(LabDemo.vip), VRRPv2 with PASS, advert_int 1")
        say("  n1 198.51.100.1 state MASTER priority 150 | n2 198.51.100.2 state BACKUP priority 100 | client .200")
        say("  Master_Down_Interval = 3 x advert_int + (256 - priority)/256 s: 3.61 s for n2, 3.41 s for n1")
        stamp("starting Vigil on n1 and n2")
        try startVigil(n1, node: "n1", state: "MASTER", priority: 150)
        try startVigil(n2, node: "n2", state: "BACKUP", priority: 100)
        guard let elected = try wait(timeout: .seconds(8), { holder() == "n1" }) else {
            throw DemoFailure(description: "n1 did not become master; its log:\n\(daemons["n1"]?.log ?? "")")
        }
        stamp("n1 is MASTER and holds \(LabDemo.vip) (elected after \(format(elected)))")
        stamp("the client asks who has \(LabDemo.vip): \(clientView()) answers")
        try pause(.seconds(2))

        stamp("n1 dies: its link goes down and every Vigil process is killed (-9), without a word")
        let killed = clock.now
        // As a machine failing: nothing of n1 answers any more (a killed daemon alone would leave the VIP on
        // n1's interface, and its kernel answering ARP for it).
        _ = try? Command.run(["ip", "-n", n1, "link", "set", "eth0", "down"])
        for pid in ((try? Command.run(["ip", "netns", "pids", n1]).output) ?? "").split(separator: "\n") {
            if let pid = Int32(pid) { kill(pid, SIGKILL) }
        }
        _ = daemons["n1"]?.waitForExit(timeout: .seconds(2))
        guard try wait(timeout: .seconds(8), { lab.holds(n2, LabDemo.vip) }) != nil else {
            throw DemoFailure(description: "n2 did not take over; its log:\n\(daemons["n2"]?.log ?? "")")
        }
        let takeover = clock.now - killed
        stamp("n2 is MASTER and holds \(LabDemo.vip): takeover \(format(takeover)) after the kill")
        stamp("the client asks again: \(clientView()) answers now")
        try pause(.seconds(2))

        stamp("n1 comes back: link up, Vigil started (priority 150 preempts n2)")
        let restarted = clock.now
        _ = try? Command.run(["ip", "-n", n1, "link", "set", "eth0", "up"])
        try startVigil(n1, node: "n1", state: "MASTER", priority: 150)
        guard try wait(timeout: .seconds(8), { holder() == "n1" && !lab.holds(n2, LabDemo.vip) }) != nil else {
            throw DemoFailure(description: "n1 did not take the VIP back; its log:\n\(daemons["n1"]?.log ?? "")")
        }
        stamp("n1 is MASTER again, \(format(clock.now - restarted)) after its restart; n2 went back to BACKUP")
        stamp("the client asks again: \(clientView()) answers")
        for (_, daemon) in daemons { daemon.stop(signal: SIGTERM, timeout: .seconds(5)) }
        say("")
        say("n2's log (to its stop):")
        for line in (daemons["n2"]?.log ?? "").split(separator: "\n") { say("  \(line)") }
    }

    func pause(_ duration: Duration) throws {
        _ = try wait(timeout: duration) { false }
    }

    func format(_ duration: Duration) -> String {
        let seconds = (duration.seconds * 100).rounded() / 100
        return "\(seconds) s"
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

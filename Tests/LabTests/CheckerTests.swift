import Foundation
import Testing
import VigilTestSupport

/// A load-balancing lab: a client, a balancer running Vigil's checker with the nftables backend, and real servers
/// on a bridge behind it (their default route is the balancer, as NAT needs).
///
///     client 203.0.113.2 ── 203.0.113.1 balancer (VIP 203.0.113.100) 198.51.100.1 ── br0 ── rs1..rsN 198.51.100.1N
final class BalancerLab {
    static let vip = "203.0.113.100"
    let lab: Lab
    let client: String
    let balancer: String
    let hub: String
    var servers: [String: String] = [:]
    var processes: [String: BackgroundProcess] = [:]
    var vigil: BackgroundProcess?
    let script = "\(Package.root)/Tests/LabTests/Fixtures/servers.py"

    init(_ name: String, servers count: Int) throws {
        lab = try TestLab.open(name)
        client = try lab.namespace("client")
        balancer = try lab.namespace("lb")
        hub = try lab.namespace("hub")
        try lab.bridge("br0", in: hub)
        try lab.veth("eth0", in: client, peer: "eth0", in: balancer)
        try lab.run(client, ["ip", "addr", "add", "203.0.113.2/24", "dev", "eth0"])
        try lab.run(client, ["ip", "route", "add", "default", "via", "203.0.113.1"])
        try lab.run(balancer, ["ip", "addr", "add", "203.0.113.1/24", "dev", "eth0"])
        try lab.run(balancer, ["ip", "addr", "add", "\(Self.vip)/32", "dev", "eth0"])
        try lab.connect(balancer, interface: "eth1", to: "br0", in: hub, port: "plb", addresses: ["198.51.100.1/24"])
        try lab.run(balancer, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        for index in 1...count {
            let namespace = try lab.namespace("rs\(index)")
            try lab.connect(
                namespace, to: "br0", in: hub, port: "p\(index)", addresses: ["198.51.100.1\(index)/24"])
            try lab.run(namespace, ["ip", "route", "add", "default", "via", "198.51.100.1"])
            servers["rs\(index)"] = namespace
        }
    }

    func address(_ server: String) -> String { "198.51.100.1\(server.dropFirst(2))" }

    /// Starts one of the fixture servers in a real server's namespace and waits until it listens.
    @discardableResult
    func serve(_ server: String, _ arguments: [String], name: String? = nil) throws -> BackgroundProcess {
        let key = name ?? server
        let process = try lab.start(servers[server]!, ["/usr/bin/python3", script] + arguments, log: "\(key)-server")
        processes[key] = process
        #expect(Lab.wait(timeout: .seconds(10)) { process.log.contains("ready") } != nil, "\(key): \(process.log)")
        return process
    }

    func stopServer(_ key: String) {
        processes[key]?.stop(signal: SIGKILL, timeout: .seconds(5))
        processes[key] = nil
    }

    func startVigil(config: String) throws {
        let path = try lab.write("lb-vigil.conf", config)
        let runtime = lab.path("lb-run")
        try? FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        vigil = try lab.start(
            balancer, [try Package.vigilBinary(), "-n", "-l", "-D", "-f", path, "--runtime-dir", runtime],
            log: "lb-vigil")
    }

    var log: String { vigil?.log ?? "" }

    /// Vigil's nftables table in the balancer, or "" when there is none.
    var ruleset: String {
        (try? lab.run(balancer, ["nft", "list", "table", "ip", "vigil"], check: false).output) ?? ""
    }

    /// The destinations of the rule for `vip:port`, as "address . port" strings.
    func destinations(port: Int = 80) -> Set<String> {
        guard let line = ruleset.split(separator: "\n").first(where: { $0.contains("dport \(port) ") }),
            let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}")
        else { return [] }
        var result = Set<String>()
        for entry in line[line.index(after: open)..<close].split(separator: ",") {
            guard let value = entry.split(separator: ":", maxSplits: 1).last else { continue }
            let parts = value.split(separator: ".").map { $0.trimmingCharacters(in: .whitespaces) }
            // "198.51.100.11 . 80" splits on every dot: the last part is the port.
            guard parts.count >= 2 else { continue }
            result.insert(parts.dropLast().joined(separator: ".") + ":" + parts.last!)
        }
        return result
    }

    /// `count` HTTP requests from the client to the VIP, one connection each: how many each body came back.
    func requests(_ count: Int, port: Int = 80) throws -> [String: Int] {
        let output = try lab.run(client, ["/usr/bin/python3", script, "get", "http://\(Self.vip):\(port)/", "\(count)"])
            .output
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Int]
        return object ?? [:]
    }

    func close() {
        vigil?.stop(signal: SIGTERM, timeout: .seconds(10))
        lab.close()
    }
}

@Suite("Health checks and the nftables load balancer", .serialized, .enabled(if: TestLab.shouldRun))
struct CheckerTests {
    static let timing = "        connect_timeout 1\n        retry 1\n        delay_before_retry 1\n"
    /// delay_loop + connect_timeout * (retry + 1) + delay_before_retry * retry for delay_loop 2 and the timing above,
    /// plus 1 s for the kernel, the scheduler and `nft` on a loaded 2-core machine.
    static let detectionBound: Double = 6

    @Test("HTTP_GET pool: 300 requests spread over three servers; a stopped one is out within the bound, then back")
    func httpPool() throws {
        let lab = try BalancerLab("lbhttp", servers: 3)
        defer { lab.close() }
        for server in ["rs1", "rs2", "rs3"] { try lab.serve(server, ["http", lab.address(server), "80", server]) }
        let fifo = lab.lab.path("lvs.fifo")
        let notifyLog = lab.lab.path("notify.log")
        let notify = try lab.lab.write("notify.sh", "#!/bin/sh\necho \"$@\" >> \(notifyLog)\n")
        chmod(notify, 0o755)
        var realServers = ""
        for server in ["rs1", "rs2", "rs3"] {
            realServers += """
                    real_server \(lab.address(server)) 80 {
                        weight 1
                        notify_up "\(notify) up \(server)"
                        notify_down "\(notify) down \(server)"
                        HTTP_GET {
                            url {
                                path /
                                status_code 200
                            }
                \(Self.timing)        }
                    }

                """
        }
        try lab.startVigil(
            config: """
                global_defs {
                    router_id lb
                    lvs_notify_fifo \(fifo)
                    vigil_lb_backend nftables
                }
                virtual_server \(BalancerLab.vip) 80 {
                    delay_loop 2
                    lb_algo rr
                    lb_kind NAT
                    protocol TCP
                \(realServers)}
                """)
        let all: Set = ["198.51.100.11:80", "198.51.100.12:80", "198.51.100.13:80"]
        #expect(Lab.wait(timeout: .seconds(5)) { lab.destinations() == all } != nil, "\(lab.ruleset)\n\(lab.log)")
        // A reader for the FIFO, from the start.
        #expect(FileManager.default.fileExists(atPath: fifo), "Vigil creates the FIFO at start")
        let reader = try lab.lab.start(lab.balancer, ["cat", fifo], log: "fifo-reader")
        let spread = try lab.requests(300)
        #expect(spread["error"] == nil, "\(spread)")
        for server in ["rs1", "rs2", "rs3"] {
            #expect((spread[server] ?? 0) >= 90, "round robin gives each about 100: \(spread)")
        }

        // rs2 dies: out of the pool within the detection bound.
        lab.stopServer("rs2")
        let removed = Lab.wait(timeout: .seconds(Self.detectionBound + 2)) {
            lab.destinations() == all.subtracting(["198.51.100.12:80"])
        }
        #expect(removed != nil, "\(lab.ruleset)\n\(lab.log)")
        if let removed {
            #expect(removed < .milliseconds(Int(Self.detectionBound * 1000)), "removed after \(removed)")
            print("HTTP pool: spread \(spread); rs2 removed \(removed) after it stopped (bound 5 s + 1 s)")
        }
        let without = try lab.requests(60)
        #expect(without["rs2"] == nil && without["error"] == nil, "\(without)")
        #expect((without["rs1"] ?? 0) + (without["rs3"] ?? 0) == 60)

        // Back: in again after its next successful check (one delay_loop, plus the check itself).
        try lab.serve("rs2", ["http", lab.address("rs2"), "80", "rs2"])
        let back = Lab.wait(timeout: .seconds(2 + 1 + 2)) { lab.destinations() == all }
        #expect(back != nil, "\(lab.ruleset)\n\(lab.log)")
        let again = try lab.requests(30)
        #expect((again["rs2"] ?? 0) >= 5, "\(again)")

        // Notifications: the FIFO lines and notify scripts in keepalived's format.
        let fifoSeen = Lab.wait(timeout: .seconds(3)) { reader.log.contains("[198.51.100.12]:tcp:80 [203.0.113.100]:tcp:80 UP") }
        #expect(fifoSeen != nil, "FIFO: \(reader.log)")
        #expect(reader.log.contains("RS [198.51.100.12]:tcp:80 [203.0.113.100]:tcp:80 DOWN"), "\(reader.log)")
        let scripts = (try? String(contentsOfFile: notifyLog, encoding: .utf8)) ?? ""
        #expect(scripts.contains("down rs2") && scripts.contains("up rs2"), "notify scripts: \(scripts)")
        #expect(!scripts.contains("rs1") && !scripts.contains("rs3"), "only rs2 changed: \(scripts)")

        // Stop: Vigil's table goes, and nothing else.
        lab.vigil?.stop(signal: SIGTERM, timeout: .seconds(10))
        #expect(!lab.ruleset.contains("vigil"), "the table is removed on stop: \(lab.ruleset)")
    }
}

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

    func startVigil(config: String, arguments: [String] = []) throws {
        let path = try lab.write("lb-vigil.conf", config)
        let runtime = lab.path("lb-run")
        try? FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        vigil = try lab.start(
            balancer, [try Package.vigilBinary(), "-n", "-l", "-D", "-f", path, "--runtime-dir", runtime] + arguments,
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
        // A mail server in the balancer's namespace: real-server mail is on by default.
        _ = try lab.lab.start(
            lab.balancer, ["/usr/bin/python3", "-u", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:2525"], log: "smtpd")
        #expect(
            Lab.wait(timeout: .seconds(10)) {
                (try? lab.lab.run(lab.balancer, ["ss", "-ltn"]).output.contains("127.0.0.1:2525")) == true
            } != nil)
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
                    notification_email {
                        ops@example.net
                    }
                    notification_email_from vigil@example.net
                    smtp_server 127.0.0.1 2525
                }
                virtual_server \(BalancerLab.vip) 80 {
                    delay_loop 2
                    lb_algo rr
                    lb_kind NAT
                    protocol TCP
                \(realServers)}
                """, arguments: ["--metrics", "127.0.0.1:9650"])
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
        // vigil status shows it: the table, and JSON that fits the schema.
        let runtime = lab.lab.path("lb-run")
        let table = try lab.lab.run(lab.balancer, [try Package.vigilBinary(), "status", "--runtime-dir", runtime]).output
        let rs2Line = table.split(separator: "\n").first { $0.contains("[198.51.100.12]:tcp:80") } ?? ""
        #expect(rs2Line.contains("DOWN") && rs2Line.contains("HTTP_GET down"), "\(table)")
        let json = try lab.lab.run(
            lab.balancer, [try Package.vigilBinary(), "status", "--json", "--runtime-dir", runtime]
        ).output
        let schema = "\(Package.root)/docs/status.schema.json"
        let validation = try Command.run(
            [
                "/usr/bin/python3", "-c",
                "import json, sys, jsonschema; jsonschema.validate(json.loads(sys.argv[1]), json.load(open(sys.argv[2])))",
                json, schema,
            ], check: false)
        #expect(validation.succeeded, "\(validation)\n\(json)")
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let servers = object?["virtual_servers"] as? [[String: Any]]
        let reals = servers?.first?["real_servers"] as? [[String: Any]] ?? []
        #expect(reals.map { $0["alive"] as? Bool } == [true, false, true], "\(json)")
        // And the metrics (served by the checker, as no VRRP process runs).
        let metrics = try lab.lab.run(
            lab.balancer,
            ["/usr/bin/python3", "-c", "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9650/metrics').read().decode())"]
        ).output
        #expect(
            metrics.contains(
                "vigil_real_server_up{virtual_server=\"[203.0.113.100]:tcp:80\",real_server=\"[198.51.100.12]:tcp:80\"} 0"),
            "\(metrics)")
        #expect(metrics.contains("vigil_checks_total{kind=\"HTTP_GET\",result=\"failure\"}"), "\(metrics)")
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
        let mailLog = lab.lab.path("smtpd.log")
        let subjects = [
            "Subject: [lb] Realserver [198.51.100.12]:tcp:80 of virtual server [203.0.113.100]:tcp:80 - DOWN",
            "Subject: [lb] Realserver [198.51.100.12]:tcp:80 of virtual server [203.0.113.100]:tcp:80 - UP",
        ]
        let mailed = Lab.wait(timeout: .seconds(5)) {
            let text = (try? String(contentsOfFile: mailLog, encoding: .utf8)) ?? ""
            return subjects.allSatisfy { text.contains($0) }
        }
        #expect(mailed != nil, "\((try? String(contentsOfFile: mailLog, encoding: .utf8)) ?? "")")

        // Stop: Vigil's table goes, and nothing else.
        lab.vigil?.stop(signal: SIGTERM, timeout: .seconds(10))
        #expect(!lab.ruleset.contains("vigil"), "the table is removed on stop: \(lab.ruleset)")
    }
}

extension CheckerTests {
    /// OpenSSL keeps one error queue per thread, and every probe runs on the checker's thread: a server failing
    /// verification must not leave errors that fail the next server's check.
    @Test("a firewall-mark virtual server on nftables: packets marked before NAT reach the live real servers, round robin")
    func firewallMark() throws {
        let lab = try BalancerLab("lbmark", servers: 2)
        defer { lab.close() }
        for server in ["rs1", "rs2"] { try lab.serve(server, ["http", lab.address(server), "80", server]) }
        // The administrator's marking, as for keepalived's fwmark services: before the NAT chain (mangle priority).
        try lab.lab.run(
            lab.balancer,
            ["nft", "add table ip marking; add chain ip marking pre { type filter hook prerouting priority -150; }; add rule ip marking pre ip daddr \(BalancerLab.vip) tcp dport 80 meta mark set 7"])
        var realServers = ""
        for server in ["rs1", "rs2"] {
            realServers +=
                "    real_server \(lab.address(server)) 80 {\n        TCP_CHECK {\n            connect_timeout 1\n            retry 0\n        }\n    }\n"
        }
        try lab.startVigil(config: "virtual_server fwmark 7 {\n    delay_loop 1\n    lb_algo rr\n\(realServers)}\n")
        #expect(Lab.wait(timeout: .seconds(6)) { lab.ruleset.contains("meta mark 0x00000007 meta l4proto tcp") } != nil, "\(lab.ruleset)\n\(lab.log)")
        #expect(!lab.log.contains("warning"), "nothing to warn about: \(lab.log)")
        var answers = [String: Int]()
        _ = Lab.wait(timeout: .seconds(6)) {
            answers = (try? lab.requests(10)) ?? [:]
            return answers["rs1"] == 5 && answers["rs2"] == 5
        }
        #expect(answers == ["rs1": 5, "rs2": 5], "round robin over both: \(answers)\n\(lab.ruleset)")
        lab.stopServer("rs2")
        _ = Lab.wait(timeout: .seconds(6)) {
            answers = (try? lab.requests(6)) ?? [:]
            return answers == ["rs1": 6]
        }
        #expect(answers == ["rs1": 6], "rs2 left the pool: \(answers)\n\(lab.ruleset)")
    }

    @Test("SSL_GET: a server failing verification beside a healthy one for 15 s never fails the healthy one")
    func tlsErrorsStayWithTheirServer() throws {
        let lab = try BalancerLab("lbtls", servers: 2)
        defer { lab.close() }
        func openssl(_ arguments: [String]) throws { try Command.run(["openssl"] + arguments) }
        let ca = lab.lab.path("ca.pem")
        let caKey = lab.lab.path("ca.key")
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-out", ca, "-days", "1", "-subj", "/CN=Lab CA"])
        // rs1: signed by the CA Vigil trusts; rs2: self-signed, so its verification fails.
        let signedKey = lab.lab.path("rs1.key")
        let request = lab.lab.path("rs1.csr")
        let signed = lab.lab.path("rs1.pem")
        try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", signedKey, "-out", request, "-subj", "/CN=rs1.lab.test"])
        try openssl(["x509", "-req", "-in", request, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out", signed, "-days", "1"])
        let selfKey = lab.lab.path("rs2.key")
        let selfSigned = lab.lab.path("rs2.pem")
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", selfKey, "-out", selfSigned, "-days", "1", "-subj", "/CN=rs2.lab.test"])
        let sni = lab.lab.path("sni.txt")
        try lab.serve("rs1", ["https", lab.address("rs1"), "443", "rs1", signed, signedKey, sni], name: "rs1")
        try lab.serve("rs2", ["https", lab.address("rs2"), "443", "rs2", selfSigned, selfKey, sni], name: "rs2")
        var config = "SSL {\n    ca \(ca)\n}\nvirtual_server \(BalancerLab.vip) 443 {\n    delay_loop 1\n    lb_algo rr\n"
        for server in ["rs1", "rs2"] {
            config += "    real_server \(lab.address(server)) 443 {\n        SSL_GET {\n            url {\n                path /\n            }\n            connect_timeout 1\n            retry 0\n        }\n    }\n"
        }
        config += "}\n"
        try lab.startVigil(config: config)
        let rs1 = "\(lab.address("rs1")):443"
        #expect(Lab.wait(timeout: .seconds(8)) { lab.destinations(port: 443) == [rs1] } != nil, "\(lab.ruleset)\n\(lab.log)")
        // 15 s of checks of both, every second: rs1 never leaves, rs2 never comes in.
        let clock = ContinuousClock()
        let end = clock.now + .seconds(15)
        var seen = Set<Set<String>>()
        while clock.now < end {
            seen.insert(lab.destinations(port: 443))
            usleep(200_000)
        }
        #expect(seen == [[rs1]], "destinations seen: \(seen)\n\(lab.log)")
        #expect(lab.log.contains("SSL_GET on service [\(lab.address("rs2"))]:tcp:443 failed"))
    }
}

extension CheckerTests {
    /// One virtual server per checker kind, all on rs1: each must come up from `alpha` (down) by its own check, go
    /// down when its service goes, and come back.
    @Test("Every checker kind: up from alpha, down when its service goes, up again when it returns")
    func everyKind() throws {
        let lab = try BalancerLab("lbkinds", servers: 1)
        defer { lab.close() }
        let rs = "198.51.100.11"
        let rs1 = lab.servers["rs1"]!
        // A self-signed certificate for the HTTPS server.
        let key = lab.lab.path("key.pem")
        let certificate = lab.lab.path("cert.pem")
        try Command.run([
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days",
            "1", "-subj", "/CN=www.lab.test",
        ])
        let sniFile = lab.lab.path("sni.txt")
        let downFlag = lab.lab.path("misc-down")
        let trackedFile = lab.lab.path("tracked")
        try "0\n".write(toFile: trackedFile, atomically: true, encoding: .utf8)

        func startServices() throws {
            try lab.serve("rs1", ["http", rs, "80", "rs1"], name: "http")
            try lab.serve("rs1", ["https", rs, "443", "secure", certificate, key, sniFile], name: "https")
            try lab.serve("rs1", ["udpecho", rs, "7"], name: "udp")
            lab.processes["smtp"] = try lab.lab.start(
                rs1, ["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "\(rs):25"], log: "smtp")
            lab.processes["dns"] = try lab.lab.start(
                rs1,
                [
                    "dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces",
                    "--listen-address=\(rs)", "--address=/web.lab.test/198.51.100.50", "--user=root",
                    "--pid-file=",
                ], log: "dns")
            _ = try? lab.lab.run(rs1, ["nft", "delete", "table", "inet", "noping"], check: false)
            try? FileManager.default.removeItem(atPath: downFlag)
            try "0\n".write(toFile: trackedFile, atomically: true, encoding: .utf8)
        }
        try startServices()

        // The digests, as `vigil genhash` gives them (and as md5sum would).
        let plain = try lab.lab.run(lab.balancer, [try Package.vigilBinary(), "genhash", "http://\(rs)/"]).output
        #expect(plain.contains("digest \(md5("rs1"))"), "\(plain)")
        let secure = try lab.lab.run(
            lab.balancer, [try Package.vigilBinary(), "genhash", "-s", rs, "-p", "443", "-u", "/", "-S", "-V", "www.lab.test"]
        ).output
        #expect(secure.contains("digest \(md5("secure"))"), "\(secure)")

        let timing = "            connect_timeout 1\n            retry 0\n"
        let kinds: [(name: String, port: Int, proto: String, rsPort: Int, block: String)] = [
            ("TCP_CHECK", 80, "TCP", 80, "TCP_CHECK {\n\(timing)        }"),
            ("HTTP_GET", 81, "TCP", 80,
                "HTTP_GET {\n            url {\n                path /\n                digest \(md5("rs1"))\n            }\n\(timing)        }"),
            ("SSL_GET", 443, "TCP", 443,
                "SSL_GET {\n            url {\n                path /\n                digest \(md5("secure"))\n            }\n            virtualhost www.lab.test\n            enable_sni\n\(timing)        }"),
            ("SMTP_CHECK", 25, "TCP", 25, "SMTP_CHECK {\n\(timing)        }"),
            ("DNS_CHECK", 53, "UDP", 53, "DNS_CHECK {\n            type A\n            name web.lab.test\n\(timing)        }"),
            ("UDP_CHECK", 7, "UDP", 7,
                "UDP_CHECK {\n            payload 70696e67\n            require_reply 4f4b70696e67\n\(timing)        }"),
            ("PING_CHECK", 82, "TCP", 80, "PING_CHECK {\n\(timing)        }"),
            ("MISC_CHECK", 83, "TCP", 80,
                "MISC_CHECK {\n            misc_path \"/usr/bin/test ! -e \(downFlag)\"\n            misc_timeout 2\n        }"),
            ("FILE_CHECK", 84, "TCP", 80, "FILE_CHECK {\n            track_file tracked\n            weight 0\n        }"),
        ]
        var config = """
            global_defs {
                router_id lb
                enable_script_security
                script_user root
            }
            track_file tracked {
                file \(trackedFile)
            }

            """
        for kind in kinds {
            config += """
                virtual_server \(BalancerLab.vip) \(kind.port) {
                    delay_loop 1
                    lb_algo rr
                    lb_kind NAT
                    protocol \(kind.proto)
                    alpha
                    real_server \(rs) \(kind.rsPort) {
                        \(kind.block)
                    }
                }

                """
        }
        try lab.startVigil(config: config)
        func state() -> [String: Bool] {
            var result = [String: Bool]()
            for kind in kinds { result[kind.name] = lab.destinations(port: kind.port) == ["\(rs):\(kind.rsPort)"] }
            return result
        }
        let allUp = Dictionary(uniqueKeysWithValues: kinds.map { ($0.name, true) })
        let allDown = Dictionary(uniqueKeysWithValues: kinds.map { ($0.name, false) })
        // alpha: down at first, up after the first check (1 s + up to one delay_loop of warm-up, plus the check).
        #expect(Lab.wait(timeout: .seconds(8)) { state() == allUp } != nil, "\(state())\n\(lab.ruleset)\n\(lab.log)")
        let sni = (try? String(contentsOfFile: sniFile, encoding: .utf8)) ?? ""
        #expect(sni == "www.lab.test", "SSL_GET sends the virtualhost as SNI: '\(sni)'")

        // Everything goes: services stopped, echo requests dropped, the flag and the file flipped.
        for name in ["http", "https", "udp", "smtp", "dns"] { lab.stopServer(name) }
        try lab.lab.run(rs1, [
            "nft", "add table inet noping; add chain inet noping input { type filter hook input priority 0; }; add rule inet noping input icmp type echo-request drop",
        ])
        try "".write(toFile: downFlag, atomically: true, encoding: .utf8)
        try "1\n".write(toFile: trackedFile, atomically: true, encoding: .utf8)
        // retry 0: one failed check (delay_loop 1 + connect_timeout 1) takes it down.
        #expect(Lab.wait(timeout: .seconds(5)) { state() == allDown } != nil, "\(state())\n\(lab.ruleset)\n\(lab.log)")
        // Down means a service that resets new connections, not a missing table.
        #expect(lab.ruleset.contains("tcp dport 84 reject with tcp reset"), "\(lab.ruleset)")

        try startServices()
        #expect(Lab.wait(timeout: .seconds(6)) { state() == allUp } != nil, "\(state())\n\(lab.ruleset)\n\(lab.log)")
        #expect(lab.vigil?.isRunning == true)
    }
}

/// MD5 of a string, as md5sum prints it.
func md5(_ text: String) -> String {
    let result = try? Command.run(["sh", "-c", "printf %s '\(text)' | md5sum"])
    return String(result?.output.prefix(32) ?? "")
}

extension CheckerTests {
    @Test("quorum: below it the sorry server alone serves and quorum_down runs; above quorum + hysteresis the pool returns")
    func quorumAndSorryServer() throws {
        let lab = try BalancerLab("lbquorum", servers: 4)
        defer { lab.close() }
        for server in ["rs1", "rs2", "rs3", "rs4"] { try lab.serve(server, ["http", lab.address(server), "80", server]) }
        let quorumLog = lab.lab.path("quorum.log")
        let script = try lab.lab.write("quorum.sh", "#!/bin/sh\necho \"$1\" >> \(quorumLog)\n")
        chmod(script, 0o755)
        var realServers = ""
        for server in ["rs1", "rs2", "rs3"] {
            realServers +=
                "    real_server \(lab.address(server)) 80 {\n        TCP_CHECK {\n            connect_timeout 1\n            retry 0\n        }\n    }\n"
        }
        // Asked for IPVS on a kernel without it, Vigil says so and balances with nftables.
        try lab.startVigil(
            config: """
                global_defs {
                    vigil_lb_backend ipvs
                }
                virtual_server \(BalancerLab.vip) 80 {
                    delay_loop 1
                    lb_algo rr
                    lb_kind NAT
                    protocol TCP
                    quorum 2
                    hysteresis 1
                    quorum_up "\(script) up"
                    quorum_down "\(script) down"
                    sorry_server \(lab.address("rs4")) 80
                \(realServers)}
                """)
        let pool: Set = ["198.51.100.11:80", "198.51.100.12:80", "198.51.100.13:80"]
        #expect(Lab.wait(timeout: .seconds(5)) { lab.destinations() == pool } != nil, "\(lab.ruleset)\n\(lab.log)")
        #expect(lab.log.contains("the kernel has no IPVS"), "\(lab.log)")
        // Weight 3 -> 2: not below quorum 2 - hysteresis 1; the pool shrinks.
        lab.stopServer("rs1")
        #expect(Lab.wait(timeout: .seconds(4)) { lab.destinations() == pool.subtracting(["198.51.100.11:80"]) } != nil)
        // Weight 2 -> 1: still not below 1... quorum holds at 1 = 2 - 1.
        lab.stopServer("rs2")
        #expect(Lab.wait(timeout: .seconds(4)) { lab.destinations() == ["198.51.100.13:80"] } != nil, "\(lab.ruleset)")
        // Weight 0: lost; the sorry server alone serves, and the client gets its answers.
        lab.stopServer("rs3")
        #expect(Lab.wait(timeout: .seconds(4)) { lab.destinations() == ["198.51.100.14:80"] } != nil, "\(lab.ruleset)")
        let sorry = try lab.requests(20)
        #expect(sorry == ["rs4": 20], "\(sorry)")
        // Back: weight 1, 2 is below quorum 2 + hysteresis 1 = 3, so the sorry server stays ...
        try lab.serve("rs1", ["http", lab.address("rs1"), "80", "rs1"])
        try lab.serve("rs2", ["http", lab.address("rs2"), "80", "rs2"])
        sleep(3)
        #expect(lab.destinations() == ["198.51.100.14:80"], "below quorum + hysteresis: \(lab.ruleset)")
        // ... until weight 3 gains the quorum.
        try lab.serve("rs3", ["http", lab.address("rs3"), "80", "rs3"])
        #expect(Lab.wait(timeout: .seconds(4)) { lab.destinations() == pool } != nil, "\(lab.ruleset)\n\(lab.log)")
        let log = Lab.wait(timeout: .seconds(3)) {
            ((try? String(contentsOfFile: quorumLog, encoding: .utf8)) ?? "") == "down\nup\n"
        }
        #expect(log != nil, "quorum scripts: \((try? String(contentsOfFile: quorumLog, encoding: .utf8)) ?? "")")
    }

    @Test("Hostile servers: an endless body, a 100 KB status line, garbage, silence and resets fail within the timeout")
    func hostileServers() throws {
        let lab = try BalancerLab("lbhostile", servers: 1)
        defer { lab.close() }
        let rs = "198.51.100.11"
        let modes = ["endless", "longstatus", "garbage", "silent", "reset"]
        for (index, mode) in modes.enumerated() {
            try lab.serve("rs1", ["hostile", rs, "\(8001 + index)", mode], name: mode)
        }
        var config = ""
        for index in modes.indices {
            // A digest makes the checker read the whole (endless) body.
            config += """
                virtual_server \(BalancerLab.vip) \(8001 + index) {
                    delay_loop 1
                    lb_algo rr
                    protocol TCP
                    real_server \(rs) \(8001 + index) {
                        HTTP_GET {
                            url {
                                path /
                                digest 00000000000000000000000000000000
                            }
                            connect_timeout 2
                            retry 0
                        }
                    }
                }

                """
        }
        try lab.startVigil(config: config)
        // Without alpha each starts up; the first check (1 s + warm-up up to delay_loop) fails within connect_timeout.
        let down = Lab.wait(timeout: .seconds(1 + 1 + 2 + 2)) {
            modes.indices.allSatisfy { lab.destinations(port: 8001 + $0).isEmpty }
                && lab.ruleset.contains("dport 8005 reject")
        }
        #expect(down != nil, "\(lab.ruleset)\n\(lab.log)")
        // Let the endless server push for a while: the checker's memory stays bounded and it keeps running.
        sleep(3)
        let pid = try String(contentsOfFile: lab.lab.path("lb-run/checkers.pid"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.flatMap {
            Int($0.split(separator: " ").dropFirst().first ?? "")
        } ?? 0
        #expect(rss > 0 && rss < 64 * 1024, "checker RSS \(rss) kB")
        #expect(lab.log.contains("longer than") || lab.log.contains("status line"), "\(lab.log)")
        #expect(lab.vigil?.isRunning == true)
        print("hostile servers: all down; checker RSS \(rss) kB")
    }
}

extension CheckerTests {
    @Test("reload: a failed real server stays out, the live ones never leave the ruleset, a new one comes in")
    func reloadKeepsState() throws {
        let lab = try BalancerLab("lbreload", servers: 4)
        defer { lab.close() }
        for server in ["rs1", "rs2", "rs3", "rs4"] { try lab.serve(server, ["http", lab.address(server), "80", server]) }
        // A VRRP instance too: its process serves the metrics, the checker's included.
        func config(_ servers: [String]) -> String {
            var text =
                "vrrp_instance VI_1 {\n    state MASTER\n    interface eth0\n    virtual_router_id 51\n    priority 150\n    virtual_ipaddress {\n        203.0.113.200/32\n    }\n}\n"
            text += "virtual_server \(BalancerLab.vip) 80 {\n    delay_loop 1\n    lb_algo rr\n    protocol TCP\n"
            for server in servers {
                text +=
                    "    real_server \(lab.address(server)) 80 {\n        TCP_CHECK {\n            connect_timeout 1\n            retry 0\n        }\n    }\n"
            }
            return text + "}\n"
        }
        try lab.startVigil(config: config(["rs1", "rs2", "rs3"]), arguments: ["--metrics", "127.0.0.1:9650"])
        let three: Set = ["198.51.100.11:80", "198.51.100.12:80", "198.51.100.13:80"]
        #expect(Lab.wait(timeout: .seconds(5)) { lab.destinations() == three } != nil, "\(lab.ruleset)\n\(lab.log)")
        lab.stopServer("rs2")
        #expect(Lab.wait(timeout: .seconds(4)) { lab.destinations() == three.subtracting(["198.51.100.12:80"]) } != nil)

        // The new file adds rs4; rs2 is still down, so it must not come back with the reload.
        try lab.lab.write("lb-vigil.conf", config(["rs1", "rs2", "rs3", "rs4"]))
        lab.vigil?.signal(SIGHUP)
        var seen = [Set<String>]()
        let settled = Lab.wait(timeout: .seconds(5), interval: .milliseconds(10)) {
            let now = lab.destinations()
            seen.append(now)
            return now == ["198.51.100.11:80", "198.51.100.13:80", "198.51.100.14:80"]
        }
        #expect(settled != nil, "\(lab.ruleset)\n\(lab.log)")
        #expect(seen.allSatisfy { $0.isSuperset(of: ["198.51.100.11:80", "198.51.100.13:80"]) }, "\(seen)")
        #expect(!seen.contains { $0.contains("198.51.100.12:80") }, "the failed server stayed out: \(seen)")
        #expect(lab.log.contains("Reloaded"), "\(lab.log)")
        var metrics = ""
        let published = Lab.wait(timeout: .seconds(3)) {
            metrics =
                (try? lab.lab.run(
                    lab.balancer,
                    ["/usr/bin/python3", "-c", "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9650/metrics').read().decode())"]
                ).output) ?? ""
            return metrics.contains("real_server=\"[198.51.100.14]:tcp:80\"} 1")
        }
        #expect(published != nil, "\(metrics)")
        #expect(metrics.contains("keepalived_vrrp_state{"), "the VRRP process's own metrics are there too: \(metrics)")
    }
}

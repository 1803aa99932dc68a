import Foundation
import Testing
import VigilTestSupport

/// keepalived's checker options on the real wire: the probe's source port and firewall mark, HTTP's protocol line
/// and `regex`, SMTP_CHECK `host` blocks, an SSL client key with a password, `ha_suspend` and `omega`.
@Suite("Checker options on the wire", .serialized, .enabled(if: TestLab.shouldRun))
struct CheckerOptionTests {
    @Test("bind_port and fwmark, http_protocol 1.1 and regex, SMTP hosts, an encrypted client key, ha_suspend, omega")
    func options() throws {
        let lab = try BalancerLab("lbopts", servers: 2)
        defer { lab.close() }
        let rs2 = lab.servers["rs2"]!
        let (address1, address2) = (lab.address("rs1"), lab.address("rs2"))
        let body = lab.lab.path("body.txt")
        let requests = lab.lab.path("requests.log")
        try "<html>status: ok</html>\n".write(toFile: body, atomically: true, encoding: .utf8)
        try lab.serve("rs1", ["httpfile", address1, "80", body, requests], name: "http")
        // A CA, a server certificate, and a client certificate whose key is encrypted.
        func openssl(_ arguments: [String]) throws { try Command.run(["openssl"] + arguments) }
        let ca = lab.lab.path("ca.pem")
        let caKey = lab.lab.path("ca-key.pem")
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-out", ca, "-days", "1", "-subj", "/CN=lab CA"])
        func issue(_ name: String, password: String?) throws -> (String, String) {
            let key = lab.lab.path("\(name)-key.pem")
            let request = lab.lab.path("\(name).csr")
            let certificate = lab.lab.path("\(name).pem")
            try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request, "-subj", "/CN=\(name)"])
            try openssl(["x509", "-req", "-in", request, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out", certificate, "-days", "1"])
            guard let password else { return (certificate, key) }
            let encrypted = lab.lab.path("\(name)-key.enc.pem")
            try openssl(["pkey", "-in", key, "-aes256", "-passout", "pass:\(password)", "-out", encrypted])
            return (certificate, encrypted)
        }
        let (serverCertificate, serverKey) = try issue("server", password: nil)
        let (clientCertificate, clientKey) = try issue("client", password: "s3cret")
        try lab.serve("rs2", ["httpsclient", address2, "443", "secure", serverCertificate, serverKey, ca], name: "https")
        try lab.serve("rs2", ["http", address2, "80", "rs2"], name: "http2")
        for (server, address) in [("rs1", address1), ("rs2", address2)] {
            lab.processes["smtp-\(server)"] = try lab.lab.start(
                lab.servers[server]!, ["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "\(address):25"], log: "smtp-\(server)")
        }
        // Checks leaving the balancer with source port 5555 and mark 7; SYNs reaching rs2's port 80.
        try lab.lab.run(
            lab.balancer,
            ["nft", "add table inet probe; add chain inet probe out { type filter hook output priority 0; }; add rule inet probe out tcp sport 5555 meta mark 7 counter"])
        try lab.lab.run(
            rs2,
            ["nft", "add table inet probe; add chain inet probe in { type filter hook input priority 0; }; add rule inet probe in tcp dport 80 tcp flags syn counter"])
        func counter(_ namespace: String) -> Int {
            let output = (try? lab.lab.run(namespace, ["nft", "list", "table", "inet", "probe"]).output) ?? ""
            guard let range = output.range(of: "packets ") else { return -1 }
            return Int(output[range.upperBound...].prefix { $0.isNumber }) ?? -1
        }
        let omegaLog = lab.lab.path("omega.log")
        let notify = try lab.lab.write("omega.sh", "#!/bin/sh\necho \"$1\" >> \(omegaLog)\n")
        chmod(notify, 0o755)
        let timing = "            connect_timeout 1\n            retry 0\n"
        func server(_ port: Int, _ real: String, _ realPort: Int, _ checker: String, extra: String = "", address: String = BalancerLab.vip) -> String {
            """
            virtual_server \(address) \(port) {
                delay_loop 1
                lb_algo rr
                lb_kind NAT
                protocol TCP
                alpha
            \(extra)
                real_server \(real) \(realPort) {
                    \(checker)
                }
            }

            """
        }
        let config =
            """
            global_defs {
                router_id lb
                script_user root
            }
            SSL {
                ca \(ca)
                certificate \(clientCertificate)
                key \(clientKey)
                password s3cret
            }

            """
            + server(80, address1, 80, "TCP_CHECK {\n            bind_port 5555\n            fwmark 7\n\(timing)        }")
            + server(81, address1, 80, "HTTP_GET {\n            http_protocol 1.1\n            url {\n                path /\n                regex \"status: (ok|fine)\"\n            }\n\(timing)        }")
            + server(82, address1, 80, "HTTP_GET {\n            url {\n                path /\n                regex maintenance\n                regex_no_match\n            }\n\(timing)        }")
            + server(25, address1, 25, "SMTP_CHECK {\n\(timing)            host {\n                connect_ip \(address1)\n            }\n            host {\n                connect_ip \(address2)\n            }\n        }")
            + server(443, address2, 443, "SSL_GET {\n            url {\n                path /\n                status_code 200\n            }\n\(timing)        }")
            + server(8080, address2, 80, "TCP_CHECK {\n\(timing)        }", extra: "    ha_suspend", address: "203.0.113.101")
            + server(84, address2, 80, "TCP_CHECK {\n\(timing)        }\n            notify_down \"\(notify) rs-down\"", extra: "    omega\n    quorum_down \"\(notify) quorum-down\"")
        try lab.startVigil(config: config)
        func up(_ port: Int) -> Bool { !lab.destinations(port: port).isEmpty }
        let ports = [80, 81, 82, 25, 443, 84]
        #expect(
            Lab.wait(timeout: .seconds(10)) { ports.allSatisfy(up) } != nil,
            "\(ports.map { "\($0): \(up($0))" })\n\(lab.ruleset)\n\(lab.log)")
        #expect(counter(lab.balancer) > 0, "TCP_CHECK left from port 5555 with mark 7: \(lab.ruleset)")
        let heads = (try? String(contentsOfFile: requests, encoding: .utf8)) ?? ""
        #expect(heads.contains("GET / HTTP/1.1") && heads.contains("Connection: close"), "\(heads)")
        #expect(heads.contains("GET / HTTP/1.0"), "the other HTTP_GET keeps keepalived's default: \(heads)")

        // regex: the body changes; the one that needs a match goes, the one that must not match goes when it does.
        try "<html>status: broken, maintenance</html>\n".write(toFile: body, atomically: true, encoding: .utf8)
        #expect(Lab.wait(timeout: .seconds(5)) { !up(81) && !up(82) } != nil, "\(lab.log)")
        try "<html>status: fine</html>\n".write(toFile: body, atomically: true, encoding: .utf8)
        // Back after the failed URL passes and then the whole (one-URL) pass: two checks, as keepalived.
        #expect(Lab.wait(timeout: .seconds(8)) { up(81) && up(82) } != nil, "\(lab.log)")

        // SMTP hosts: both are checked; the second going takes the real server out.
        lab.stopServer("smtp-rs2")
        #expect(Lab.wait(timeout: .seconds(5)) { !up(25) } != nil, "\(lab.log)")

        // ha_suspend: nothing reaches rs2's port 80 from the suspended virtual server until its address is here.
        #expect(lab.log.contains("Deactivating healthchecker for service [\(address2)]:tcp:80 for VS [203.0.113.101]:tcp:8080"), "\(lab.log)")
        let before = counter(rs2)
        sleep(3)
        let whileSuspended = counter(rs2) - before
        try lab.lab.run(lab.balancer, ["ip", "addr", "add", "203.0.113.101/32", "dev", "eth0"])
        #expect(Lab.wait(timeout: .seconds(5)) { lab.log.contains("Activating healthchecker for service [\(address2)]:tcp:80 for VS [203.0.113.101]:tcp:8080") } != nil)
        let activated = counter(rs2)
        sleep(3)
        // Only VS 84's checker (one a second) reaches rs2:80 while suspended; the activated one adds its own.
        #expect(counter(rs2) - activated >= whileSuspended + 2, "suspended: \(whileSuspended), active: \(counter(rs2) - activated)")

        // omega: stopping runs the live real server's notify_down and the quorum_down.
        lab.vigil?.stop(signal: SIGTERM, timeout: .seconds(10))
        let notified = (try? String(contentsOfFile: omegaLog, encoding: .utf8)) ?? ""
        #expect(notified.split(separator: "\n").sorted() == ["quorum-down", "rs-down"], "'\(notified)'\n\(lab.log)")
    }
}

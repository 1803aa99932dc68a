import Foundation
import Testing
import VigilTestSupport

/// Health-driven anycast: three nodes announce one service address to two FRR routers over eBGP while they are
/// healthy; the routers spread flows over them (ECMP). Each node's Vigil holds the address on an interface of its
/// own with a plain keepalived `vrrp_instance` (its `track_script` says whether the service is healthy) and runs BFD
/// sessions to both routers, which protect the routers' BGP sessions with the node. Nodes n1 and n2 export the
/// address with FRR's bgpd (`redistribute connected`), n3 with BIRD 2 (`protocol direct`).
///
///     client 198.51.100.130 ── .129 r1 ──┐
///                                        ├── br0 198.51.100.0/25: r1 .1, r2 .2, n1 .11, n2 .12, n3 .13
///                                   r2 ──┘
///     service address 203.0.113.100/32 on every healthy node's anycast0
final class AnycastLab {
    static let service = "203.0.113.100"
    let lab: Lab
    let hub: String
    let client: String
    var namespaces: [String: String] = [:]
    var vigils: [String: BackgroundProcess] = [:]
    let nodes = ["n1", "n2", "n3"]

    init(_ name: String) throws {
        lab = try TestLab.open(name)
        hub = try lab.namespace("hub")
        try lab.bridge("br0", in: hub)
        client = try lab.namespace("client")
        for (index, router) in ["r1", "r2"].enumerated() {
            let namespace = try lab.namespace(router)
            namespaces[router] = namespace
            try lab.connect(namespace, to: "br0", in: hub, port: "p\(router)", addresses: ["198.51.100.\(index + 1)/25"])
            try Lab.writeSysctl(in: namespace, "net/ipv4/ip_forward", "1")
            // Flows by ports too, so one client's flows spread over the nodes.
            try Lab.writeSysctl(in: namespace, "net/ipv4/fib_multipath_hash_policy", "1")
        }
        try lab.veth("eth1", in: namespaces["r1"]!, peer: "eth0", in: client)
        try lab.run(namespaces["r1"]!, ["ip", "addr", "add", "198.51.100.129/25", "dev", "eth1"])
        try lab.run(namespaces["r1"]!, ["ip", "link", "set", "eth1", "up"])
        try lab.run(client, ["ip", "addr", "add", "198.51.100.130/25", "dev", "eth0"])
        try lab.run(client, ["ip", "link", "set", "eth0", "up"])
        try lab.run(client, ["ip", "route", "add", "\(Self.service)/32", "via", "198.51.100.129"])
        for (index, node) in nodes.enumerated() {
            let namespace = try lab.namespace(node)
            namespaces[node] = namespace
            try lab.connect(namespace, to: "br0", in: hub, port: "p\(node)", addresses: ["198.51.100.\(11 + index)/25"])
            // A veth pair whose both ends stay in the node stands for a dummy interface (this kernel has no dummy
            // driver): it has a carrier and a MAC, and what the VRRP instance sends on it goes nowhere.
            try lab.run(namespace, ["ip", "link", "add", "anycast0", "type", "veth", "peer", "name", "anycast1"])
            try lab.run(namespace, ["ip", "link", "set", "anycast0", "up"])
            try lab.run(namespace, ["ip", "link", "set", "anycast1", "up"])
            // The VRRP instance needs an IPv4 address on its interface to send from, as keepalived's does.
            try lab.run(namespace, ["ip", "addr", "add", "198.51.100.\(21 + index)/32", "dev", "anycast0"])
            try lab.run(namespace, ["ip", "route", "add", "198.51.100.128/25", "via", "198.51.100.1"])
        }
        try? FileManager.default.createDirectory(atPath: lab.path("frr"), withIntermediateDirectories: true)
    }

    func address(_ name: String) -> String {
        switch name {
        case "r1": "198.51.100.1"
        case "r2": "198.51.100.2"
        default: "198.51.100.1\(name.dropFirst())"
        }
    }

    /// Starts FRR daemons (zebra first) in a namespace, each with its own files under `frr/NAME`.
    func startFRR(_ name: String, daemons: [(String, String)]) throws {
        let directory = lab.path("frr/\(name)")
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (daemon, config) in daemons { _ = try lab.write("frr/\(name)/\(daemon).conf", config) }
        _ = try? Command.run(["chown", "-R", "frr:frr", lab.path("frr")])
        _ = try? Command.run(["chmod", "755", lab.path("")])
        for (daemon, _) in daemons {
            var arguments = [
                "/usr/lib/frr/\(daemon)", "-f", "\(directory)/\(daemon).conf", "-i", "\(directory)/\(daemon).pid",
                "--vty_socket", directory, "-z", "\(directory)/zserv.api", "--log", "stdout", "-u", "frr", "-g", "frr",
            ]
            if daemon == "bfdd" { arguments += ["--bfdctl", "\(directory)/bfdd.sock"] }
            _ = try lab.start(namespaces[name]!, arguments, log: "\(name)-\(daemon)")
            if daemon == "zebra" {
                _ = Lab.wait(timeout: .seconds(5)) { FileManager.default.fileExists(atPath: "\(directory)/zserv.api") }
            }
        }
    }

    func vtysh(_ name: String, _ command: String) -> String {
        (try? Command.run(["vtysh", "--vty_socket", lab.path("frr/\(name)"), "-c", command], check: false).output) ?? ""
    }

    func startRouter(_ name: String) throws {
        let neighbors = nodes.map { node in
            " neighbor \(address(node)) peer-group NODES\n"
        }.joined()
        try startFRR(
            name,
            daemons: [
                ("zebra", "hostname \(name)\n"),
                (
                    "bfdd",
                    "bfd\n profile fast\n  receive-interval 30\n  transmit-interval 30\n  detect-multiplier 5\n !\n!\n"
                ),
                (
                    "bgpd",
                    """
                    hostname \(name)
                    router bgp 65000
                     bgp router-id \(address(name))
                     no bgp ebgp-requires-policy
                     bgp bestpath as-path multipath-relax
                     neighbor NODES peer-group
                     neighbor NODES remote-as external
                     neighbor NODES bfd
                     neighbor NODES bfd profile fast
                     neighbor NODES timers 3 9
                     neighbor NODES timers connect 1
                     neighbor NODES advertisement-interval 0
                    \(neighbors) address-family ipv4 unicast
                      maximum-paths 8
                     exit-address-family
                    !

                    """
                ),
            ])
    }

    /// A node's routing daemon: FRR's bgpd exporting connected routes in the service range, or BIRD 2 exporting
    /// the `direct` routes of anycast0.
    func startNodeRouting(_ node: String, bird: Bool) throws {
        let asn = 65000 + Int(node.dropFirst())!
        if bird {
            let config = """
                router id \(address(node));
                protocol device { scan time 10; }
                protocol direct { ipv4; interface "anycast0"; }
                template bgp routers {
                    local \(address(node)) as \(asn);
                    connect retry time 1;
                    hold time 9;
                    ipv4 {
                        import none;
                        # Origin IGP as FRR's nodes set it: the routers spread only over equal paths.
                        export filter { if net ~ [ 203.0.113.0/24{32,32} ] then { bgp_origin = ORIGIN_IGP; accept; } reject; };
                    };
                }
                protocol bgp r1 from routers { neighbor 198.51.100.1 as 65000; }
                protocol bgp r2 from routers { neighbor 198.51.100.2 as 65000; }

                """
            let path = try lab.write("\(node)-bird.conf", config)
            _ = try lab.start(
                namespaces[node]!,
                ["/usr/sbin/bird", "-f", "-c", path, "-s", lab.path("\(node)-bird.ctl"), "-P", lab.path("\(node)-bird.pid")],
                log: "\(node)-bird")
        } else {
            try startFRR(
                node,
                daemons: [
                    ("zebra", "hostname \(node)\n"),
                    (
                        "bgpd",
                        """
                        hostname \(node)
                        ip prefix-list SERVICE seq 5 permit 203.0.113.0/24 ge 32
                        route-map SERVICE permit 10
                         match ip address prefix-list SERVICE
                         set origin igp
                        !
                        router bgp \(asn)
                         bgp router-id \(address(node))
                         no bgp ebgp-requires-policy
                         neighbor 198.51.100.1 remote-as 65000
                         neighbor 198.51.100.2 remote-as 65000
                         neighbor 198.51.100.1 timers connect 1
                         neighbor 198.51.100.2 timers connect 1
                         neighbor 198.51.100.1 advertisement-interval 0
                         neighbor 198.51.100.2 advertisement-interval 0
                         address-family ipv4 unicast
                          redistribute connected route-map SERVICE
                         exit-address-family
                        !

                        """
                    ),
                ])
        }
    }

    /// The node's keepalived.conf: the service address on anycast0 while the health flag exists, and BFD to both
    /// routers (which their BGP sessions follow).
    func vigilConfig(_ node: String) -> String {
        """
        vrrp_script service {
            script "/usr/bin/test -f \(lab.path("\(node)-healthy"))"
            interval 1
            fall 1
            rise 1
        }
        bfd_instance r1 {
            neighbor_ip 198.51.100.1
            source_ip \(address(node))
            min_rx 30
            min_tx 30
            multiplier 5
        }
        bfd_instance r2 {
            neighbor_ip 198.51.100.2
            source_ip \(address(node))
            min_rx 30
            min_tx 30
            multiplier 5
        }
        vrrp_instance anycast {
            state MASTER
            interface anycast0
            virtual_router_id 1
            priority 100
            advert_int 1
            virtual_ipaddress {
                \(Self.service)/32
            }
            track_script {
                service
            }
        }

        """
    }

    func startVigil(_ node: String) throws {
        let path = try lab.write("\(node)-vigil.conf", vigilConfig(node))
        let runtime = lab.path("\(node)-run")
        try? FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        vigils[node] = try lab.start(
            namespaces[node]!, [try Package.vigilBinary(), "-n", "-l", "-f", path, "--runtime-dir", runtime],
            log: "\(node)-vigil")
    }

    func setHealthy(_ node: String, _ healthy: Bool) {
        let path = lab.path("\(node)-healthy")
        if healthy { _ = FileManager.default.createFile(atPath: path, contents: Data()) } else {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// Starts a UDP responder on a node: it answers every datagram on port 7000 with the node's name.
    func startResponder(_ node: String) throws {
        _ = try lab.start(
            namespaces[node]!,
            [
                "/usr/bin/python3", "-c",
                "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('0.0.0.0',7000))\nwhile True:\n d,a=s.recvfrom(100)\n s.sendto(b'\(node)',a)",
            ], log: "\(node)-responder")
    }

    /// The nodes a router's kernel forwards the service address to now.
    func nextHops(_ router: String) -> Set<String> {
        let output = (try? lab.run(namespaces[router]!, ["ip", "-j", "route", "show", "\(Self.service)/32"], check: false).output) ?? ""
        guard let routes = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]],
            let route = routes.first
        else { return [] }
        var gateways = Set<String>()
        if let gateway = route["gateway"] as? String { gateways.insert(gateway) }
        for hop in route["nexthops"] as? [[String: Any]] ?? [] {
            if let gateway = hop["gateway"] as? String { gateways.insert(gateway) }
        }
        return Set(nodes.filter { gateways.contains(address($0)) })
    }

    /// `count` flows from the client, one source port each: which node answered how many.
    func flows(_ count: Int) -> [String: Int] {
        let script = """
            import socket, json
            seen = {}
            for i in range(\(count)):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.settimeout(0.3)
                s.sendto(b'?', ('\(Self.service)', 7000))
                try:
                    name = s.recv(100).decode()
                except OSError:
                    name = 'none'
                seen[name] = seen.get(name, 0) + 1
                s.close()
            print(json.dumps(seen))
            """
        let output = (try? lab.run(client, ["/usr/bin/python3", "-c", script]).output) ?? "{}"
        return (try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Int]) ?? [:]
    }

    /// The machine is gone: its bridge port goes down first (so no TCP FIN or RST tells the routers anything), then
    /// every process of it is killed.
    func kill(_ node: String) {
        _ = try? lab.run(hub, ["ip", "link", "set", "p\(node)", "down"])
        let list = (try? Command.run(["ip", "netns", "pids", namespaces[node]!]).output) ?? ""
        for pid in list.split(separator: "\n").compactMap({ Int32($0) }) { Glibc.kill(pid, SIGKILL) }
    }

    func close() {
        for vigil in vigils.values { vigil.stop(signal: SIGTERM, timeout: .seconds(10)) }
        lab.close()
    }
}

@Suite("Anycast through FRR and BIRD", .serialized, .enabled(if: TestLab.shouldRun))
struct AnycastTests {
    /// Polls every 10 ms until `condition` holds; how long that took.
    static func measure(timeout: Duration, _ condition: () -> Bool) -> Duration? {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < timeout {
            if condition() { return clock.now - start }
            usleep(10_000)
        }
        return nil
    }

    @Test("healthy nodes get the flows; a failed service is withdrawn within its script's bound, a killed node within BFD's detection (far below BGP's hold time); a stopped Vigil withdraws; a node back is back")
    func anycast() throws {
        let lab = try AnycastLab("anycast")
        defer { lab.close() }
        for router in ["r1", "r2"] { try lab.startRouter(router) }
        for node in lab.nodes {
            lab.setHealthy(node, true)
            try lab.startNodeRouting(node, bird: node == "n3")
            try lab.startResponder(node)
            try lab.startVigil(node)
        }
        let all: Set = ["n1", "n2", "n3"]
        #expect(
            Lab.wait(timeout: .seconds(20)) { lab.nextHops("r1") == all && lab.nextHops("r2") == all } != nil,
            "both routers spread the service over the three nodes: r1 \(lab.nextHops("r1")), r2 \(lab.nextHops("r2"))\n\(lab.vtysh("r1", "show bgp summary"))\n\(lab.vtysh("r1", "show bfd peers brief"))\n\(lab.vigils["n1"]?.log ?? "")\n\((try? lab.lab.run(lab.namespaces["n1"]!, ["ip", "addr"]).output) ?? "")\n\(lab.vtysh("n1", "show ip route"))"
        )
        #expect(lab.vtysh("r1", "show bfd peers brief").components(separatedBy: " up ").count - 1 >= 3,
            "BFD up with every node: \(lab.vtysh("r1", "show bfd peers brief"))")
        var seen = lab.flows(60)
        #expect(Set(seen.keys) == all, "flows reach every node: \(seen)")

        // The service on n2 fails: its tracked script fails within 1 s (interval 1, fall 1), the instance goes
        // FAULT and drops the address, bgpd withdraws it.
        lab.setHealthy("n2", false)
        let withdrawn = Self.measure(timeout: .seconds(5)) { lab.nextHops("r1") == ["n1", "n3"] }
        #expect(withdrawn != nil && withdrawn! <= .milliseconds(2500), "n2 withdrawn after \(String(describing: withdrawn))")
        seen = lab.flows(60)
        #expect(Set(seen.keys) == ["n1", "n3"], "flows reach only healthy nodes: \(seen)")

        // n3 (BIRD) dies whole, without a word on the wire: the routers' BFD sessions with its Vigil go down after 5 × 30 ms and take the BGP
        // session with them; without BFD the routers would wait for BGP's 9 s hold time. (30 ms, not 10: FRR's
        // bfdd runs at normal priority beside ten routing daemons on two cores.)
        lab.kill("n3")
        let killed = Self.measure(timeout: .seconds(9)) { lab.nextHops("r1") == ["n1"] && lab.nextHops("r2") == ["n1"] }
        #expect(killed != nil && killed! <= .milliseconds(1000), "n3 withdrawn after \(String(describing: killed))")
        seen = lab.flows(30)
        #expect(Set(seen.keys) == ["n1"], "\(seen)")

        // n2 healthy again: its script passes within an interval (1 s), and the instance, leaving FAULT through
        // BACKUP as keepalived's does, takes the address after its Master_Down_Interval (3.61 s).
        lab.setHealthy("n2", true)
        let back = Self.measure(timeout: .seconds(8)) { lab.nextHops("r1") == ["n1", "n2"] }
        #expect(back != nil && back! <= .milliseconds(5600), "n2 back after \(String(describing: back))")

        // Vigil stopped on n1 (SIGTERM): it removes the address on its way out, so n1 is withdrawn.
        lab.vigils["n1"]?.stop(signal: SIGTERM, timeout: .seconds(10))
        let stopped = Self.measure(timeout: .seconds(9)) { lab.nextHops("r1") == ["n2"] }
        #expect(stopped != nil && stopped! <= .milliseconds(1500), "n1 withdrawn on stop after \(String(describing: stopped))")
        print(
            "Anycast convergence (r1's kernel route): service failed \(withdrawn.map { "\($0)" } ?? "-"), node killed \(killed.map { "\($0)" } ?? "-"), service back \(back.map { "\($0)" } ?? "-"), Vigil stopped \(stopped.map { "\($0)" } ?? "-")"
        )
    }
}

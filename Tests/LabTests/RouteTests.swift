import Foundation
import Testing
import VigilTestSupport

/// Virtual and static routes, rules and addresses on the real kernel: what keepalived 2.2.7 installs for a file,
/// Vigil installs for the same file, and both leave the kernel as they found it.
@Suite("Routes, rules and static addresses", .serialized, .enabled(if: TestLab.shouldRun))
struct RouteTests {
    static let config = """
        global_defs {
            router_id routes
        }
        static_ipaddress {
            192.0.2.50/24 dev eth1
            2001:db8:50::1/64 dev eth1
        }
        static_routes {
            10.50.0.0/16 via 192.0.2.254 dev eth1 metric 50
            blackhole 10.51.0.0/16 table 200
            2001:db8:51::/48 via 2001:db8::254 dev eth0 pref high
        }
        static_rules {
            from 10.50.0.0/16 table 200 preference 500
            to 10.52.0.0/16 iif eth1 table 200 preference 501 no_track protocol 4
        }
        vrrp_instance VI_1 {
            state MASTER
            interface eth0
            virtual_router_id 51
            priority 255
            advert_int 1
            virtual_ipaddress {
                198.51.100.100/24
            }
            virtual_ipaddress_excluded {
                2001:db8::100/64
            }
            virtual_routes {
                10.60.0.0/16 via 198.51.100.254 dev eth0 src 198.51.100.100 metric 10 table 100
                10.61.0.0/16 dev eth1 scope link
                unreachable 10.62.0.0/16 table 100
                prohibit 10.63.0.0/16
                10.64.0.0/16 via 198.51.100.254 dev eth0 mtu lock 1400 advmss 1360 initcwnd 10 no_track protocol static
                10.65.0.0/16 nexthop via 198.51.100.253 dev eth0 weight 2 nexthop via 198.51.100.254 dev eth0
                10.66.0.0/16 via 192.0.2.254 dev eth1 onlink tos 0x10 realms 1/2
                2001:db8:60::/48 via 2001:db8::254 dev eth0 metric 1024
                default via 198.51.100.254 dev eth0 table 101
            }
            virtual_rules {
                from 198.51.100.100 table 100 preference 100
                to 10.70.0.0/16 table 100 preference 101 fwmark 0x10/0xff
                from all iif eth1 table 101 preference 102
                from 10.71.0.0/16 not table 100 preference 103
                from 10.72.0.0/16 preference 104 goto 110
                to 10.73.0.0/16 preference 105 blackhole
                from all ipproto tcp dport 80-90 sport 1024-2048 preference 106 table 100
                uidrange 1000-2000 preference 107 table 100
                from all table main suppress_prefixlength 0 preference 108
                from 2001:db8::100 table 100 preference 109
                from all oif eth1 table 101 preference 111 no_track
                from 10.74.0.0/16 preference 112 table 100 tos 0x10
                from 10.75.0.0/16 preference 113 prohibit
                from 10.76.0.0/16 preference 114 unreachable
                from 10.77.0.0/16 preference 115 nop
                from all fwmark 5 table 100
            }
        }

        """

    /// Everything a daemon can change: routes of every table, rules, addresses (lifetimes and DAD state left out).
    static func kernelState(_ lab: VRRPLab, _ node: String) throws -> String {
        let namespace = lab.namespace(node)
        var lines = [String]()
        for family in ["-4", "-6"] {
            lines += try lab.lab.run(namespace, ["ip", family, "route", "show", "table", "all"]).output
                .split(separator: "\n").map { "route \(family) \($0)" }
            lines += try lab.lab.run(namespace, ["ip", family, "rule", "show"]).output
                .split(separator: "\n").map { "rule \(family) \($0)" }
            lines += try lab.lab.run(namespace, ["ip", "-o", family, "addr", "show"]).output
                .split(separator: "\n").map { line in
                    "address \(family) " + line.replacingOccurrences(of: "\\", with: "")
                        .split(separator: " ").prefix { $0 != "valid_lft" }.filter { $0 != "tentative" }
                        .joined(separator: " ")
                }
        }
        return lines.filter { !$0.contains("fe80::") && !$0.contains("ff00::/8") }.sorted().joined(separator: "\n")
    }

    static func startNode(_ name: String) throws -> VRRPLab {
        let lab = try VRRPLab(name, nodes: 1)
        let n1 = lab.namespace("n1")
        try lab.lab.veth("eth1", in: n1, peer: "q1", in: lab.hub)
        try lab.lab.run(n1, ["ip", "addr", "add", "192.0.2.1/24", "dev", "eth1"])
        return lab
    }

    @Test("the same file installs the same routes, rules and static addresses as keepalived 2.2.7, and stop removes them")
    func sameAsKeepalived() throws {
        let lab = try Self.startNode("routes")
        defer { lab.close() }
        let before = try Self.kernelState(lab, "n1")
        var installed = [String: String]()
        for daemon in ["keepalived", "vigil"] {
            if daemon == "vigil" {
                try lab.startVigil("n1", config: Self.config)
            } else {
                try lab.startKeepalived("n1", config: Self.config)
            }
            #expect(
                lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(5)) != nil, "\(daemon)\n\(lab.log("n1"))")
            // The last thing either adds is the last rule: wait for it.
            _ = Lab.wait(timeout: .seconds(3)) {
                (try? lab.lab.run(lab.namespace("n1"), ["ip", "rule", "show"]).output.contains("16384:")) == true
            }
            sleep(1)
            installed[daemon] = try Self.kernelState(lab, "n1")
            let log = lab.log("n1")
            lab.stop("n1")
            let after = try Self.kernelState(lab, "n1")
            #expect(after == before, "\(daemon) leaves the kernel as it found it\n\(Self.difference(before, after))\n\(log)")
        }
        let keepalived = installed["keepalived"] ?? ""
        let vigil = installed["vigil"] ?? ""
        #expect(keepalived.contains("10.65.0.0/16"), "keepalived installed the routes:\n\(keepalived)")
        #expect(vigil == keepalived, "\(Self.difference(keepalived, vigil))")
    }

    static func lifecycleConfig(priority: Int, routes: [String]) -> String {
        """
        static_routes {
            10.50.0.0/16 via 192.0.2.254 dev eth1
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            virtual_router_id 52
            priority \(priority)
            advert_int 1
            virtual_ipaddress {
                198.51.100.100/24
            }
            virtual_routes {
        \(routes.map { "        " + $0 }.joined(separator: "\n"))
            }
            virtual_rules {
                from 198.51.100.100 table 100 preference 100
            }
        }

        """
    }

    static func routes(_ lab: VRRPLab, _ node: String) -> String {
        let output = (try? lab.lab.run(lab.namespace(node), ["ip", "route", "show", "table", "all", "proto", "keepalived"]).output) ?? ""
        let rules = (try? lab.lab.run(lab.namespace(node), ["ip", "rule", "show"]).output) ?? ""
        return output + rules
    }

    @Test("virtual routes and rules only while MASTER, static ones always; a reload moves only what changed; the route's interface going down faults the instance, coming up brings the static route back")
    func lifecycle() throws {
        let lab = try Self.startNode("routelife")
        defer { lab.close() }
        try lab.addNode(2)
        let n1 = lab.namespace("n1")
        let first = ["10.60.0.0/16 via 198.51.100.254 dev eth0", "10.61.0.0/16 dev eth1 scope link"]
        try lab.startVigil("n2", config: vrrpConfig(priority: 200, vrid: 52))
        #expect(lab.waitForHolder("n2", of: "198.51.100.100", timeout: .seconds(5)) != nil, "\(lab.log("n2"))")
        let monitor = try lab.lab.start(n1, ["ip", "monitor", "route"], log: "route-monitor")
        try lab.startVigil("n1", config: Self.lifecycleConfig(priority: 100, routes: first))
        #expect(
            Lab.wait(timeout: .seconds(3)) { Self.routes(lab, "n1").contains("10.50.0.0/16") } != nil,
            "the static route is there whatever the state\n\(lab.log("n1"))")
        sleep(4)
        var now = Self.routes(lab, "n1")
        #expect(!now.contains("10.60.0.0/16") && !now.contains("lookup 100"), "BACKUP: no virtual route or rule\n\(now)")

        lab.stop("n2")
        #expect(lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(5)) != nil, "\(lab.log("n1"))")
        #expect(
            Lab.wait(timeout: .seconds(2)) { Self.routes(lab, "n1").contains("lookup 100") } != nil,
            "MASTER: the virtual routes and rules\n\(Self.routes(lab, "n1"))")
        now = Self.routes(lab, "n1")
        #expect(now.contains("10.60.0.0/16") && now.contains("10.61.0.0/16"), "\(now)")

        // Reload: 10.61 goes, 10.62 comes, 10.60 stays where it is.
        try Self.lifecycleConfig(
            priority: 100, routes: [first[0], "10.62.0.0/16 via 198.51.100.254 dev eth0"]
        ).write(toFile: lab.lab.path("n1-vigil.conf"), atomically: true, encoding: .utf8)
        lab.daemons["n1"]?.signal(SIGHUP)
        #expect(
            Lab.wait(timeout: .seconds(3)) { Self.routes(lab, "n1").contains("10.62.0.0/16") } != nil,
            "\(lab.log("n1"))")
        now = Self.routes(lab, "n1")
        #expect(!now.contains("10.61.0.0/16") && now.contains("10.60.0.0/16"), "\(now)")
        let events = monitor.log.split(separator: "\n").filter { $0.contains("10.60.0.0/16") }
        #expect(events.count == 1 && !events[0].hasPrefix("Deleted"), "the kept route never left: \(events)")

        // eth1 carries a virtual route: down puts the instance in FAULT (and takes the kernel's static route
        // with it); up brings the instance back, and Vigil puts the static route back.
        try lab.lab.run(n1, ["ip", "link", "set", "eth1", "down"])
        #expect(
            Lab.wait(timeout: .seconds(3)) { !lab.lab.holds(n1, "198.51.100.100") } == nil,
            "no route names eth1 after the reload: it is not tracked\n\(lab.log("n1"))")
        try lab.lab.run(n1, ["ip", "link", "set", "eth1", "up"])
        #expect(
            Lab.wait(timeout: .seconds(3)) { Self.routes(lab, "n1").contains("10.50.0.0/16") } != nil,
            "the static route is back with its link\n\(Self.routes(lab, "n1"))")
        try Self.lifecycleConfig(priority: 100, routes: first).write(
            toFile: lab.lab.path("n1-vigil.conf"), atomically: true, encoding: .utf8)
        lab.daemons["n1"]?.signal(SIGHUP)
        #expect(Lab.wait(timeout: .seconds(3)) { Self.routes(lab, "n1").contains("10.61.0.0/16") } != nil)
        try lab.lab.run(n1, ["ip", "link", "set", "eth1", "down"])
        #expect(
            Lab.wait(timeout: .seconds(3)) { !lab.lab.holds(n1, "198.51.100.100") } != nil,
            "a route on eth1 tracks it: FAULT\n\(lab.log("n1"))")
        now = Self.routes(lab, "n1")
        #expect(!now.contains("lookup 100") && !now.contains("10.60.0.0/16"), "FAULT: virtual routes gone\n\(now)")
        try lab.lab.run(n1, ["ip", "link", "set", "eth1", "up"])
        #expect(lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(5)) != nil, "\(lab.log("n1"))")
        lab.stop("n1")
        now = Self.routes(lab, "n1")
        #expect(!now.contains("proto keepalived"), "stop removes everything\n\(now)")
    }

    static func difference(_ a: String, _ b: String) -> String {
        let left = Set(a.split(separator: "\n"))
        let right = Set(b.split(separator: "\n"))
        return (left.subtracting(right).sorted().map { "- \($0)" } + right.subtracting(left).sorted().map { "+ \($0)" })
            .joined(separator: "\n")
    }
}

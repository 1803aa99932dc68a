import Testing

@testable import VigilConfig

/// Files of an in-memory /etc/iproute2, for name lookups.
struct NamesFileSystem: ConfigFileSystem {
    var files: [String: String]
    func contents(of path: String) throws(ConfigFileError) -> [UInt8] {
        guard let text = files[path] else { throw .notFound }
        return Array(text.utf8)
    }
    func glob(_ pattern: String) -> [String] { [] }
    func canonicalPath(_ path: String) -> String? { nil }
    func currentDirectory() -> String { "/" }
}

/// keepalived 2.2.7's grammar for `virtual_routes`, `static_routes`, `virtual_rules` and `static_rules`.
@Suite("Routes and rules: keepalived's grammar")
struct RouteConfigTests {
    func routes(_ items: [String], virtual: Bool = true) -> ConfigLoader.Result {
        let block = virtual ? "virtual_routes" : "static_routes"
        let body = items.map { "        \($0)" }.joined(separator: "\n")
        let text =
            virtual
            ? "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress {\n        192.0.2.1\n    }\n    \(block) {\n\(body)\n    }\n}\n"
            : "\(block) {\n\(body)\n}\n"
        return load(text)
    }

    func rules(_ items: [String]) -> ConfigLoader.Result {
        let body = items.map { "    \($0)" }.joined(separator: "\n")
        return load("static_rules {\n\(body)\n}\n")
    }

    @Test("every option is read as the kernel is told it")
    func routeOptions() throws {
        let result = routes([
            "10.60.0.0/16 via 198.51.100.254 dev eth0 src 198.51.100.100 metric 10 table 100 tos 0x10 onlink",
            "blackhole 10.51.0.0/16 table 200 protocol static no_track",
            "to 10.52.0.0/16 dev eth0 mtu lock 1400 rtt 300ms rttvar 2s rto_min 250ms congctl lock cubic features ecn",
            "2001:db8::/48 via 2001:db8::1 dev eth0 pref high expires 30 from 2001:db8:1::/64",
            "10.65.0.0/16 nexthop via 198.51.100.253 dev eth0 weight 2 nexthop via 198.51.100.254 dev eth1 onlink",
            "default via inet6 fe80::1 dev eth0 append",
        ])
        #expect(result.diagnostics.filter { $0.severity >= .error }.isEmpty, "\(result.diagnostics)")
        let list = try #require(result.configuration.instances.first?.virtualRoutes)
        #expect(list.count == 6)
        let first = list[0]
        #expect(first.destination == IPPrefix("10.60.0.0/16") && first.gateway == IPAddress("198.51.100.254"))
        #expect(first.preferredSource == IPAddress("198.51.100.100") && first.metric == 10 && first.table == 100)
        #expect(first.tos == 0x10 && first.onlink && first.tracked && first.protocolNumber == 18)
        #expect(first.type == 1 && !first.typeWasWritten)
        let second = list[1]
        #expect(second.type == 6 && second.typeWasWritten && second.table == 200)
        #expect(!second.tracked && second.protocolNumber == 4, "no_track keeps the written protocol")
        let third = list[2]
        #expect(third.metrics.values[Route.Metrics.mtu] == 1400)
        #expect(third.metrics.locked & (1 << 2) != 0, "mtu lock")
        #expect(third.metrics.values[Route.Metrics.rtt] == 2400, "300 ms in 1/8 ms")
        #expect(third.metrics.values[Route.Metrics.rttvar] == 8000, "2 s in 1/4 ms")
        #expect(third.metrics.values[Route.Metrics.rtoMin] == 250)
        #expect(third.metrics.congestionControl == "cubic" && third.metrics.features == 1)
        let fourth = list[3]
        #expect(fourth.family == .ipv6 && fourth.preference == 1 && fourth.expires == 30)
        #expect(fourth.source == IPPrefix("2001:db8:1::/64"))
        let fifth = list[4]
        #expect(fifth.nextHops.count == 2 && fifth.nextHops[0].weight == 2 && fifth.nextHops[1].onlink)
        #expect(fifth.devices == ["eth0", "eth1"])
        let sixth = list[5]
        #expect(sixth.destination == nil && sixth.family == .ipv6 && sixth.addMode == .append)
    }

    @Test("a route that cannot be installed as written is an error naming the word, and is not installed")
    func routeErrors() {
        let cases: [(String, String)] = [
            ("10.1.0.1/16 dev eth0", "host bits set; write 10.1.0.0/16"),
            ("10.1.0.0/16 via 2001:db8::1 dev eth0 realms 1", "mixes IPv4 and IPv6"),
            ("dev eth0", "no destination"),
            ("10.1.0.0/16 dev eth0 encap mpls 100", "`encap`"),
            ("10.1.0.0/16 dev eth0 table nosuchtable", "neither a number nor a name in /etc/iproute2/rt_tables"),
            ("10.1.0.0/16 nexthop via 192.0.2.1 weight 0", "weight is 1 to 256"),
            ("10.1.0.0/16 dev eth0 bogus", "unknown route option 'bogus'"),
            ("to blackhole 10.1.0.0/16", "unknown route option or destination 'blackhole'"),
            ("10.1.0.0/16 dev eth0 track_group G", "static routes only"),
        ]
        for (item, expected) in cases {
            let result = routes([item])
            #expect(result.configuration.instances.first?.virtualRoutes.isEmpty == true, "\(item)")
            let error = result.diagnostics.first { $0.severity == .error }
            #expect(error?.message.contains(expected) == true, "\(item): \(result.diagnostics)")
            #expect(error?.message.hasSuffix("this route is ignored") == true)
            #expect(error?.location.line == 8, "the item's line")
        }
    }

    @Test("a tracked route has keepalived's protocol; one without an interface cannot be tracked")
    func routeTracking() throws {
        let result = routes(["10.1.0.0/16 dev eth0 protocol bird", "10.2.0.0/16 via 192.0.2.254"])
        let list = try #require(result.configuration.instances.first?.virtualRoutes)
        #expect(list[0].protocolNumber == 18 && list[0].tracked)
        #expect(result.diagnostics.contains { $0.message.contains("`protocol 12` is not used; add `no_track`") })
        #expect(!list[1].tracked)
        #expect(result.diagnostics.contains { $0.message.contains("names no interface, so it cannot be tracked") })
    }

    @Test("names come from /etc/iproute2 as keepalived reads them, then the built-in ones")
    func names() {
        let names = RoutingNames(
            fileSystem: NamesFileSystem(files: [
                "/etc/iproute2/rt_tables": "# reserved\n255\tlocal\n254 main\n100 vpn # comment\nbad line here\n",
                "/etc/iproute2/rt_realms": "1 isp1\n2 isp2\n",
            ]))
        #expect(names.number("vpn", .table) == 100)
        #expect(names.number("main", .table) == 254)
        #expect(names.number("default", .table) == 253, "built in")
        #expect(names.number("0x10", .table) == 16)
        #expect(names.number("nope", .table) == nil)
        #expect(names.number("link", .scope) == 253)
        #expect(names.number("bird", .protocolName) == 12)
        #expect(names.number("300", .protocolName) == nil, "protocols are 0 to 255")
        #expect(names.realms("isp1/isp2") == 0x10002)
        #expect(names.realms("isp1") == 1)
    }

    @Test("rules: every selector and action; a rule without a preference gets keepalived's count-down")
    func ruleOptions() throws {
        let result = rules([
            "from 198.51.100.100 table 100 preference 100",
            "to 10.70.0.0/16 fwmark 0x10/0xff lookup main priority 101",
            "not from 10.71.0.0/16 iif eth1 oif eth2 table 100 order 102 tos 0x10",
            "from 10.72.0.0/16 preference 104 goto 110",
            "ipproto tcp sport 1024-2048 dport 80 uidrange 10-20 tunnel-id 7 type blackhole preference 105",
            "from all table main suppress_prefixlength 0 sup_group 5 realms 1/2 preference 106",
            "fwmark 5 table 100",
            "from 2001:db8::/64 table 100",
            "fwmark 6 table 100 no_track protocol 4",
        ])
        #expect(result.diagnostics.filter { $0.severity >= .error }.isEmpty, "\(result.diagnostics)")
        let list = result.configuration.staticRules
        #expect(list.count == 9)
        #expect(list[0].action == .table(100) && list[0].preference == 100 && list[0].from == IPPrefix("198.51.100.100"))
        #expect(list[1].fwmark == 0x10 && list[1].fwmask == 0xff && list[1].action == .table(254))
        #expect(list[2].invert && list[2].inputInterface == "eth1" && list[2].outputInterface == "eth2")
        #expect(list[2].devices == ["eth1", "eth2"] && list[2].tos == 0x10)
        #expect(list[3].action == .goto(110))
        #expect(list[4].ipProtocol == 6 && list[4].sourcePorts == 1024...2048 && list[4].destinationPorts == 80...80)
        #expect(list[4].uidRange == 10...20 && list[4].tunnelID == 7 && list[4].action == .blackhole)
        #expect(list[5].suppressPrefixLength == 0 && list[5].suppressInterfaceGroup == 5)
        #expect(list[5].realms == 0x10002)
        #expect(list[6].preference == 16384 && list[7].preference == 16384, "counted per family")
        #expect(list[7].family == .ipv6)
        #expect(result.diagnostics.contains { $0.message.contains("no preference, so it gets 16384") })
        #expect(list[0].protocolNumber == 18 && list[8].protocolNumber == 4 && !list[8].tracked)
    }

    @Test("a rule that cannot be installed as written is an error, and is not installed")
    func ruleErrors() {
        let cases: [(String, String)] = [
            ("from 10.0.0.0/8", "no action"),
            ("from 10.0.0.0/8 table 100 nop", "one action"),
            ("from 10.0.0.0/8 goto 100", "needs a `preference`"),
            ("from 10.0.0.0/8 preference 200 goto 100", "not below the goto target"),
            ("from 10.0.0.0/8 blackhole realms 1 preference 5", "rules that look up a table"),
            ("from 10.0.0.0/8 table 0", "table 0 is not valid"),
            ("from 10.0.0.0/8 to 2001:db8::/32 table 5", "mixes IPv4 and IPv6"),
            ("from 10.0.0.0/8 table 5 frobnicate", "unknown rule option 'frobnicate'"),
        ]
        for (item, expected) in cases {
            let result = rules([item])
            #expect(result.configuration.staticRules.isEmpty, "\(item)")
            let error = result.diagnostics.first { $0.severity == .error }
            #expect(error?.message.contains(expected) == true, "\(item): \(result.diagnostics)")
        }
    }
}

/// keepalived.conf text for the benchmark's routers, the same for both implementations.
enum BenchConfig {
    static func instance(
        name: String, vrid: Int, priority: Int, state: String, interval: String, version: Int,
        interface: String = "eth0", vip: String
    ) -> String {
        var lines = [
            "vrrp_instance \(name) {", "    state \(state)", "    interface \(interface)",
            "    virtual_router_id \(vrid)", "    priority \(priority)", "    advert_int \(interval)",
            "    version \(version)",
        ]
        if version == 2 {
            lines += ["    authentication {", "        auth_type PASS", "        auth_pass 1111", "    }"]
        }
        lines += ["    virtual_ipaddress {", "        \(vip)", "    }", "}"]
        return lines.joined(separator: "\n") + "\n"
    }

    static func file(_ instances: [String]) -> String {
        "global_defs {\n    router_id bench\n    vrrp_garp_master_delay 0\n}\n\n" + instances.joined(separator: "\n")
    }

    /// `count` owner instances of VRRPv3 over IPv6 at advert_int 1, 250 VRIDs per interface (eth0, eth1, ...): the
    /// lab's IPv4 documentation ranges hold only about 500 addresses, 2001:db8::/32 any number.
    static func curve(count: Int) -> String {
        file(
            (0..<count).map { index in
                let interface = index / 250
                let vrid = index % 250 + 1
                return instance(
                    name: "VI_\(index)", vrid: vrid, priority: 255, state: "MASTER", interval: "1", version: 3,
                    interface: "eth\(interface)", vip: "2001:db8:\(interface + 1)::\(vrid)/128")
            })
    }

    /// `count` owner instances (priority 255, MASTER at once) spread over eth0 and eth1, 250 VRIDs each.
    static func scale(count: Int, interval: String, version: Int) -> String {
        var instances = [String]()
        for index in 0..<count {
            let interface = index < 250 ? 0 : 1
            let vrid = index % 250 + 1
            let vip = interface == 0 ? "198.51.100.\(vrid + 2)/32" : "203.0.113.\(vrid + 2)/32"
            instances.append(
                instance(
                    name: "VI_\(index)", vrid: vrid, priority: 255, state: "MASTER", interval: interval,
                    version: version, interface: "eth\(interface)", vip: vip))
        }
        return file(instances)
    }
}

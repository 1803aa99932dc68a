import VigilConfig

/// Accept mode (RFC 5798 6.1, keepalived's `accept`/`no_accept`): a master that is not the owner of its addresses
/// must not accept traffic sent to them, unless `accept`. One nftables table of Vigil's drops, on input, packets to
/// those addresses and, on output, packets from them (neighbour discovery excepted, so that neighbours can still
/// resolve them).
///
/// keepalived adds an address to its sets when the instance becomes MASTER and takes it out when it leaves. Vigil's
/// sets hold the addresses from start to stop instead: an address that is not on the host is never delivered to
/// it nor sent from it, so the rules only bite while the master holds it, and becoming MASTER never waits for nft
/// (nothing may delay an advert or the addresses' arrival). The table changes only at start, reload and stop.
struct AcceptModeFirewall: Equatable, Sendable {
    var settings: FirewallSettings
    var ipv4: [IPAddress] = []
    var ipv6: [IPAddress] = []
    /// Link-local addresses exist per link: each is matched with its interface's name.
    var linkLocal: [(address: IPAddress, interface: String)] = []

    static func == (lhs: AcceptModeFirewall, rhs: AcceptModeFirewall) -> Bool {
        lhs.settings == rhs.settings && lhs.ipv4 == rhs.ipv4 && lhs.ipv6 == rhs.ipv6
            && lhs.linkLocal.map { "\($0.address)%\($0.interface)" } == rhs.linkLocal.map { "\($0.address)%\($0.interface)" }
    }

    /// The table a configuration needs; nil when no instance filters (every one accepts).
    init?(_ configuration: Configuration) {
        settings = configuration.global.vrrpFirewall
        for instance in configuration.instances where instance.accept == false && instance.priority != 255 {
            for virtual in instance.virtualAddresses + instance.excludedVirtualAddresses {
                let address = virtual.prefix.address
                if address.family == .ipv4 {
                    if !ipv4.contains(address) { ipv4.append(address) }
                } else if address.isLinkLocal {
                    let interface = virtual.device ?? instance.interface ?? ""
                    if !linkLocal.contains(where: { $0.address == address && $0.interface == interface }) {
                        linkLocal.append((address, interface))
                    }
                } else if !ipv6.contains(address) {
                    ipv6.append(address)
                }
            }
        }
        if ipv4.isEmpty && ipv6.isEmpty && linkLocal.isEmpty { return nil }
        ipv4.sort()
        ipv6.sort()
    }

    /// Replaces the table in one transaction (a leftover of an earlier run goes with it).
    var script: String {
        let table = settings.table
        let count = settings.counters ? "counter " : ""
        func elements(_ list: [String]) -> String {
            list.isEmpty ? "" : "\n        elements = { \(list.joined(separator: ", ")) }"
        }
        var lines = [
            "table inet \(table) {}",
            "delete table inet \(table)",
            "table inet \(table) {",
            "    set vips4 {",
            "        type ipv4_addr\(elements(ipv4.map(\.description)))",
            "    }",
            "    set vips6 {",
            "        type ipv6_addr\(elements(ipv6.map(\.description)))",
            "    }",
            "    set vips6_link_local {",
            "        type ipv6_addr . ifname\(elements(linkLocal.map { "\($0.address) . \"\($0.interface)\"" }))",
            "    }",
        ]
        for (chain, hook, address, interface) in [
            ("in", "input", "daddr", "iifname"), ("out", "output", "saddr", "oifname"),
        ] {
            lines += [
                "    chain \(chain) {",
                "        type filter hook \(hook) priority \(settings.priority); policy accept;",
                "        icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept",
                "        ip \(address) @vips4 \(count)drop",
                "        ip6 \(address) @vips6 \(count)drop",
                "        ip6 \(address) . \(interface) @vips6_link_local \(count)drop",
                "    }",
            ]
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Removes the table, whether it exists or not.
    static func removal(table: String) -> String {
        "table inet \(table) {}\ndelete table inet \(table)\n"
    }
}

import VigilConfig

/// The nftables form of a load balancer state: NAT (DNAT) in tables Vigil owns (`ip vigil`, `ip6 vigil`), written
/// as one `nft -f` script that replaces both tables atomically. Nothing outside those tables is touched.
///
/// Schedulers: `rr` picks every destination with a weight in turn (numgen); `sh` hashes the client address
/// (jhash); every other scheduler (`wrr`, `wlc`, `lc`, ...) becomes weighted round robin, each destination taking
/// as many slots as its weight (reduced by their greatest common divisor). A service without destinations resets
/// new connections.
public enum NFTablesRuleset {
    public static let table = "vigil"
    /// Weighted slots are capped; weights are scaled down to fit.
    static let maximumSlots = 4096

    public static func render(_ state: LoadBalancerState) -> String {
        var out = ""
        for family in [IPAddress.Family.ipv4, .ipv6] {
            let name = family == .ipv4 ? "ip" : "ip6"
            // Creating then deleting makes the delete succeed whether or not the table existed.
            out += "table \(name) \(table) {\n}\ndelete table \(name) \(table)\n"
            let services = state.services.keys.filter { $0.address.family == family }.sorted()
            guard !services.isEmpty else { continue }
            let rules = services.map { rule($0, state.services[$0] ?? []) }
            out += "table \(name) \(table) {\n"
            out += "    chain prerouting {\n        type nat hook prerouting priority dstnat; policy accept;\n"
            for rule in rules { out += "        \(rule)\n" }
            out += "    }\n"
            out += "    chain output {\n        type nat hook output priority -100; policy accept;\n"
            for rule in rules { out += "        \(rule)\n" }
            out += "    }\n}\n"
        }
        return out
    }

    /// The script that removes Vigil's tables (on stop).
    public static var removal: String {
        "table ip \(table) {\n}\ndelete table ip \(table)\ntable ip6 \(table) {\n}\ndelete table ip6 \(table)\n"
    }

    static func rule(_ service: Service, _ destinations: [Destination]) -> String {
        let family = service.address.family == .ipv4 ? "ip" : "ip6"
        let transport = service.transportProtocol == .udp ? "udp" : service.transportProtocol == .sctp ? "sctp" : "tcp"
        // A firewall-mark service matches the mark; a service on port 0 every port of its address.
        let match: String
        if let mark = service.firewallMark {
            match = "meta mark \(mark)"
        } else if service.port == 0 {
            match = "\(family) daddr \(service.address) meta l4proto \(transport)"
        } else {
            match = "\(family) daddr \(service.address) \(transport) dport \(service.port)"
        }
        let slots = self.slots(service.scheduler, destinations.filter { $0.weight > 0 })
        guard !slots.isEmpty else {
            return "\(match) " + (transport == "tcp" && service.firewallMark == nil ? "reject with tcp reset" : "reject")
        }
        let selector =
            service.scheduler == "sh" ? "jhash \(family) saddr mod \(slots.count)" : "numgen inc mod \(slots.count)"
        // Destinations on port 0 keep the packet's port: the map then gives addresses only.
        let keepsPort = slots.allSatisfy { $0.port == 0 }
        let map = slots.enumerated().map { index, destination in
            keepsPort ? "\(index) : \(destination.address)" : "\(index) : \(destination.address) . \(destination.port)"
        }.joined(separator: ", ")
        let action = "dnat \(family) to \(selector) map { \(map) }"
        // nft maps to a port only after a transport protocol match: a firewall-mark service (any protocol) whose
        // real servers have ports gets one rule per protocol IPVS balances.
        if service.firewallMark != nil && !keepsPort {
            return ["tcp", "udp", "sctp"].map { "\(match) meta l4proto \($0) \(action)" }.joined(separator: "\n        ")
        }
        return "\(match) \(action)"
    }

    /// The destinations in map order: once each for `rr` and `sh`, by weight for the rest.
    static func slots(_ scheduler: String, _ destinations: [Destination]) -> [Destination] {
        let sorted = destinations.sorted()
        if scheduler == "rr" || scheduler == "sh" { return sorted }
        var weights = sorted.map(\.weight)
        let divisor = weights.reduce(0) { gcd($0, $1) }
        if divisor > 1 { weights = weights.map { $0 / divisor } }
        let total = weights.reduce(0, +)
        if total > maximumSlots {
            weights = weights.map { max(1, $0 * maximumSlots / total) }
        }
        // Interleaved, so that consecutive connections spread out (not all to the heaviest first).
        var result = [Destination]()
        var remaining = weights
        while remaining.contains(where: { $0 > 0 }) {
            for index in sorted.indices where remaining[index] > 0 {
                result.append(sorted[index])
                remaining[index] -= 1
            }
        }
        return result
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}

import LinuxNet
import VigilConfig

/// What Vigil knows of the host's interfaces and their addresses, kept current from rtnetlink events.
struct InterfaceTable {
    private(set) var links: [Int32: Link] = [:]
    private(set) var addresses: [Int32: [InterfaceAddress]] = [:]
    /// Whether the host forwards IPv6 on an interface (the NA Router flag), as last read by the executor.
    var forwarding: [Int32: Bool] = [:]

    func link(named name: String) -> Link? { links.values.first { $0.name == name } }
    func link(index: Int32) -> Link? { links[index] }

    /// Applies an event; returns the link whose up/down state changed, if any.
    mutating func apply(_ event: NetlinkMessage.Event) -> (link: Link, wasUp: Bool?)? {
        switch event {
        case .link(let link, let removed):
            let previous = links[link.index]
            if removed {
                links[link.index] = nil
                addresses[link.index] = nil
                forwarding[link.index] = nil
                var gone = link
                gone.flags = 0
                return (gone, previous?.isUp)
            }
            links[link.index] = link
            return previous?.isUp == link.isUp ? nil : (link, previous?.isUp)
        case .address(let address, let removed):
            var list = addresses[address.index, default: []]
            list.removeAll { $0.prefix.address == address.prefix.address }
            if !removed { list.append(address) }
            addresses[address.index] = list
            return nil
        default:
            return nil
        }
    }

    /// The address VRRP sends from on an interface: IPv4, its primary address (the first that is neither
    /// secondary nor one of `excluding`); IPv6, its link-local address (RFC 5798 5.1.2.1).
    func primaryAddress(index: Int32, family: IPAddress.Family, excluding: Set<IPAddress>) -> IPAddress? {
        let candidates = (addresses[index] ?? []).filter {
            $0.prefix.address.family == family && !excluding.contains($0.prefix.address)
        }
        switch family {
        case .ipv4:
            return (candidates.first { !$0.isSecondary } ?? candidates.first)?.prefix.address
        case .ipv6:
            return candidates.first { $0.prefix.address.isLinkLocal && $0.flags & 0x40 == 0 }?.prefix.address
        }
    }

    /// Addresses carrying Vigil's IFA_PROTO tag: Vigil added them.
    func addresses(taggedWith proto: UInt8) -> [InterfaceAddress] {
        addresses.values.flatMap { $0 }.filter { $0.protocol == proto }
    }
}

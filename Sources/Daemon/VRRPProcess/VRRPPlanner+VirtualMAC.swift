import LinuxNet
import VRRP
import VigilConfig

/// `use_vmac`: a router's addresses live on a macvlan interface (private mode) of its own, with the virtual router's
/// MAC, created when the router attaches to its interface, whatever its state (as keepalived): clients keep one
/// neighbour entry for the addresses across a failover. Adverts go out through it (its MAC is their source, which
/// keeps switches pointed at the master) unless `vmac_xmit_base`; they are heard on the base interface, so the
/// virtual MAC joins no multicast group and never speaks from a backup.
extension VRRPPlanner {
    /// What the executor creates: the link, then its settings, then it comes up.
    struct VirtualLinkRequest: Equatable, Sendable {
        var name: String
        var baseIndex: Int32
        var baseName: String
        var kind: NetlinkMessage.VirtualLinkKind
        var family: IPAddress.Family
        /// `use_ipvlan`'s address, added once the link is up.
        var address: IPPrefix?
        /// IPv6 without `vmac_xmit_base`: the link-local address adverts are sent from (the base's).
        var linkLocal: IPAddress?
    }

    /// The name keepalived 2.2.7 would give the router's VMAC: the written one, else `vrrp.VRID`, else
    /// `vrrp6.VRID` for IPv6, else `vrrpN.VRID`, skipping names other routers use and interfaces that exist and are
    /// not this router's VMAC.
    func virtualMACName(_ index: Int) -> String? {
        let router = routers[index]
        guard let vmac = router.instance.useVMAC, let base = router.interfaceIndex else { return nil }
        let taken = Set(routers.indices.filter { $0 != index }.compactMap { routers[$0].vmacName ?? routers[$0].instance.useVMAC?.interfaceName })
        func usable(_ name: String) -> Bool {
            guard !taken.contains(name) else { return false }
            guard let link = table.link(named: name) else { return true }
            return isVirtualLink(link, base: base, vmac)
        }
        if let written = vmac.interfaceName, usable(written) { return written }
        let prefix = configuration.global.vmacPrefix
        let vrid = router.virtualRouterID
        var numbers = [Int?](arrayLiteral: nil)
        if router.family == .ipv6 { numbers.append(6) }
        numbers += (1...99).filter { router.family == .ipv4 || $0 != 6 }.map { Optional($0) }
        for number in numbers {
            let suffix = "\(number.map(String.init) ?? "").\(vrid)"
            let name = String(prefix.prefix(15 - suffix.count)) + suffix
            if usable(name) { return name }
        }
        return nil
    }

    /// A link that is this router's: a macvlan on its base with its MAC, or an ipvlan on its base.
    func isVirtualLink(_ link: Link, base: Int32, _ vmac: VirtualMAC) -> Bool {
        switch vmac.kind {
        case .macvlan: link.kind == "macvlan" && link.parentIndex == base && link.hardwareAddress == vmac.mac
        case .ipvlan: link.kind == "ipvlan" && link.parentIndex == base
        }
    }

    /// After the router attached to its interface: its VMAC is found (an earlier run's, or just created) or asked
    /// for.
    mutating func ensureVirtualMAC(_ index: Int) -> [Action] {
        guard let vmac = routers[index].instance.useVMAC, !stopping,
            let base = routers[index].interfaceIndex, let baseLink = table.link(index: base)
        else { return [] }
        if routers[index].vmacName == nil { routers[index].vmacName = virtualMACName(index) }
        guard let name = routers[index].vmacName else {
            return [.log(.error, "(\(routers[index].name)) no free name for its VMAC interface")]
        }
        if let link = table.link(named: name), isVirtualLink(link, base: base, vmac) {
            return adoptVirtualMAC(index, link)
        }
        guard !routers[index].vmacPending, routers[index].vmacIndex == nil else { return [] }
        routers[index].vmacPending = true
        var linkLocal: IPAddress?
        if case .macvlan = vmac.kind, routers[index].family == .ipv6 && !vmac.transmitFromBase {
            linkLocal = routers[index].configuredSource
                ?? table.primaryAddress(index: base, family: .ipv6, excluding: [])
                ?? Self.eui64LinkLocal(baseLink.hardwareAddress)
        }
        return [
            .createVirtualLink(
                VirtualLinkRequest(
                    name: name, baseIndex: base, baseName: baseLink.name,
                    kind: {
                        switch vmac.kind {
                        case .macvlan: .macvlan(mac: vmac.mac)
                        case .ipvlan(let flags): .ipvlan(flags: flags)
                        }
                    }(), family: routers[index].family, address: vmac.ipvlanAddress, linkLocal: linkLocal))
        ]
    }

    /// The VMAC exists: addresses go there, adverts out through its socket.
    mutating func adoptVirtualMAC(_ index: Int, _ link: Link) -> [Action] {
        guard routers[index].vmacIndex != link.index else { return [] }
        routers[index].vmacIndex = link.index
        routers[index].vmacPending = false
        var actions = [Action]()
        if let key = routers[index].sendSocket, key.sendOnly {
            if socketRouters[key] == nil {
                actions.append(.openSocket(key, interface: link.name, multicastGroup: nil))
                socketRouters[key] = []
            }
            socketRouters[key]?.append(routers[index].id)
        }
        actions.append(.log(.info, "(\(routers[index].name)) VMAC \(link.name) ready"))
        return actions
    }

    /// The executor's answer to a creation or removal.
    mutating func virtualLinkChanged(
        name: String, created: Bool, errno: Int32, message: String?, now: MonotonicTime
    ) -> [Action] {
        guard created else {
            return errno == 0 || errno == Self.ENODEV
                ? [] : [.log(.error, "cannot remove the VMAC interface \(name): \(message ?? "error \(errno)")")]
        }
        for index in routers.indices where routers[index].vmacName == name {
            routers[index].vmacPending = false
            if errno != 0 {
                return [.log(.error, "(\(routers[index].name)) cannot create its virtual interface \(name): \(message ?? "error \(errno)"); it stays in FAULT")]
            }
            if let link = table.link(named: name) { return adoptVirtualMAC(index, link) + refreshFaults(now: now) }
        }
        return []
    }

    /// A link went away: a router whose VMAC it was loses it (FAULT) and asks for it again.
    mutating func virtualMACGone(_ index: Int) -> [Action] {
        guard let gone = routers[index].vmacIndex else { return [] }
        routers[index].vmacIndex = nil
        var actions = [Action]()
        let key = SocketKey(index: gone, family: routers[index].family, sendOnly: true)
        socketRouters[key]?.removeAll { $0 == routers[index].id }
        if socketRouters[key]?.isEmpty == true {
            socketRouters[key] = nil
            actions.append(.closeSocket(key))
        }
        // The kernel took the addresses with the interface.
        routers[index].owned.removeAll { Self.entry($0, uses: gone) }
        actions.append(.log(.warning, "(\(routers[index].name)) its VMAC interface \(routers[index].vmacName ?? "") is gone"))
        return actions + ensureVirtualMAC(index)
    }

    /// Stop, or a router removed by a reload: its VMAC goes (after its addresses).
    mutating func removeVirtualMAC(_ index: Int) -> [Action] {
        guard let vmac = routers[index].vmacIndex, let name = routers[index].vmacName else { return [] }
        var actions = [Action]()
        let key = SocketKey(index: vmac, family: routers[index].family, sendOnly: true)
        socketRouters[key]?.removeAll { $0 == routers[index].id }
        if socketRouters[key]?.isEmpty == true {
            socketRouters[key] = nil
            actions.append(.closeSocket(key))
        }
        routers[index].vmacIndex = nil
        actions.append(.deleteVirtualLink(index: vmac, name: name))
        return actions
    }

    /// fe80::/64 with the EUI-64 interface identifier of a MAC.
    static func eui64LinkLocal(_ mac: [UInt8]) -> IPAddress? {
        guard mac.count == 6 else { return nil }
        let identifier: [UInt8] = [mac[0] ^ 2, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]]
        return IPAddress(bytes: ([0xfe, 0x80] + [UInt8](repeating: 0, count: 6) + identifier)[...])
    }
}

import CLinux
import Glibc
import LinuxNet
import VigilConfig

/// What the VRRP process does to the machine, as the executor needs it: raw VRRP sockets, address changes through
/// rtnetlink, link-layer frames. `LinuxVRRPIO` does it; tests use a recording fake.
protocol VRRPIO: AnyObject {
    /// Opens a socket; returns the descriptor to watch for readability.
    func openSocket(_ key: SocketKey, interface: String, multicastGroup: IPAddress?) throws(SystemError) -> Int32
    func closeSocket(_ key: SocketKey)
    /// Reads what is waiting on a socket (at most a batch), handing each datagram to `handler`.
    func receive(_ key: SocketKey, _ handler: (Datagram) -> Void)
    func send(_ advert: VRRPPlanner.OutgoingAdvert) throws(SystemError)
    /// Adds or removes an address, a route or a rule; the kernel's answer (0, or an errno and its message).
    func change(_ entry: KernelEntry, add: Bool) -> (errno: Int32, message: String?)
    func sendFrame(_ frame: [UInt8], interfaceIndex: Int32) throws(SystemError)
    /// Creates a VMAC interface, configures it as keepalived does and brings it up; the kernel's answer.
    func createVirtualLink(_ request: VRRPPlanner.VirtualLinkRequest) -> (errno: Int32, message: String?)
    /// Removes a VMAC interface (and gives its base interface its settings back once it has none left).
    func deleteVirtualLink(index: Int32, name: String) -> (errno: Int32, message: String?)
}

/// The real thing: one raw socket per interface and family (`VRRPSocket`), rtnetlink, a packet socket.
final class LinuxVRRPIO: VRRPIO {
    let netlink: NetlinkSocket
    let packets: PacketSocket
    private var sockets: [SocketKey: VRRPSocket] = [:]

    init() throws(SystemError) {
        netlink = try NetlinkSocket()
        packets = try PacketSocket()
    }

    func openSocket(_ key: SocketKey, interface: String, multicastGroup: IPAddress?) throws(SystemError) -> Int32 {
        let socket = try VRRPSocket(
            family: key.family, interfaceName: interface, interfaceIndex: key.index, multicastGroup: multicastGroup,
            ipProtocol: key.authenticated ? 51 : VRRPSocket.ipProtocol, sendOnly: key.sendOnly)
        sockets[key] = socket
        return socket.descriptor.rawValue
    }

    func closeSocket(_ key: SocketKey) { sockets[key] = nil }

    func receive(_ key: SocketKey, _ handler: (Datagram) -> Void) {
        sockets[key]?.receive(handler)
    }

    func send(_ advert: VRRPPlanner.OutgoingAdvert) throws(SystemError) {
        guard let socket = sockets[advert.socket] else {
            throw SystemError("send: no socket for interface \(advert.socket.index)", errno: EBADF)
        }
        if advert.socket.family == .ipv6 {
            try socket.send(ipv6Payload: advert.bytes, source: advert.source, destination: advert.destination)
        } else {
            try socket.send(ipv4Packet: advert.bytes, to: advert.destination)
        }
    }

    func change(_ entry: KernelEntry, add: Bool) -> (errno: Int32, message: String?) {
        do {
            let outcome = try netlink.change(entry, add: add, addressProtocol: VRRPPlanner.addressProtocol)
            return (outcome.errno, outcome.succeeded ? nil : outcome.description)
        } catch {
            return (error.errno, "\(error)")
        }
    }

    func sendFrame(_ frame: [UInt8], interfaceIndex: Int32) throws(SystemError) {
        try packets.send(frame, interfaceIndex: interfaceIndex)
    }

    let virtualLinks = VirtualLinkSettings()

    func createVirtualLink(_ request: VRRPPlanner.VirtualLinkRequest) -> (errno: Int32, message: String?) {
        func answer(_ outcome: NetlinkSocket.Outcome) -> (errno: Int32, message: String?)? {
            outcome.succeeded ? nil : (outcome.errno, outcome.description)
        }
        do {
            let created = try netlink.request {
                NetlinkMessage.createLink(name: request.name, base: request.baseIndex, kind: request.kind, sequence: $0)
            }
            if let failure = answer(created) { return failure }
            let index = Int32(if_nametoindex(request.name))
            guard index > 0 else { return (ENODEV, "\(request.name) vanished as it was created") }
            virtualLinks.configure(request)
            // No EUI-64 address of the virtual MAC (best effort: IPv6 may be off on the host).
            _ = try? netlink.request { NetlinkMessage.setNoAddressGeneration(index: index, sequence: $0) }
            if let failure = answer(try netlink.request { NetlinkMessage.setLinkUp(index: index, up: true, sequence: $0) }) {
                return failure
            }
            if let prefix = request.address {
                var address = InterfaceAddress(index: index, prefix: prefix)
                if prefix.address.family == .ipv6 { address.flags = 0x02 }  // IFA_F_NODAD
                let outcome = try netlink.change(.address(address), add: true, addressProtocol: nil)
                if !outcome.succeeded && outcome.errno != EEXIST { return (outcome.errno, outcome.description) }
            }
            if let linkLocal = request.linkLocal {
                var address = InterfaceAddress(index: index, prefix: IPPrefix(address: linkLocal, length: 64), scope: 253)
                address.flags = 0x02  // IFA_F_NODAD: the base interface holds the same address
                _ = try netlink.change(.address(address), add: true, addressProtocol: nil)
            }
            return (0, nil)
        } catch {
            return (error.errno, "\(error)")
        }
    }

    func deleteVirtualLink(index: Int32, name: String) -> (errno: Int32, message: String?) {
        defer { virtualLinks.removed(name) }
        do {
            let outcome = try netlink.request { NetlinkMessage.deleteLink(index: index, sequence: $0) }
            return (outcome.errno, outcome.succeeded ? nil : outcome.description)
        } catch {
            return (error.errno, "\(error)")
        }
    }
}

/// The sysctls keepalived sets for a VMAC, and gives back: on an IPv4 VMAC arp_ignore 1, accept_local 1,
/// rp_filter 0, promote_secondaries 1; on its base interface arp_ignore 1 and arp_filter 1 (so that only the VMAC
/// answers ARP for the addresses it holds), restored when its last VMAC goes; IPv6 off on an IPv4 VMAC. When
/// `all.rp_filter` is on, it is moved to each interface (and `default`) and turned off, since it would drop what
/// arrives on a VMAC; restored at the end where nobody changed it since.
final class VirtualLinkSettings {
    private var bases: [String: (count: Int, saved: [(String, String)])] = [:]
    private var baseOfLink: [String: String] = [:]
    private var reversePath: [(path: String, previous: String, set: String)]?

    static func path(_ family: String, _ interface: String, _ key: String) -> String {
        "/proc/sys/net/\(family)/conf/\(interface)/\(key)"
    }

    static func read(_ path: String) -> String? { SmallFile.word(path) }

    func configure(_ request: VRRPPlanner.VirtualLinkRequest) {
        let name = request.name
        try? SmallFile.overwrite(Self.path("ipv6", name, "disable_ipv6"), request.family == .ipv4 ? "1" : "0")
        // An ipvlan gets nothing else (keepalived's rule); a macvlan for IPv4 keepalived's ARP settings.
        guard request.family == .ipv4, case .macvlan = request.kind else { return }
        for (key, value) in [("arp_ignore", "1"), ("accept_local", "1"), ("rp_filter", "0"), ("promote_secondaries", "1")] {
            try? SmallFile.overwrite(Self.path("ipv4", name, key), value)
        }
        baseOfLink[name] = request.baseName
        var base = bases[request.baseName] ?? (0, [])
        if base.count == 0 {
            let keys = ["arp_ignore", "arp_filter"]
            let current = keys.map { Self.read(Self.path("ipv4", request.baseName, $0)) ?? "0" }
            if current != ["1", "1"] {
                base.saved = zip(keys, current).map { ($0, $1) }
                for key in keys { try? SmallFile.overwrite(Self.path("ipv4", request.baseName, key), "1") }
            }
        }
        base.count += 1
        bases[request.baseName] = base
        moveReversePathFilter()
    }

    func removed(_ name: String) {
        guard let baseName = baseOfLink.removeValue(forKey: name), var base = bases[baseName] else { return }
        base.count -= 1
        if base.count == 0 {
            for (key, value) in base.saved { try? SmallFile.overwrite(Self.path("ipv4", baseName, key), value) }
            bases[baseName] = nil
        } else {
            bases[baseName] = base
        }
        if bases.isEmpty { restoreReversePathFilter() }
    }

    /// keepalived's move of `all.rp_filter` onto every interface, once.
    private func moveReversePathFilter() {
        guard reversePath == nil else { return }
        var changes = [(path: String, previous: String, set: String)]()
        let allPath = Self.path("ipv4", "all", "rp_filter")
        guard let all = Self.read(allPath).flatMap(Int.init), all != 0 else {
            reversePath = []
            return
        }
        let interfaces = SmallFile.directoryEntries("/proc/sys/net/ipv4/conf")
        for interface in interfaces where interface != "all" {
            let path = Self.path("ipv4", interface, "rp_filter")
            if let value = Self.read(path).flatMap(Int.init), value < all {
                try? SmallFile.overwrite(path, "\(all)")
                changes.append((path, "\(value)", "\(all)"))
            }
        }
        try? SmallFile.overwrite(allPath, "0")
        changes.append((allPath, "\(all)", "0"))
        reversePath = changes
    }

    private func restoreReversePathFilter() {
        for change in (reversePath ?? []).reversed() where Self.read(change.path) == change.set {
            try? SmallFile.overwrite(change.path, change.previous)
        }
        reversePath = nil
    }
}

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
            ipProtocol: key.authenticated ? 51 : VRRPSocket.ipProtocol)
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
}

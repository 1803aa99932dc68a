import CLinux
import Glibc
import VigilConfig

/// A datagram as it came off a raw socket, before any VRRP parsing.
public struct Datagram: Sendable {
    /// IPv4: the whole IP datagram, header included. IPv6: the payload only.
    public var bytes: ArraySlice<UInt8>
    public var source: IPAddress
    /// IPv6: from IPV6_PKTINFO; IPv4: read from the header by the caller.
    public var destination: IPAddress?
    /// IPv6 hop limit from IPV6_HOPLIMIT; IPv4 carries its TTL in the header.
    public var hopLimit: Int?
    /// When the kernel received it (SO_TIMESTAMPNS), in CLOCK_MONOTONIC nanoseconds; nil when unknown.
    public var arrival: Int64?

    public init(bytes: ArraySlice<UInt8>, source: IPAddress, destination: IPAddress? = nil, hopLimit: Int? = nil) {
        self.bytes = bytes
        self.source = source
        self.destination = destination
        self.hopLimit = hopLimit
    }
}

/// The raw IP protocol 112 socket of one interface and family: it receives every VRRP packet arriving there
/// (multicast group joined, or unicast), and sends adverts with the header fields VRRP requires: TTL/hop limit 255,
/// TOS 0xC0, no DF, our own IPv4 identification, and the kernel's IPv6 checksum (IPV6_CHECKSUM at offset 6).
/// Our own multicast adverts are not looped back.
public final class VRRPSocket: @unchecked Sendable {
    public let family: IPAddress.Family
    public let interfaceName: String
    public let interfaceIndex: Int32
    public let descriptor: FileDescriptor
    private var buffer = [UInt8](repeating: 0, count: 65536)
    private var control = [UInt8](repeating: 0, count: 256)

    public static let ipProtocol: Int32 = 112

    /// `ipProtocol`: 112, or 51 for an IPv4 socket that receives AH-authenticated adverts (they are sent through
    /// the 112 socket, whose IP_HDRINCL header says 51).
    public init(
        family: IPAddress.Family, interfaceName: String, interfaceIndex: Int32, multicastGroup: IPAddress?,
        ipProtocol: Int32 = VRRPSocket.ipProtocol, sendOnly: Bool = false
    )
        throws(SystemError)
    {
        self.family = family
        self.interfaceName = interfaceName
        self.interfaceIndex = interfaceIndex
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        let type = SOCK_RAW.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue
        let fd = try system("socket(VRRP \(family))") { socket(domain, Int32(type), ipProtocol) }
        descriptor = FileDescriptor(fd)
        _ = try system("setsockopt(SO_BINDTODEVICE \(interfaceName))") {
            interfaceName.withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(strlen($0) + 1)) }
        }
        if sendOnly {
            // A virtual MAC interface's socket: adverts go out through it, they are heard on the base interface's.
            _ = try system("setsockopt(SO_ATTACH_FILTER)") { vigil_drop_all_input(fd) }
        } else {
            // Bursts of adverts from hundreds of routers must fit.
            try? setSocketOption(fd, SOL_SOCKET, SO_RCVBUF, 1 << 20, "SO_RCVBUF")
            // The kernel's time of arrival: Master_Down_Interval runs from when an advert came, not from when
            // the loop got to read it (a wake-up's latency, or a busy moment's).
            try? setSocketOption(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS")
        }
        switch family {
        case .ipv4:
            try setSocketOption(fd, Int32(IPPROTO_IP), IP_HDRINCL, 1, "IP_HDRINCL")
            try setSocketOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP")
            try setSocketOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_TTL, 255, "IP_MULTICAST_TTL")
            var request = vigil_ip_mreqn()
            request.imr_ifindex = interfaceIndex
            _ = try system("setsockopt(IP_MULTICAST_IF)") {
                setsockopt(
                    fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &request, socklen_t(MemoryLayout<vigil_ip_mreqn>.size))
            }
            if let group = multicastGroup, case .v4(let value) = group {
                request.imr_multiaddr.s_addr = value.bigEndian
                _ = try system("setsockopt(IP_ADD_MEMBERSHIP)") {
                    setsockopt(
                        fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &request, socklen_t(MemoryLayout<vigil_ip_mreqn>.size)
                    )
                }
            }
        case .ipv6:
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_CHECKSUM, 6, "IPV6_CHECKSUM")
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP")
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, 255, "IPV6_MULTICAST_HOPS")
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS, 255, "IPV6_UNICAST_HOPS")
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT")
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO")
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_TCLASS, 0xc0, "IPV6_TCLASS")
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, interfaceIndex, "IPV6_MULTICAST_IF")
            if let group = multicastGroup {
                var request = ipv6_mreq()
                request.ipv6mr_multiaddr = Self.in6(group)
                request.ipv6mr_interface = UInt32(interfaceIndex)
                _ = try system("setsockopt(IPV6_JOIN_GROUP)") {
                    setsockopt(
                        fd, Int32(IPPROTO_IPV6), IPV6_JOIN_GROUP, &request, socklen_t(MemoryLayout<ipv6_mreq>.size))
                }
            }
        }
    }

    static func in6(_ address: IPAddress) -> in6_addr {
        var raw = in6_addr()
        let bytes = address.bytes
        withUnsafeMutableBytes(of: &raw) { for index in 0..<16 { $0[index] = bytes[index] } }
        return raw
    }

    /// Sends a whole IPv4 packet, header included (IP_HDRINCL: the kernel fills only the checksum).
    public func send(ipv4Packet packet: [UInt8], to destination: IPAddress) throws(SystemError) {
        let fd = descriptor.rawValue
        guard case .v4(let destinationValue) = destination else {
            throw SystemError("send: an IPv4 packet to \(destination)", errno: EINVAL)
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = destinationValue.bigEndian
        _ = try system("sendto(VRRP \(interfaceName))") {
            packet.withUnsafeBytes { raw in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        }
    }

    /// Sends one IPv6 VRRP payload, with the source in IPV6_PKTINFO; the kernel fills the checksum.
    public func send(ipv6Payload payload: [UInt8], source: IPAddress, destination: IPAddress) throws(SystemError) {
        let fd = descriptor.rawValue
        switch (source, destination) {
        case (.v6, .v6):
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_addr = Self.in6(destination)
            address.sin6_scope_id = UInt32(interfaceIndex)
            var info = vigil_in6_pktinfo()
            info.ipi6_addr = Self.in6(source)
            info.ipi6_ifindex = UInt32(interfaceIndex)
            var control = [UInt8](repeating: 0, count: vigil_cmsg_space(MemoryLayout<vigil_in6_pktinfo>.size))
            var payload = payload
            _ = try system("sendmsg(VRRP \(interfaceName))") {
                payload.withUnsafeMutableBytes { raw in
                    control.withUnsafeMutableBytes { controlRaw in
                        withUnsafeMutablePointer(to: &address) { addressPointer in
                            var vector = iovec(iov_base: raw.baseAddress, iov_len: raw.count)
                            return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                                var message = msghdr()
                                message.msg_name = UnsafeMutableRawPointer(addressPointer)
                                message.msg_namelen = socklen_t(MemoryLayout<sockaddr_in6>.size)
                                message.msg_iov = vectorPointer
                                message.msg_iovlen = 1
                                message.msg_control = controlRaw.baseAddress
                                message.msg_controllen = controlRaw.count
                                let header = vigil_cmsg_firsthdr(&message)!
                                header.pointee.cmsg_level = Int32(IPPROTO_IPV6)
                                header.pointee.cmsg_type = IPV6_PKTINFO
                                header.pointee.cmsg_len = vigil_cmsg_len(MemoryLayout<vigil_in6_pktinfo>.size)
                                vigil_cmsg_data(header).withMemoryRebound(to: vigil_in6_pktinfo.self, capacity: 1) {
                                    $0.pointee = info
                                }
                                return sendmsg(fd, &message, 0)
                            }
                        }
                    }
                }
            }
        default:
            throw SystemError("send: source and destination families differ", errno: EINVAL)
        }
    }

    /// Reads up to `limit` waiting datagrams; `handler` sees each. Returns how many were read.
    @discardableResult
    public func receive(limit: Int = 64, _ handler: (Datagram) -> Void) -> Int {
        var count = 0
        while count < limit {
            guard let datagram = receiveOne() else { break }
            count += 1
            handler(datagram)
        }
        return count
    }

    private func receiveOne() -> Datagram? {
        receiveDatagram(descriptor.rawValue, buffer: &buffer, control: &control)
    }

    static func address(of storage: sockaddr_storage) -> IPAddress? {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    IPAddress.v4(UInt32(bigEndian: $0.pointee.sin_addr.s_addr))
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    withUnsafeBytes(of: $0.pointee.sin6_addr) { IPAddress(bytes: $0) }
                }
            }
        default:
            return nil
        }
    }
}

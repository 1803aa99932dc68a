import CLinux
import Glibc
import VigilConfig

/// BFD's sockets (RFC 5881): one receiving socket per family on UDP port 3784, which reports each packet's TTL or
/// hop limit and destination address; and one sending socket per session, bound to a source port from 49152 to
/// 65535 (and to the session's source address when it has one), sending with the configured TTL.
public final class BFDSocket: @unchecked Sendable {
    public static let controlPort: UInt16 = 3784
    public let family: IPAddress.Family
    public let descriptor: FileDescriptor
    private var buffer = [UInt8](repeating: 0, count: 512)
    private var control = [UInt8](repeating: 0, count: 256)

    /// A receiving socket on the wildcard address and port 3784.
    public init(listening family: IPAddress.Family) throws(SystemError) {
        self.family = family
        let fd = try Self.open(family)
        descriptor = FileDescriptor(fd)
        if family == .ipv4 {
            try setSocketOption(fd, Int32(IPPROTO_IP), IP_RECVTTL, 1, "IP_RECVTTL")
            try setSocketOption(fd, Int32(IPPROTO_IP), IP_PKTINFO, 1, "IP_PKTINFO")
        } else {
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "IPV6_V6ONLY")
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT")
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO")
        }
        try Self.bind(fd, family == .ipv4 ? .v4(0) : .v6(high: 0, low: 0), port: Self.controlPort)
    }

    /// A sending socket: bound to `source` (or the wildcard) and the first free port from `firstPort` on, within
    /// 49152-65535; packets leave with `ttl`.
    public init(sending family: IPAddress.Family, source: IPAddress?, ttl: Int, firstPort: UInt16) throws(SystemError) {
        self.family = family
        let fd = try Self.open(family)
        descriptor = FileDescriptor(fd)
        if family == .ipv4 {
            try setSocketOption(fd, Int32(IPPROTO_IP), IP_TTL, Int32(ttl), "IP_TTL")
        } else {
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "IPV6_V6ONLY")
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS, Int32(ttl), "IPV6_UNICAST_HOPS")
        }
        // Sessions' packets are urgent: the network should treat them as control traffic (keepalived: none set).
        try? setSocketOption(fd, SOL_SOCKET, SO_PRIORITY, 6, "SO_PRIORITY")
        let address = source ?? (family == .ipv4 ? .v4(0) : .v6(high: 0, low: 0))
        let range = 49152...65535
        let start = range.contains(Int(firstPort)) ? Int(firstPort) : range.lowerBound
        var lastError: SystemError?
        for offset in 0..<range.count {
            let port = UInt16(range.lowerBound + (start - range.lowerBound + offset) % range.count)
            do {
                try Self.bind(fd, address, port: port)
                return
            } catch {
                lastError = error
                guard error.errno == EADDRINUSE else { throw error }
            }
        }
        throw lastError ?? SystemError("bind: no free port from 49152 to 65535", errno: EADDRINUSE)
    }

    private static func open(_ family: IPAddress.Family) throws(SystemError) -> Int32 {
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        return try system("socket(BFD \(family))") {
            socket(domain, Int32(SOCK_DGRAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), Int32(IPPROTO_UDP))
        }
    }

    private static func bind(_ fd: Int32, _ address: IPAddress, port: UInt16) throws(SystemError) {
        let socketAddress = InternetSocketAddress(address, port: port)
        _ = try system("bind(\(address) port \(port))") {
            socketAddress.withPointer { Glibc.bind(fd, $0, $1) }
        }
    }

    /// Sends one packet to the neighbour's control port.
    public func send(_ bytes: [UInt8], to neighbor: IPAddress) throws(SystemError) {
        let destination = InternetSocketAddress(neighbor, port: Self.controlPort)
        _ = try system("sendto(\(neighbor))") {
            bytes.withUnsafeBytes { raw in
                destination.withPointer { sendto(descriptor.rawValue, raw.baseAddress, raw.count, 0, $0, $1) }
            }
        }
    }

    /// Reads up to `limit` waiting datagrams; `handler` sees each with its source, destination and TTL.
    @discardableResult
    public func receive(limit: Int = 64, _ handler: (Datagram) -> Void) -> Int {
        var count = 0
        while count < limit, let datagram = receiveOne() {
            count += 1
            handler(datagram)
        }
        return count
    }

    private func receiveOne() -> Datagram? {
        receiveDatagram(descriptor.rawValue, buffer: &buffer, control: &control)
    }
}

/// An IPv4 or IPv6 socket address for bind, connect and sendto.
public struct InternetSocketAddress: Sendable {
    var storage = sockaddr_storage()
    var length: socklen_t

    public init(_ address: IPAddress, port: UInt16) {
        switch address {
        case .v4(let value):
            var inet = sockaddr_in()
            inet.sin_family = sa_family_t(AF_INET)
            inet.sin_port = port.bigEndian
            inet.sin_addr.s_addr = value.bigEndian
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutableBytes(of: &storage) { target in withUnsafeBytes(of: inet) { target.copyMemory(from: $0) } }
        case .v6:
            var inet6 = sockaddr_in6()
            inet6.sin6_family = sa_family_t(AF_INET6)
            inet6.sin6_port = port.bigEndian
            let bytes = address.bytes
            withUnsafeMutableBytes(of: &inet6.sin6_addr) { raw in
                for (index, byte) in bytes.enumerated() { raw[index] = byte }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            withUnsafeMutableBytes(of: &storage) { target in withUnsafeBytes(of: inet6) { target.copyMemory(from: $0) } }
        }
    }

    public func withPointer<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var copy = storage
        return withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
    }
}

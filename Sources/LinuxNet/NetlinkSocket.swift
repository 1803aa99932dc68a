import CLinux
import Glibc

/// A NETLINK_ROUTE socket: requests with acknowledgements (adding and deleting addresses), dumps of links and
/// addresses, and, when opened with groups, a stream of link and address events for the event loop.
public final class NetlinkSocket: @unchecked Sendable {
    public static let linkGroup: UInt32 = 0x1  // RTMGRP_LINK
    public static let ipv4AddressGroup: UInt32 = 0x10  // RTMGRP_IPV4_IFADDR
    public static let ipv6AddressGroup: UInt32 = 0x100  // RTMGRP_IPV6_IFADDR

    public let descriptor: FileDescriptor
    private var sequence: UInt32 = UInt32(truncatingIfNeeded: monotonicNanoseconds() / 1000)
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    /// Opens a socket; with `groups` it also receives those multicast events (a monitor socket).
    /// `family`: NETLINK_ROUTE, or NETLINK_GENERIC for generic netlink (IPVS).
    public init(groups: UInt32 = 0, nonBlocking: Bool = false, family: Int32 = NETLINK_ROUTE) throws(SystemError) {
        let type = SOCK_RAW.rawValue | SOCK_CLOEXEC.rawValue | (nonBlocking ? SOCK_NONBLOCK.rawValue : 0)
        let fd = try system("socket(AF_NETLINK)") { socket(AF_NETLINK, Int32(type), family) }
        descriptor = FileDescriptor(fd)
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        address.nl_groups = groups
        _ = try system("bind(netlink)") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                }
            }
        }
        // Ask the kernel to explain its refusals (NETLINK_EXT_ACK), so that errors name what is wrong.
        try? setSocketOption(fd, 270, 11, 1, "NETLINK_EXT_ACK")
        if groups != 0 {
            // A burst of events must not be lost to a small buffer; ENOBUFS still tells us if it is.
            try? setSocketOption(fd, SOL_SOCKET, SO_RCVBUF, 1 << 20, "SO_RCVBUF")
        }
    }

    func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    /// The kernel's answer to a request: errno (0 for success) and its explanation, if it gave one.
    public struct Outcome: Sendable, Equatable {
        public var errno: Int32
        public var message: String?

        public var succeeded: Bool { errno == 0 }
        public var description: String {
            let reason = String(cString: strerror(errno))
            return message.map { "\(reason): \($0)" } ?? reason
        }
    }

    /// Sends a request and waits for its acknowledgement.
    public func request(_ build: (UInt32) -> [UInt8]) throws(SystemError) -> Outcome {
        let sequence = nextSequence()
        try send(build(sequence))
        while true {
            for event in try receive() {
                if case .acknowledgement(let acknowledged, let code, let message) = event, acknowledged == sequence {
                    return Outcome(errno: code, message: message)
                }
            }
        }
    }

    /// Adds or deletes an address.
    public func changeAddress(
        add: Bool, _ address: InterfaceAddress, protocol proto: UInt8?
    ) throws(SystemError)
        -> Outcome
    {
        try request { NetlinkMessage.address(add: add, address, sequence: $0, protocol: proto) }
    }

    /// Adds or deletes an address (tagged with `addressProtocol` when added), a route or a rule.
    public func change(_ entry: KernelEntry, add: Bool, addressProtocol: UInt8?) throws(SystemError) -> Outcome {
        switch entry {
        case .address(let address):
            try request { NetlinkMessage.address(add: add, address, sequence: $0, protocol: add ? addressProtocol : nil) }
        case .route(let route):
            try request { NetlinkMessage.route(add: add, route, sequence: $0) }
        case .rule(let rule):
            try request { NetlinkMessage.rule(add: add, rule, sequence: $0) }
        }
    }

    /// Every link (or every address) the kernel knows now.
    public func dump(links: Bool) throws(SystemError) -> [NetlinkMessage.Event] {
        let sequence = nextSequence()
        try send(NetlinkMessage.dumpRequest(links: links, sequence: sequence))
        var collected = [NetlinkMessage.Event]()
        while true {
            for event in try receive() {
                switch event {
                case .done(let done) where done == sequence:
                    return collected
                case .acknowledgement(let acknowledged, let code, _) where acknowledged == sequence && code != 0:
                    throw SystemError("netlink dump", errno: code)
                case .link, .address:
                    collected.append(event)
                default:
                    break
                }
            }
        }
    }

    public func send(_ bytes: [UInt8]) throws(SystemError) {
        var kernel = sockaddr_nl()
        kernel.nl_family = sa_family_t(AF_NETLINK)
        let fd = descriptor.rawValue
        _ = try system("sendto(netlink)") {
            bytes.withUnsafeBytes { raw in
                withUnsafePointer(to: &kernel) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                    }
                }
            }
        }
    }

    /// One read's worth of bytes, unparsed (blocks unless the socket is non-blocking).
    public func receiveBytes() throws(SystemError) -> [UInt8] {
        let fd = descriptor.rawValue
        let count = try system("recv(netlink)") {
            buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        }
        return Array(buffer[0..<count])
    }

    /// One read's worth of events (blocks unless the socket is non-blocking).
    public func receive() throws(SystemError) -> [NetlinkMessage.Event] {
        let fd = descriptor.rawValue
        let count = try system("recv(netlink)") {
            buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        }
        return NetlinkMessage.parse(buffer[0..<count])
    }
}

import VigilConfig

/// The kernel's IPVS generic-netlink messages (include/uapi/linux/ip_vs.h): services and destinations added,
/// changed and deleted. Pure bytes; the socket that sends them is in the Checkers target.
public enum IPVSMessage {
    public static let familyName = "IPVS"
    public static let version: UInt8 = 1

    public enum Command: UInt8, Sendable {
        case newService = 1, setService = 2, deleteService = 3, getService = 4
        case newDestination = 5, setDestination = 6, deleteDestination = 7, getDestination = 8
        case flush = 17
    }

    // Netlink flags.
    public static let request: UInt16 = 0x1
    public static let acknowledge: UInt16 = 0x4
    public static let replace: UInt16 = 0x100
    public static let exclusive: UInt16 = 0x200
    public static let create: UInt16 = 0x400

    /// The flags a command goes with: new ones create (and fail if present), set ones replace.
    public static func flags(for command: Command) -> UInt16 {
        switch command {
        case .newService, .newDestination: request | acknowledge | create | exclusive
        case .setService, .setDestination: request | acknowledge | replace
        default: request | acknowledge
        }
    }

    // Attribute numbers.
    enum CommandAttribute: UInt16 { case service = 1, destination = 2 }
    enum ServiceAttribute: UInt16 {
        case family = 1, proto = 2, address = 3, port = 4, firewallMark = 5, scheduler = 6, flags = 7, timeout = 8
        case netmask = 9
    }
    enum DestinationAttribute: UInt16 {
        case address = 1, port = 2, forwardingMethod = 3, weight = 4, upperThreshold = 5, lowerThreshold = 6
        case addressFamily = 11, tunnelType = 13, tunnelPort = 14, tunnelFlags = 15
    }

    /// IP_VS_SVC_F_PERSISTENT.
    static let persistentFlag: UInt32 = 0x1

    /// A whole message: netlink header, generic-netlink header, attributes.
    public static func message(
        _ command: Command, service: Service?, destination: Destination? = nil, familyID: UInt16, sequence: UInt32
    ) -> [UInt8] {
        var body: [UInt8] = [command.rawValue, version, 0, 0]
        if let service {
            // A destination command names its service by its key only.
            let attributes = destination == nil || command == .newService ? serviceAttributes(service) : serviceKey(service)
            body += nested(CommandAttribute.service.rawValue, attributes)
        }
        if let destination {
            body += nested(CommandAttribute.destination.rawValue, destinationAttributes(destination))
        }
        let length = UInt32(16 + body.count)
        var header = [UInt8]()
        header += le(length)
        header += le16(familyID)
        header += le16(flags(for: command))
        header += le(sequence)
        header += le(UInt32(0))
        return header + body
    }

    static func serviceKey(_ service: Service) -> [UInt8] {
        if let mark = service.firewallMark {
            return attribute(ServiceAttribute.family.rawValue, le16(family(service.address)))
                + attribute(ServiceAttribute.firewallMark.rawValue, le(mark))
        }
        return attribute(ServiceAttribute.family.rawValue, le16(family(service.address)))
            + attribute(ServiceAttribute.proto.rawValue, le16(protocolNumber(service.transportProtocol)))
            + attribute(ServiceAttribute.address.rawValue, service.address.bytes)
            + attribute(ServiceAttribute.port.rawValue, be16(service.port))
    }

    static func serviceAttributes(_ service: Service) -> [UInt8] {
        var out = serviceKey(service)
        out += attribute(ServiceAttribute.scheduler.rawValue, Array(service.scheduler.utf8) + [0])
        let persistent = service.persistence != nil
        let flags = (persistent ? persistentFlag : 0) | service.flags
        out += attribute(ServiceAttribute.flags.rawValue, le(flags) + le(UInt32(0xffff_ffff)))
        let timeout = service.persistence.map { UInt32(clamping: $0.components.seconds) } ?? 0
        out += attribute(ServiceAttribute.timeout.rawValue, le(timeout))
        // IPv4: a netmask in network order; IPv6: a prefix length (the kernel refuses IPv6 without one).
        if service.address.family == .ipv4 {
            out += attribute(ServiceAttribute.netmask.rawValue, be32(service.netmask ?? 0xffff_ffff))
        } else {
            out += attribute(ServiceAttribute.netmask.rawValue, le(service.netmask ?? 128))
        }
        if let engine = service.persistenceEngine {
            out += attribute(11, Array(engine.utf8) + [0])  // IPVS_SVC_ATTR_PE_NAME
        }
        return out
    }

    static func destinationAttributes(_ destination: Destination) -> [UInt8] {
        attribute(DestinationAttribute.address.rawValue, destination.address.bytes)
            + attribute(DestinationAttribute.addressFamily.rawValue, le16(family(destination.address)))
            + attribute(DestinationAttribute.port.rawValue, be16(destination.port))
            + attribute(DestinationAttribute.forwardingMethod.rawValue, le(forwarding(destination.forwardingMethod)))
            + attribute(DestinationAttribute.weight.rawValue, le(UInt32(clamping: max(0, destination.weight))))
            + attribute(DestinationAttribute.upperThreshold.rawValue, le(destination.upperThreshold))
            + attribute(DestinationAttribute.lowerThreshold.rawValue, le(destination.lowerThreshold))
            + attribute(DestinationAttribute.tunnelType.rawValue, [destination.tunnel?.kind.rawValue ?? 0])
            + attribute(DestinationAttribute.tunnelPort.rawValue, be16(destination.tunnel?.port ?? 0))
            + attribute(DestinationAttribute.tunnelFlags.rawValue, le16(destination.tunnel?.checksum.rawValue ?? 0))
    }

    /// IP_VS_CONN_F_MASQ 0, TUNNEL 2, DROUTE 3.
    static func forwarding(_ method: VirtualServer.ForwardingMethod) -> UInt32 {
        switch method {
        case .nat: 0
        case .tunnel: 2
        case .directRouting: 3
        }
    }

    static func family(_ address: IPAddress) -> UInt16 { address.family == .ipv4 ? 2 : 10 }

    static func protocolNumber(_ transport: VirtualServer.TransportProtocol) -> UInt16 {
        switch transport {
        case .tcp: 6
        case .udp: 17
        case .sctp: 132
        }
    }

    // MARK: - Attribute encoding (native byte order is little-endian on every Linux Vigil targets)

    static func attribute(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        var out = le16(UInt16(4 + payload.count)) + le16(type) + payload
        while out.count % 4 != 0 { out.append(0) }
        return out
    }

    /// A nested attribute (NLA_F_NESTED is not set, as the kernel's IPVS policy and pyroute2 have it).
    static func nested(_ type: UInt16, _ attributes: [UInt8]) -> [UInt8] {
        attribute(type, attributes)
    }

    static func le(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    static func le16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    static func be16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
    static func be32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

    /// IPVS_CMD_FLUSH: every service and destination goes.
    public static func flush(familyID: UInt16, sequence: UInt32) -> [UInt8] {
        wrap([Command.flush.rawValue, version, 0, 0], familyID: familyID, flags: request | acknowledge, sequence: sequence)
    }

    /// IPVS_CMD_SET_CONFIG: the connection timeouts (seconds; 0 leaves one as it is).
    public static func timeouts(tcp: UInt32, tcpFin: UInt32, udp: UInt32, familyID: UInt16, sequence: UInt32) -> [UInt8] {
        var body: [UInt8] = [12, version, 0, 0]  // IPVS_CMD_SET_CONFIG
        body += attribute(4, le(tcp)) + attribute(5, le(tcpFin)) + attribute(6, le(udp))  // IPVS_CMD_ATTR_TIMEOUT_*
        return wrap(body, familyID: familyID, flags: request | acknowledge, sequence: sequence)
    }

    /// The connection synchronisation daemon's settings.
    public struct SyncDaemon: Equatable, Sendable {
        public var master: Bool
        public var interface: String
        public var syncID: UInt32
        public var maxLength: UInt16?
        public var port: UInt16?
        public var ttl: UInt8?
        public var group: IPAddress?

        public init(master: Bool, interface: String, syncID: UInt32) {
            self.master = master
            self.interface = interface
            self.syncID = syncID
        }
    }

    /// IPVS_CMD_NEW_DAEMON / IPVS_CMD_DEL_DAEMON for a master or backup sync daemon.
    public static func daemon(start: Bool, _ daemon: SyncDaemon, familyID: UInt16, sequence: UInt32) -> [UInt8] {
        var attributes = attribute(1, le(daemon.master ? 1 : 2))  // IPVS_DAEMON_ATTR_STATE
        if start {
            attributes += attribute(2, Array(daemon.interface.utf8) + [0])  // MCAST_IFN
            attributes += attribute(3, le(daemon.syncID))  // SYNC_ID
            if let length = daemon.maxLength { attributes += attribute(4, le16(length)) }  // SYNC_MAXLEN
            if case .v4(let value)? = daemon.group { attributes += attribute(5, be32(value)) }  // MCAST_GROUP
            if let group = daemon.group, group.family == .ipv6 { attributes += attribute(6, group.bytes) }  // GROUP6
            if let port = daemon.port { attributes += attribute(7, le16(port)) }  // MCAST_PORT
            if let ttl = daemon.ttl { attributes += attribute(8, [ttl]) }  // MCAST_TTL
        } else {
            attributes += attribute(3, le(daemon.syncID))
        }
        let body = [start ? 9 : 10, version, 0, 0] + nested(3, attributes)  // IPVS_CMD_ATTR_DAEMON
        return wrap(body, familyID: familyID, flags: request | acknowledge, sequence: sequence)
    }

    static func wrap(_ body: [UInt8], familyID: UInt16, flags: UInt16, sequence: UInt32) -> [UInt8] {
        le(UInt32(16 + body.count)) + le16(familyID) + le16(flags) + le(sequence) + le(UInt32(0)) + body
    }

    /// The family-id request to the generic-netlink controller (CTRL_CMD_GETFAMILY for "IPVS").
    public static func familyRequest(sequence: UInt32) -> [UInt8] {
        let body: [UInt8] = [3, 1, 0, 0] + attribute(2, Array(familyName.utf8) + [0])
        return le(UInt32(16 + body.count)) + le16(0x10) + le16(request) + le(sequence) + le(UInt32(0)) + body
    }

    public enum FamilyReply: Sendable, Equatable {
        case family(UInt16)
        /// The controller's error (ENOENT: the kernel has no IPVS).
        case error(Int32)
    }

    /// The family id in the controller's answer, or the error it carries; nil if unreadable.
    public static func parseFamilyReply(_ bytes: [UInt8]) -> FamilyReply? {
        guard bytes.count >= 16 else { return nil }
        let type = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
        if type == 2 {  // NLMSG_ERROR
            guard bytes.count >= 20 else { return nil }
            let code = Int32(bitPattern: UInt32(bytes[16]) | UInt32(bytes[17]) << 8 | UInt32(bytes[18]) << 16
                | UInt32(bytes[19]) << 24)
            return .error(-code)
        }
        var offset = 20
        while offset + 4 <= bytes.count {
            let length = Int(UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8)
            let kind = UInt16(bytes[offset + 2]) | UInt16(bytes[offset + 3]) << 8
            guard length >= 4, offset + length <= bytes.count else { return nil }
            if kind == 1 && length >= 6 {  // CTRL_ATTR_FAMILY_ID
                return .family(UInt16(bytes[offset + 4]) | UInt16(bytes[offset + 5]) << 8)
            }
            offset += (length + 3) & ~3
        }
        return nil
    }
}

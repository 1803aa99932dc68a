import VigilConfig

/// rtnetlink messages as bytes, both ways: what Vigil asks the kernel (add or delete an address, dump links and
/// addresses) and what the kernel says (links and addresses appearing and going, acknowledgements). Pure code, so
/// the parser can be fuzzed and the encoder compared with other encoders.
public enum NetlinkMessage {
    // Message types and flags of linux/netlink.h and linux/rtnetlink.h.
    public static let error: UInt16 = 2
    public static let done: UInt16 = 3
    public static let newLink: UInt16 = 16
    public static let deleteLink: UInt16 = 17
    public static let getLink: UInt16 = 18
    public static let newAddress: UInt16 = 20
    public static let deleteAddress: UInt16 = 21
    public static let getAddress: UInt16 = 22

    public static let request: UInt16 = 0x1
    public static let multi: UInt16 = 0x2
    public static let acknowledge: UInt16 = 0x4
    public static let dump: UInt16 = 0x300
    public static let replace: UInt16 = 0x100
    public static let exclusive: UInt16 = 0x200
    public static let create: UInt16 = 0x400

    // Address attributes (IFA_*) and link attributes (IFLA_*).
    static let ifaAddress: UInt16 = 1
    static let ifaLocal: UInt16 = 2
    static let ifaLabel: UInt16 = 3
    static let ifaBroadcast: UInt16 = 4
    static let ifaCacheInfo: UInt16 = 6
    static let ifaFlags: UInt16 = 8
    static let ifaProtocol: UInt16 = 11
    static let iflaAddress: UInt16 = 1
    static let iflaName: UInt16 = 3
    static let iflaMTU: UInt16 = 4
    static let iflaOperState: UInt16 = 16

    public static let headerLength = 16

    /// Everything a message from the kernel can tell Vigil.
    public enum Event: Hashable, Sendable {
        case link(Link, removed: Bool)
        case address(InterfaceAddress, removed: Bool)
        /// An acknowledgement (errno 0) or the failure of request `sequence`, with the kernel's explanation when it
        /// gave one (extended acknowledgement).
        case acknowledgement(sequence: UInt32, errno: Int32, message: String?)
        case done(sequence: UInt32)
    }

    // MARK: - Requests

    /// `RTM_NEWADDR` / `RTM_DELADDR` for one address on one interface, tagged with `protocol` (IFA_PROTO) so that
    /// Vigil can tell its own addresses from everyone else's.
    public static func address(
        add: Bool, _ address: InterfaceAddress, sequence: UInt32, protocol proto: UInt8?
    ) -> [UInt8] {
        var body = [UInt8]()
        let family: UInt8 = address.prefix.address.family == .ipv4 ? 2 : 10
        body.append(family)
        body.append(UInt8(address.prefix.length))
        body.append(UInt8(truncatingIfNeeded: address.flags & 0xff))
        body.append(address.scope)
        appendInt32(&body, address.index)
        let bytes = address.prefix.address.bytes
        appendAttribute(&body, ifaLocal, bytes)
        appendAttribute(&body, ifaAddress, address.peer?.bytes ?? bytes)
        if let broadcast = address.broadcast { appendAttribute(&body, ifaBroadcast, broadcast.bytes) }
        if let label = address.label, add { appendAttribute(&body, ifaLabel, Array(label.utf8) + [0]) }
        if address.flags > 0xff { appendAttribute(&body, ifaFlags, uint32(address.flags)) }
        if let proto, add { appendAttribute(&body, ifaProtocol, [proto]) }
        if let lifetime = address.preferredLifetime, add {
            // struct ifa_cacheinfo: preferred, valid, created, updated.
            appendAttribute(&body, ifaCacheInfo, uint32(lifetime) + uint32(UInt32.max) + uint32(0) + uint32(0))
        }
        let flags = request | acknowledge | (add ? create | exclusive : 0)
        return message(type: add ? newAddress : deleteAddress, flags: flags, sequence: sequence, body: body)
    }

    /// A dump request for every link or every address.
    public static func dumpRequest(links: Bool, sequence: UInt32) -> [UInt8] {
        var body: [UInt8]
        if links {
            body = [UInt8](repeating: 0, count: 16)  // struct ifinfomsg, family AF_UNSPEC
        } else {
            body = [UInt8](repeating: 0, count: 8)  // struct ifaddrmsg, family AF_UNSPEC
        }
        return message(type: links ? getLink : getAddress, flags: request | dump, sequence: sequence, body: body)
    }

    static func message(type: UInt16, flags: UInt16, sequence: UInt32, body: [UInt8]) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(headerLength + body.count)
        bytes += uint32(UInt32(headerLength + body.count))
        bytes += uint16(type)
        bytes += uint16(flags)
        bytes += uint32(sequence)
        bytes += uint32(0)
        bytes += body
        return bytes
    }

    static func appendAttribute(_ bytes: inout [UInt8], _ type: UInt16, _ value: [UInt8]) {
        bytes += uint16(UInt16(4 + value.count))
        bytes += uint16(type)
        bytes += value
        while bytes.count % 4 != 0 { bytes.append(0) }
    }

    static func appendInt32(_ bytes: inout [UInt8], _ value: Int32) { bytes += uint32(UInt32(bitPattern: value)) }

    /// Host byte order, as netlink wants.
    static func uint32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
    static func uint16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    // MARK: - Parsing

    /// Every event in a buffer of netlink messages. Malformed messages end the walk; nothing is trusted.
    public static func parse(_ buffer: ArraySlice<UInt8>) -> [Event] {
        var events = [Event]()
        var offset = buffer.startIndex
        while buffer.endIndex - offset >= headerLength {
            let length = Int(readUInt32(buffer, offset))
            guard length >= headerLength, length <= buffer.endIndex - offset else { break }
            let type = readUInt16(buffer, offset + 4)
            let flags = readUInt16(buffer, offset + 6)
            let sequence = readUInt32(buffer, offset + 8)
            let body = buffer[(offset + headerLength)..<(offset + length)]
            switch type {
            case error:
                if body.count >= 4 {
                    let code = Int32(bitPattern: readUInt32(body, body.startIndex))
                    // The kernel sends -errno; clamped, so that Int32.min cannot trap on negation.
                    events.append(
                        .acknowledgement(
                            sequence: sequence, errno: Int32(clamping: -Int64(code)),
                            message: extendedMessage(body, flags: flags)))
                }
            case done:
                events.append(.done(sequence: sequence))
            case newLink, deleteLink:
                if let link = parseLink(body) { events.append(.link(link, removed: type == deleteLink)) }
            case newAddress, deleteAddress:
                if let address = parseAddress(body) { events.append(.address(address, removed: type == deleteAddress)) }
            default:
                break
            }
            offset += (length + 3) & ~3
        }
        return events
    }

    /// The text of an extended acknowledgement (NLMSGERR_ATTR_MSG), after the echoed request.
    static func extendedMessage(_ body: ArraySlice<UInt8>, flags: UInt16) -> String? {
        let capped: UInt16 = 0x100
        let tlvs: UInt16 = 0x200
        guard flags & tlvs != 0, body.count >= 4 + headerLength else { return nil }
        let echoed = flags & capped != 0 ? headerLength : Int(readUInt32(body, body.startIndex + 4))
        let start = body.startIndex + 4 + ((echoed + 3) & ~3)
        guard start <= body.endIndex else { return nil }
        for (type, value) in attributes(body[start...]) where type == 1 {
            return String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
        }
        return nil
    }

    static func parseLink(_ body: ArraySlice<UInt8>) -> Link? {
        guard body.count >= 16 else { return nil }
        let base = body.startIndex
        let index = Int32(bitPattern: readUInt32(body, base + 4))
        let flags = readUInt32(body, base + 8)
        var link = Link(index: index, name: "", flags: flags)
        for (type, value) in attributes(body[(base + 16)...]) {
            switch type {
            case iflaName: link.name = String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
            case iflaAddress: link.hardwareAddress = Array(value)
            case iflaMTU: if value.count >= 4 { link.mtu = Int(readUInt32(value, value.startIndex)) }
            case iflaOperState: if let state = value.first { link.operationalState = state }
            case 5: if value.count >= 4 { link.parentIndex = Int32(bitPattern: readUInt32(value, value.startIndex)) }  // IFLA_LINK
            case 18:  // IFLA_LINKINFO: IFLA_INFO_KIND
                for (infoType, info) in attributes(value) where infoType == 1 {
                    link.kind = String(decoding: info.prefix { $0 != 0 }, as: UTF8.self)
                }
            default: break
            }
        }
        return link
    }

    static func parseAddress(_ body: ArraySlice<UInt8>) -> InterfaceAddress? {
        guard body.count >= 8 else { return nil }
        let base = body.startIndex
        let family = body[base]
        let length = Int(body[base + 1])
        let flags = UInt32(body[base + 2])
        let scope = body[base + 3]
        let index = Int32(bitPattern: readUInt32(body, base + 4))
        let size = family == 2 ? 4 : family == 10 ? 16 : 0
        guard size > 0 else { return nil }
        var local: IPAddress?
        var address: IPAddress?
        var result = InterfaceAddress(index: index, prefix: IPPrefix(address: .v4(0), length: 0), scope: scope)
        result.flags = flags
        for (type, value) in attributes(body[(base + 8)...]) {
            switch type {
            case ifaLocal: if value.count == size { local = IPAddress(bytes: value) }
            case ifaAddress: if value.count == size { address = IPAddress(bytes: value) }
            case ifaBroadcast: if value.count == size { result.broadcast = IPAddress(bytes: value) }
            case ifaLabel: result.label = String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
            case ifaFlags: if value.count >= 4 { result.flags = readUInt32(value, value.startIndex) }
            case ifaProtocol: result.protocol = value.first
            default: break
            }
        }
        // For point-to-point addresses IFA_LOCAL is ours and IFA_ADDRESS the peer; otherwise they are equal.
        guard let own = local ?? address else { return nil }
        guard length <= own.maximumPrefixLength else { return nil }
        result.prefix = IPPrefix(address: own, length: length)
        if let local, let address, local != address { result.peer = address }
        return result
    }

    /// The (type, value) pairs of a run of rtattrs, stopping at the first malformed one.
    static func attributes(_ bytes: ArraySlice<UInt8>) -> [(UInt16, ArraySlice<UInt8>)] {
        var result = [(UInt16, ArraySlice<UInt8>)]()
        var offset = bytes.startIndex
        while bytes.endIndex - offset >= 4 {
            let length = Int(readUInt16(bytes, offset))
            let type = readUInt16(bytes, offset + 2) & 0x3fff  // strip NLA_F_NESTED / NLA_F_NET_BYTEORDER
            guard length >= 4, length <= bytes.endIndex - offset else { break }
            result.append((type, bytes[(offset + 4)..<(offset + length)]))
            offset += (length + 3) & ~3
        }
        return result
    }

    static func readUInt32(_ bytes: ArraySlice<UInt8>, _ offset: Int) -> UInt32 {
        var value: UInt32 = 0
        withUnsafeMutableBytes(of: &value) { raw in
            for index in 0..<4 { raw[index] = bytes[offset + index] }
        }
        return value
    }

    static func readUInt16(_ bytes: ArraySlice<UInt8>, _ offset: Int) -> UInt16 {
        var value: UInt16 = 0
        withUnsafeMutableBytes(of: &value) { raw in
            for index in 0..<2 { raw[index] = bytes[offset + index] }
        }
        return value
    }
}

/// A network interface as rtnetlink describes it.
public struct Link: Hashable, Sendable {
    public var index: Int32
    public var name: String
    /// IFF_* flags.
    public var flags: UInt32
    public var mtu: Int = 1500
    public var hardwareAddress: [UInt8] = []
    /// IF_OPER_* (6 = up).
    public var operationalState: UInt8 = 0
    /// IFLA_LINK: the interface a macvlan, ipvlan or VLAN sits on.
    public var parentIndex: Int32?
    /// IFLA_INFO_KIND: "macvlan", "ipvlan", "veth", ...; nil for a physical interface.
    public var kind: String?

    public init(index: Int32, name: String, flags: UInt32) {
        self.index = index
        self.name = name
        self.flags = flags
    }

    static let up: UInt32 = 0x1
    static let running: UInt32 = 0x40
    static let lowerUp: UInt32 = 0x10000

    /// Administratively up and with carrier: VRRP can run on it.
    public var isUp: Bool { flags & Self.up != 0 && flags & Self.running != 0 }
}

/// An address on an interface, as rtnetlink describes it (and as Vigil asks for one).
public struct InterfaceAddress: Hashable, Sendable {
    public var index: Int32
    public var prefix: IPPrefix
    public var peer: IPAddress?
    public var broadcast: IPAddress?
    public var label: String?
    /// IFA_F_* flags.
    public var flags: UInt32 = 0
    /// RT_SCOPE_*: 0 universe, 253 link, 254 host.
    public var scope: UInt8 = 0
    /// IFA_PROTO: who added the address.
    public var `protocol`: UInt8?
    public var preferredLifetime: UInt32?

    public init(index: Int32, prefix: IPPrefix, scope: UInt8 = 0) {
        self.index = index
        self.prefix = prefix
        self.scope = scope
    }

    static let secondary: UInt32 = 0x01
    static let noDAD: UInt32 = 0x02
    static let homeAddress: UInt32 = 0x10
    static let deprecated: UInt32 = 0x20
    static let tentative: UInt32 = 0x40
    static let manageTemporary: UInt32 = 0x100
    static let noPrefixRoute: UInt32 = 0x200
    static let multicastAutoJoin: UInt32 = 0x400

    public var isSecondary: Bool { flags & Self.secondary != 0 }
}

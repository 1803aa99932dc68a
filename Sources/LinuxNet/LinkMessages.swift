import VigilConfig

/// rtnetlink requests for the links Vigil creates: keepalived's virtual MAC interfaces (`use_vmac`, a macvlan in
/// private mode) and `use_ipvlan` interfaces.
extension NetlinkMessage {
    static let setLink: UInt16 = 19

    /// What kind of virtual interface to create on a base interface.
    public enum VirtualLinkKind: Hashable, Sendable {
        /// MACVLAN_MODE_PRIVATE, with this MAC.
        case macvlan(mac: [UInt8])
        /// IPVLAN_MODE_L2 with the IPVLAN_F_* flags (0 bridge, 1 private, 2 vepa).
        case ipvlan(flags: UInt16)
    }

    /// RTM_NEWLINK creating `name` on `base` (down: it is configured before it comes up).
    public static func createLink(
        name: String, base: Int32, kind: VirtualLinkKind, sequence: UInt32
    ) -> [UInt8] {
        var body = [UInt8](repeating: 0, count: 16)  // struct ifinfomsg, AF_UNSPEC
        appendAttribute(&body, iflaName, Array(name.utf8) + [0])
        appendAttribute(&body, 5, uint32(UInt32(bitPattern: base)))  // IFLA_LINK
        var info = [UInt8]()
        switch kind {
        case .macvlan(let mac):
            appendAttribute(&body, iflaAddress, mac)
            appendAttribute(&info, 1, Array("macvlan".utf8))  // IFLA_INFO_KIND
            var data = [UInt8]()
            appendAttribute(&data, 1, uint32(1))  // IFLA_MACVLAN_MODE: MACVLAN_MODE_PRIVATE
            appendAttribute(&info, 2, data)  // IFLA_INFO_DATA
        case .ipvlan(let flags):
            appendAttribute(&info, 1, Array("ipvlan".utf8))
            var data = [UInt8]()
            appendAttribute(&data, 1, uint16(0))  // IFLA_IPVLAN_MODE: IPVLAN_MODE_L2
            appendAttribute(&data, 2, uint16(flags))  // IFLA_IPVLAN_FLAGS
            appendAttribute(&info, 2, data)
        }
        appendAttribute(&body, 18, info)  // IFLA_LINKINFO
        return message(
            type: newLink, flags: request | acknowledge | create | exclusive, sequence: sequence, body: body)
    }

    /// RTM_DELLINK.
    public static func deleteLink(index: Int32, sequence: UInt32) -> [UInt8] {
        var body = [UInt8](repeating: 0, count: 16)
        body.replaceSubrange(4..<8, with: uint32(UInt32(bitPattern: index)))
        return message(type: deleteLink, flags: request | acknowledge, sequence: sequence, body: body)
    }

    /// RTM_NEWLINK setting IFF_UP (or clearing it).
    public static func setLinkUp(index: Int32, up: Bool, sequence: UInt32) -> [UInt8] {
        var body = [UInt8](repeating: 0, count: 16)
        body.replaceSubrange(4..<8, with: uint32(UInt32(bitPattern: index)))
        body.replaceSubrange(8..<12, with: uint32(up ? 1 : 0))  // ifi_flags
        body.replaceSubrange(12..<16, with: uint32(1))  // ifi_change: IFF_UP
        return message(type: newLink, flags: request | acknowledge, sequence: sequence, body: body)
    }

    /// RTM_NEWLINK setting IPv6 address generation to "none" (IN6_ADDR_GEN_MODE_NONE): the kernel then makes no
    /// EUI-64 link-local address, which would announce the virtual MAC from a backup.
    public static func setNoAddressGeneration(index: Int32, sequence: UInt32) -> [UInt8] {
        var body = [UInt8](repeating: 0, count: 16)
        body.replaceSubrange(4..<8, with: uint32(UInt32(bitPattern: index)))
        var inet6 = [UInt8]()
        appendAttribute(&inet6, 8, [1])  // IFLA_INET6_ADDR_GEN_MODE: IN6_ADDR_GEN_MODE_NONE
        var spec = [UInt8]()
        appendAttribute(&spec, 10, inet6)  // AF_INET6
        appendAttribute(&body, 26, spec)  // IFLA_AF_SPEC
        return message(type: newLink, flags: request | acknowledge, sequence: sequence, body: body)
    }
}

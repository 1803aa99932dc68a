/// A route from `virtual_routes` or `static_routes`, typed as rtnetlink carries it: every option keepalived 2.2.7
/// accepts, with names (tables, protocols, scopes, realms, dsfields) already resolved to numbers.
public struct Route: Hashable, Sendable {
    /// How an add meets a route with the same key: `prepend` (keepalived's default: no flag), `add`
    /// (NLM_F_EXCL), `append` (NLM_F_APPEND).
    public enum AddMode: Hashable, Sendable { case prepend, add, append }

    /// RTA_METRICS: RTAX_* values, the locked ones, the congestion control algorithm, features.
    public struct Metrics: Hashable, Sendable {
        /// RTAX_* number to value, for the numeric metrics written.
        public var values: [UInt16: UInt32] = [:]
        /// One bit per locked RTAX_* number (RTAX_LOCK).
        public var locked: UInt32 = 0
        public var congestionControl: String?
        /// RTAX_FEATURES bits (`features ecn`).
        public var features: UInt32 = 0

        public var isEmpty: Bool { values.isEmpty && congestionControl == nil && features == 0 }

        public static let mtu: UInt16 = 2
        public static let window: UInt16 = 3
        public static let rtt: UInt16 = 4
        public static let rttvar: UInt16 = 5
        public static let ssthresh: UInt16 = 6
        public static let cwnd: UInt16 = 7
        public static let advmss: UInt16 = 8
        public static let reordering: UInt16 = 9
        public static let hoplimit: UInt16 = 10
        public static let initcwnd: UInt16 = 11
        public static let features: UInt16 = 12
        public static let rtoMin: UInt16 = 13
        public static let initrwnd: UInt16 = 14
        public static let quickack: UInt16 = 15
        public static let congestionControlAlgorithm: UInt16 = 16
        public static let fastopenNoCookie: UInt16 = 17
    }

    /// One `nexthop` of a multipath route.
    public struct NextHop: Hashable, Sendable {
        public var gateway: IPAddress?
        public var device: String?
        /// 1 to 256.
        public var weight: Int?
        public var onlink = false
        public var realms: UInt32?

        public init() {}
    }

    public var family: IPAddress.Family = .ipv4
    /// RTN_*: unicast (1) unless written.
    public var type: UInt8 = 1
    /// A delete names the type only when it was written (otherwise any type matches).
    public var typeWasWritten = false
    /// nil for `default`.
    public var destination: IPPrefix?
    /// `from`: the source prefix (IPv6 only).
    public var source: IPPrefix?
    /// `src`: the preferred source address.
    public var preferredSource: IPAddress?
    /// `via` (or the deprecated `gw`).
    public var gateway: IPAddress?
    /// `dev` or `oif`.
    public var device: String?
    /// `table`: main (254) unless written.
    public var table: UInt32 = 254
    /// The protocol the kernel gets: keepalived's (18) unless the route is written `no_track` with a `protocol`.
    public var protocolNumber: UInt8 = Route.keepalivedProtocol
    /// `scope`, when written (an add then uses it; otherwise universe).
    public var scope: UInt8?
    /// `tos` or `dsfield`.
    public var tos: UInt8?
    /// `metric`, `priority` or `preference`.
    public var metric: UInt32?
    public var onlink = false
    /// `realms FROM/TO` as the kernel packs it (FROM << 16 | TO).
    public var realms: UInt32?
    /// `expires` seconds (IPv6).
    public var expires: UInt32?
    /// `pref low|medium|high|N` (IPv6): the router preference.
    public var preference: UInt8?
    /// `ttl-propagate enabled|disabled`.
    public var ttlPropagate: UInt8?
    public var metrics = Metrics()
    public var nextHops: [NextHop] = []
    public var addMode = AddMode.prepend
    /// Whether the route's interface going down faults the instance (and its deletion by someone else counts).
    /// False for `no_track` and for a route naming no interface.
    public var tracked = true
    public var trackGroup: String?
    /// The item word for word, for messages and dumps.
    public var words: [String]
    public var location: SourceLocation

    /// RTPROT_KEEPALIVED: the protocol keepalived tags its routes and rules with, and so does Vigil (tools that
    /// list `proto keepalived` keep working).
    public static let keepalivedProtocol: UInt8 = 18

    public init(words: [String], location: SourceLocation) {
        self.words = words
        self.location = location
    }

    /// Every interface the route names (its own and its next hops').
    public var devices: [String] {
        var names = [String]()
        for name in [device] + nextHops.map(\.device) {
            if let name, !names.contains(name) { names.append(name) }
        }
        return names
    }

    public var destinationText: String {
        destination.map(\.description) ?? (family == .ipv6 ? "default (IPv6)" : "default")
    }
}

/// A policy routing rule from `virtual_rules` or `static_rules`, typed as rtnetlink carries it.
public struct Rule: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        case table(UInt32)
        case goto(UInt32)
        case nop
        case blackhole
        case unreachable
        case prohibit
        /// `l3mdev`: look up the table of the packet's L3 master device.
        case l3mdev

        public var looksUpTable: Bool {
            if case .table = self { true } else { false }
        }
    }

    public var family: IPAddress.Family = .ipv4
    /// `not`.
    public var invert = false
    public var from: IPPrefix?
    public var to: IPPrefix?
    /// `preference`, `order` or `priority`; keepalived's count-down from 16384 when not written.
    public var preference: UInt32 = 0
    public var tos: UInt8 = 0
    public var fwmark: UInt32?
    /// Sent only when written (`fwmark V/M`).
    public var fwmask: UInt32?
    public var realms: UInt32?
    public var suppressPrefixLength: Int32?
    public var suppressInterfaceGroup: UInt32?
    /// `dev` or `iif`.
    public var inputInterface: String?
    public var outputInterface: String?
    public var tunnelID: UInt64?
    public var uidRange: ClosedRange<UInt32>?
    public var ipProtocol: UInt8?
    public var sourcePorts: ClosedRange<UInt16>?
    public var destinationPorts: ClosedRange<UInt16>?
    public var action = Action.nop
    /// FRA_PROTOCOL: keepalived's (18) for a tracked rule; for a `no_track` rule the written `protocol`, if any.
    public var protocolNumber: UInt8? = Route.keepalivedProtocol
    public var tracked = true
    public var trackGroup: String?
    public var words: [String]
    public var location: SourceLocation

    public init(words: [String], location: SourceLocation) {
        self.words = words
        self.location = location
    }

    /// Every interface the rule names.
    public var devices: [String] {
        var names = [String]()
        for name in [inputInterface, outputInterface] {
            if let name, !names.contains(name) { names.append(name) }
        }
        return names
    }
}

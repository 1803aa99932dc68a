/// `vrrp_instance NAME { ... }`: one virtual router on one interface, with every keyword keepalived 2.2.7 reads.
/// Defaults are resolved: a value read from here never needs a fallback.
public struct VRRPInstance: Hashable, Sendable {
    public enum InitialState: String, Hashable, Sendable {
        case master = "MASTER"
        case backup = "BACKUP"
    }

    public var name: String
    public var location: SourceLocation

    public var initialState: InitialState = .backup
    /// Whether `state` was written; keepalived starts an instance without it as BACKUP unless priority is 255.
    public var initialStateWasSet = false
    public var interface: String?
    public var virtualRouterID: Int?
    /// The configured priority: 100 by default, 255 for `state MASTER` without one.
    public var priority = 100
    public var priorityWasSet = false
    /// Advertisement interval; version 2 uses whole seconds, version 3 centiseconds.
    public var advertisementInterval: Duration = .seconds(1)
    public var version = 2
    public var versionWasSet = false
    public var nopreempt = false
    public var preemptDelay: Duration = .zero
    public var authentication: Authentication?

    public var unicastSourceIP: IPAddress?
    public var unicastPeers: [UnicastPeer] = []
    public var unicastTTL: Int?
    public var multicastSourceIP: IPAddress?
    public var multicastDestinationIP: IPAddress?
    public var checkUnicastSource = false
    public var unicastFaultNoPeer = false
    /// Why the instance can never run as configured (it stays in FAULT, as keepalived's configuration faults):
    /// `unicast_fault_no_peer` with no peer.
    public var configurationFault: String?
    public var nativeIPv6 = false

    public var virtualAddresses: [VirtualAddress] = []
    public var excludedVirtualAddresses: [VirtualAddress] = []
    public var virtualRoutes: [Route] = []
    public var virtualRules: [Rule] = []

    public var trackInterfaces: [TrackedInterface] = []
    public var trackScripts: [TrackedReference] = []
    public var trackFiles: [TrackedReference] = []
    public var trackProcesses: [TrackedReference] = []
    public var trackBFDs: [TrackedReference] = []
    public var dontTrackPrimary = false

    @OutOfLine public var notify = NotifyScripts()
    @OutOfLine public var notifyDeleted: ScriptCommand? = nil
    public var notifyDeletedEnabled = false
    @OutOfLine public var notifyMasterRxLowerPriority: ScriptCommand? = nil
    public var notifyPriorityChanges: Bool?
    public var smtpAlert: Bool?

    public var garp = GratuitousARPSettings()
    public var downTimerAdverts: Int?
    public var lowerPriorityNoAdvert: Bool?
    public var higherPrioritySendAdvert: Bool?

    public var useVMAC: VirtualMAC?
    /// `vmac_xmit_base` as written (it applies only with `use_vmac`).
    public var vmacTransmitFromBase = false
    /// `linkbeat_use_polling` in the instance (deprecated): its interface's carrier is read every second.
    public var linkbeatUsePolling = false
    /// `garp_extra_if [all] SECS` (or the global default); nil or an interval of 0: off.
    public var garpExtraInterfaces: ExtraInterfaceAnnouncements?
    public var accept: Bool?
    public var strictMode: Bool?
    public var skipCheckAdvertAddresses: Bool?
    public var promoteSecondaries = false
    public var debugLevel = 0
    public var kernelRxBufferSize: Int?

    public var otherSettings: [Setting] = []
    /// Where each keyword of the block was written, for diagnostics about it.
    public var keywordLocations: [String: SourceLocation] = [:]

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }

    /// Where `keyword` was written, or the instance's own line.
    public func location(of keyword: String) -> SourceLocation { keywordLocations[keyword] ?? location }

    /// The address family the instance speaks: from its first virtual address, else its unicast source or
    /// peers, else `native_ipv6`, else IPv4.
    public var family: IPAddress.Family {
        if let first = virtualAddresses.first { return first.prefix.address.family }
        if let source = unicastSourceIP { return source.family }
        if let peer = unicastPeers.first { return peer.address.family }
        return nativeIPv6 ? .ipv6 : .ipv4
    }

    public var isUnicast: Bool { !unicastPeers.isEmpty }

    /// Whether this node owns the addresses (priority 255): it goes master at once and always preempts.
    public var isAddressOwner: Bool { priority == 255 }
}

public enum Authentication: Hashable, Sendable {
    /// Simple text password (`auth_type PASS`), at most 8 bytes on the wire.
    case password([UInt8])
    /// IPsec AH with a key (`auth_type AH`).
    case ah([UInt8])
}

public struct UnicastPeer: Hashable, Sendable {
    public var address: IPAddress
    public var minimumTTL: Int?
    public var maximumTTL: Int?
    public var location: SourceLocation
}

/// An address a virtual router holds while master (`virtual_ipaddress`), or that the daemon adds at start
/// (`static_ipaddress`).
public struct VirtualAddress: Hashable, Sendable {
    public var prefix: IPPrefix
    /// Whether a prefix length was written; without one, IPv4 is /32 and IPv6 /128.
    public var prefixWasSet = false
    public var broadcast: Broadcast?
    public var device: String?
    public var scope: String?
    public var label: String?
    public var peer: IPAddress?
    public var flags: Set<Flag> = []
    public var preferredLifetime: UInt32?
    public var trackGroup: String?
    public var location: SourceLocation

    public enum Broadcast: Hashable, Sendable {
        case address(IPAddress)
        /// `brd +`: all host bits set.
        case allOnes
        /// `brd -`: all host bits clear.
        case allZeros
    }

    public enum Flag: String, Hashable, Sendable, CaseIterable {
        case home, noDAD = "-nodad", manageTemporaryAddress = "mngtmpaddr", noPrefixRoute = "noprefixroute"
        case autoJoin = "autojoin", noTrack = "no_track", useVMAC = "use_vmac"
    }

    public init(prefix: IPPrefix, location: SourceLocation) {
        self.prefix = prefix
        self.location = location
    }
}

/// `use_vmac [NAME] [MAC]` (with `vmac_xmit_base`): the instance's addresses live on a macvlan interface of its
/// own, with the virtual router's MAC address (RFC 5798 7.3), so that clients keep one neighbour entry across a
/// failover.
public struct VirtualMAC: Hashable, Sendable {
    /// The interface's name as written; otherwise `vrrp.VRID` (keepalived's naming).
    public var interfaceName: String?
    /// The MAC as written (validated into `mac`).
    public var written: String?
    /// 6 bytes, once validated: the written one (a 5-byte one completed with the VRID), else 00:00:5e:00:01:VRID
    /// (IPv4) or 00:00:5e:00:02:VRID (IPv6).
    public var mac: [UInt8] = []
    /// `vmac_xmit_base`: adverts go out from the base interface (its MAC, its socket), only the addresses live on the
    /// macvlan.
    public var transmitFromBase = false
    /// A macvlan (`use_vmac`), or an ipvlan in L2 mode (`use_ipvlan`, which keeps the base's MAC).
    public var kind = Kind.macvlan
    /// `use_ipvlan`'s address: added to the ipvlan, and the instance's source unless one is configured.
    public var ipvlanAddress: IPPrefix?
    public var location: SourceLocation

    public enum Kind: Hashable, Sendable {
        case macvlan
        /// IPVLAN_F_* flags: 0 bridge, 1 private, 2 vepa.
        case ipvlan(flags: UInt16)
    }

    public init(location: SourceLocation) { self.location = location }
}

/// `track_interface` item: `IFNAME [weight W [reverse]]`.
public struct TrackedInterface: Hashable, Sendable {
    public var name: String
    /// 0 means: interface down puts the instance in FAULT.
    public var weight = 0
    public var reverse = false
    public var location: SourceLocation
}

/// `track_script`, `track_file`, `track_process` and `track_bfd` items: a name defined elsewhere, with a weight
/// and direction that override the defined one when given.
public struct TrackedReference: Hashable, Sendable {
    public var name: String
    public var weight: Int?
    public var reverse: Bool?
    public var location: SourceLocation
}

/// The scripts an instance or sync group runs on its transitions.
public struct NotifyScripts: Hashable, Sendable, EmptyByDefault {
    public static let empty = NotifyScripts()

    public var master: ScriptCommand?
    public var backup: ScriptCommand?
    public var fault: ScriptCommand?
    public var stop: ScriptCommand?
    /// Runs after the state's own script, with `INSTANCE|GROUP name STATE priority` appended.
    public var generic: ScriptCommand?

    public init() {}

    public var all: [ScriptCommand] { [master, backup, fault, stop, generic].compactMap { $0 } }

    public var isEmpty: Bool { self == .empty }
}

import Checksums
import LinuxNet
import VRRP
import VigilConfig

/// A router's identity inside the planner, stable across reloads (an instance matched by a reload keeps it).
struct RouterID: Hashable, Comparable, Sendable, CustomStringConvertible {
    let value: Int
    static func < (lhs: RouterID, rhs: RouterID) -> Bool { lhs.value < rhs.value }
    var description: String { "router \(value)" }
}

/// A raw VRRP socket: one per interface and family (and, for AH, a second IPv4 one for protocol 51).
struct SocketKey: Hashable, Sendable {
    var index: Int32
    var family: IPAddress.Family
    /// The IPv4 socket for protocol 51 (AH-authenticated adverts); adverts go out through the other one.
    var authenticated = false
    /// A virtual MAC interface's socket: adverts go out through it; nothing is read from it.
    var sendOnly = false
}

/// One `vrrp_instance` at run time, as the planner keeps it: its state machine, what it expects of adverts, where
/// it sends them from and to, the addresses it added, its trackers and its counters. A value: the planner owns it.
struct RouterState {
    let id: RouterID
    private(set) var instance: VRRPInstance
    var router: VirtualRouter
    private(set) var policy: ReceivePolicy
    let family: IPAddress.Family
    /// The interface adverts go out on, once it exists.
    var interfaceIndex: Int32?
    /// `use_vmac`: the virtual MAC interface's name (chosen when the router attaches), and its index once it exists.
    var vmacName: String?
    var vmacIndex: Int32?
    /// A creation was asked for and not answered yet.
    var vmacPending = false
    /// Where adverts go: the multicast group, or every unicast peer.
    private(set) var destinations: [IPAddress]
    /// The configured source (`unicast_src_ip` / `mcast_src_ip`); otherwise the interface's primary address.
    private(set) var configuredSource: IPAddress?
    var counters = Counters()
    var identification: UInt16 = 0
    /// The addresses, routes and rules this router added, exactly as added, so exactly these are removed.
    var owned: [KernelEntry] = []
    var lastTransition: (time: MonotonicTime, reason: VirtualRouter.Reason)?
    /// The last transitions, oldest first (at most `historyLength`), for `vigil status`.
    var history: [(time: MonotonicTime, from: VirtualRouter.State, to: VirtualRouter.State, reason: VirtualRouter.Reason)] = []
    static let historyLength = 16
    /// Rate limiting for rejected-packet log lines: when each kind was last logged, and how many since.
    /// (Empty, and so unallocated, until a first advert is dropped: most routers never see one.)
    var rejectionLog: [Rejection: (last: MonotonicTime, suppressed: Int)] = [:]
    /// What this router tracks (its own `track_*` and its sync group's), with their current values.
    var trackedItems: [TrackedItem] = []
    /// The first weight-0 tracker that is down, if any.
    var trackerFault: String?
    /// Why this router cannot run on its own account (link or trackers); its sync group adds its members'.
    var individualFault: String?
    /// Its sync group's name.
    var group: String?
    /// Whether `start` ran (a router waits for its scripts' first results).
    var started = false
    /// A reload removed it: its stop is a deletion.
    var retiring = false
    /// AH authentication: the HMAC key, and the sequence number sent and accepted.
    private(set) var authenticationKey: HMACMD5?
    var authenticationSequence = AuthenticationSequence()
    /// The VRRP part of the adverts last sent, one per destination, for the priority and source they were made
    /// for: a master sends the same bytes every interval, so they are encoded and summed once, not per advert.
    /// A reload's `reconfigure` forgets them.
    var encodedAdverts: (priority: UInt8, source: IPAddress, payloads: [[UInt8]])?

    init(id: RouterID, instance: VRRPInstance, global: GlobalDefinitions) {
        self.id = id
        self.instance = Self.running(instance)
        family = instance.family
        router = VirtualRouter(settings: Self.settings(instance, global))
        policy = Self.policy(instance)
        (destinations, configuredSource) = Self.endpoints(instance, global)
        authenticationKey = Self.authenticationKey(policy, instance)
        trackedEntryInterfaces = Self.trackedEntryInterfaces(instance)
    }

    /// A reload matched this router to `new` (same VRID, family, interface and source): the new settings apply,
    /// the state stays.
    mutating func reconfigure(_ new: VRRPInstance, global: GlobalDefinitions, now: MonotonicTime) -> [VirtualRouter
        .Action]
    {
        instance = Self.running(new)
        encodedAdverts = nil
        policy = Self.policy(new)
        (destinations, configuredSource) = Self.endpoints(new, global)
        authenticationKey = Self.authenticationKey(policy, new)
        trackedEntryInterfaces = Self.trackedEntryInterfaces(new)
        return router.reconfigure(Self.settings(new, global), now: now)
    }

    /// The instance as a running router keeps it: without the line of every keyword, which only the reading of
    /// the file reports on (a dictionary per instance, a fifth of the process's heap at 500 instances).
    static func running(_ instance: VRRPInstance) -> VRRPInstance {
        var instance = instance
        instance.keywordLocations = [:]
        return instance
    }

    static func authenticationKey(_ policy: ReceivePolicy, _ instance: VRRPInstance) -> HMACMD5? {
        guard policy.authentication == .ah, case .ah(let password) = instance.authentication else { return nil }
        return AuthenticationHeader.key(password)
    }

    /// Whether this router's adverts carry AH (and arrive on the AH socket).
    var usesAuthenticationHeader: Bool { authenticationKey != nil }

    static func settings(_ instance: VRRPInstance, _ global: GlobalDefinitions) -> VirtualRouter.Settings {
        let version: Advertisement.Version = instance.version == 3 ? .v3 : .v2
        let wantsMaster = instance.initialState == .master
        return VirtualRouter.Settings(
            name: instance.name, version: version, virtualRouterID: UInt8(instance.virtualRouterID ?? 0),
            priority: instance.priority, advertisementInterval: instance.advertisementInterval,
            wantsMaster: wantsMaster, nopreempt: instance.nopreempt && !wantsMaster,
            preemptDelay: wantsMaster ? .zero : instance.preemptDelay,
            downTimerAdverts: instance.downTimerAdverts ?? 3, startupDelay: global.vrrpStartupDelay,
            garp: instance.garp, lowerPriorityNoAdvert: instance.lowerPriorityNoAdvert ?? false,
            higherPrioritySendAdvert: instance.higherPrioritySendAdvert ?? false, strict: instance.strictMode ?? false)
    }

    static func policy(_ instance: VRRPInstance) -> ReceivePolicy {
        let version: Advertisement.Version = instance.version == 3 ? .v3 : .v2
        var authentication = Advertisement.Authentication.none
        if version == .v2 && instance.family == .ipv4 {
            switch instance.authentication {
            case .password(let password): authentication = .password(password)
            case .ah: authentication = .ah
            case nil: break
            }
        }
        return ReceivePolicy(
            version: version, authentication: authentication, interval: instance.advertisementInterval,
            unicastPeers: instance.unicastPeers.map {
                .init(address: $0.address, minimumTTL: $0.minimumTTL ?? 0, maximumTTL: $0.maximumTTL ?? 255)
            },
            checkUnicastSource: instance.checkUnicastSource,
            virtualAddresses: instance.virtualAddresses.map(\.prefix.address),
            checkAddresses: !(instance.skipCheckAdvertAddresses ?? false), strict: instance.strictMode ?? false)
    }

    /// Where adverts go and the source they are sent from, if configured.
    static func endpoints(_ instance: VRRPInstance, _ global: GlobalDefinitions) -> ([IPAddress], IPAddress?) {
        if instance.isUnicast { return (instance.unicastPeers.map(\.address), instance.unicastSourceIP) }
        let group =
            instance.multicastDestinationIP
            ?? (instance.family == .ipv4 ? global.vrrpMulticastGroup4 : global.vrrpMulticastGroup6)
        return ([group], instance.multicastSourceIP)
    }

    /// What a reload matches instances by, as keepalived does: VRID, family, interface and unicast source.
    var identity: InstanceIdentity { InstanceIdentity(instance) }

    var name: String { instance.name }
    var virtualRouterID: UInt8 { router.settings.virtualRouterID }
    var isUnicast: Bool { instance.isUnicast }

    /// The advert this router sends now.
    func advertisement(priority: UInt8) -> Advertisement {
        Advertisement(
            version: router.settings.version, virtualRouterID: virtualRouterID, priority: priority,
            interval: instance.advertisementInterval, addresses: instance.virtualAddresses.map(\.prefix.address),
            authentication: policy.authentication)
    }

    /// The next IPv4 identification: keepalived counts from 1 per instance and skips 0.
    mutating func nextIdentification() -> UInt16 {
        identification &+= 1
        if identification == 0 { identification = 1 }
        return identification
    }

    /// The netlink form of every address this router holds while master: `virtual_ipaddress` then
    /// `virtual_ipaddress_excluded`, each on its own device or the instance's interface. An address whose device
    /// does not exist is left out (never put on another interface).
    func interfaceAddresses(resolve: (String) -> Int32?, tag: UInt8) -> [InterfaceAddress] {
        (instance.virtualAddresses + instance.excludedVirtualAddresses).compactMap { virtual in
            let index: Int32?
            if onVirtualMAC(virtual) {
                index = vmacIndex
            } else if let device = virtual.device {
                index = resolve(device)
            } else {
                index = interfaceIndex
            }
            guard let index else { return nil }
            return Self.interfaceAddress(virtual, index: index, tag: tag)
        }
    }

    var usesVirtualMAC: Bool { instance.useVMAC != nil }

    /// Whether an address lives on the virtual MAC interface: a macvlan's (`use_vmac`), the instance's family, on
    /// the instance's interface (keepalived's rule; the other family's excluded addresses stay on the base
    /// interface). `use_ipvlan`'s addresses stay on the base interface, as keepalived 2.2.7 puts them: the ipvlan
    /// carries only its own address, the adverts' source.
    func onVirtualMAC(_ virtual: VirtualAddress) -> Bool {
        instance.useVMAC?.kind == .macvlan && virtual.prefix.address.family == family
            && (virtual.device == nil || virtual.device == instance.interface)
    }

    /// The socket adverts go out through: the virtual MAC's own (send only), unless `vmac_xmit_base`.
    var sendSocket: SocketKey? {
        if let vmac = instance.useVMAC, !vmac.transmitFromBase {
            return vmacIndex.map { SocketKey(index: $0, family: family, sendOnly: true) }
        }
        return interfaceIndex.map { SocketKey(index: $0, family: family) }
    }

    /// The other interfaces this router's addresses, routes and rules use, which it tracks (keepalived's rule:
    /// one of them down or missing faults the router; `no_track` opts out), each with what uses it. Kept, not
    /// computed at every fault refresh.
    private(set) var trackedEntryInterfaces: [(name: String, what: String)] = []

    static func trackedEntryInterfaces(_ instance: VRRPInstance) -> [(name: String, what: String)] {
        var found = [(name: String, what: String)]()
        func add(_ name: String?, _ what: String) {
            guard let name, name != instance.interface, !found.contains(where: { $0.name == name }) else { return }
            found.append((name, what))
        }
        for virtual in instance.virtualAddresses + instance.excludedVirtualAddresses
        where !virtual.flags.contains(.noTrack) {
            add(virtual.device, "a virtual address")
        }
        for route in instance.virtualRoutes where route.tracked { add(route.device, "a virtual route") }
        for rule in instance.virtualRules where rule.tracked {
            add(rule.inputInterface, "a virtual rule")
            add(rule.outputInterface, "a virtual rule")
        }
        return found
    }

    static func interfaceAddress(_ virtual: VirtualAddress, index: Int32, tag: UInt8) -> InterfaceAddress {
        var address = InterfaceAddress(index: index, prefix: virtual.prefix, scope: scopeNumber(virtual.scope))
        address.label = virtual.label
        address.peer = virtual.peer
        address.protocol = tag
        switch virtual.broadcast {
        case .address(let broadcast): address.broadcast = broadcast
        case .allOnes: address.broadcast = Self.hostBits(virtual.prefix, set: true)
        case .allZeros: address.broadcast = Self.hostBits(virtual.prefix, set: false)
        case nil: break
        }
        var flags: UInt32 = 0
        if virtual.flags.contains(.home) { flags |= 0x10 }
        if virtual.flags.contains(.manageTemporaryAddress) { flags |= 0x100 }
        if virtual.flags.contains(.noPrefixRoute) { flags |= 0x200 }
        if virtual.flags.contains(.autoJoin) { flags |= 0x400 }
        if virtual.prefix.address.family == .ipv6 {
            // As keepalived: no duplicate address detection for VIPs (VRRP is their DAD), and a /128 is
            // deprecated (preferred lifetime 0) so that it is never chosen as a source address.
            flags |= 0x02
            address.preferredLifetime = virtual.preferredLifetime ?? (virtual.prefix.length == 128 ? 0 : nil)
        } else {
            address.preferredLifetime = nil
        }
        address.flags = flags
        return address
    }

    static func scopeNumber(_ name: String?) -> UInt8 {
        switch name {
        case nil, "global", "universe": 0
        case "site": 200
        case "link": 253
        case "host": 254
        case "nowhere": 255
        case let other?: UInt8(other) ?? 0
        }
    }

    static func hostBits(_ prefix: IPPrefix, set: Bool) -> IPAddress {
        var bytes = prefix.address.bytes
        let total = bytes.count * 8
        for bit in prefix.length..<total {
            let mask = UInt8(0x80) >> UInt8(bit % 8)
            if set { bytes[bit / 8] |= mask } else { bytes[bit / 8] &= ~mask }
        }
        return IPAddress(bytes: bytes)!
    }
}

/// How a reload recognises an instance across configurations (keepalived's `vrrp_exist`).
struct InstanceIdentity: Hashable {
    var virtualRouterID: Int
    var family: IPAddress.Family
    var interface: String?
    var unicastSource: IPAddress?
    /// `use_vmac`'s name, MAC and `vmac_xmit_base` (keepalived matches on the VMAC settings too).
    var virtualMAC: [String]?

    init(_ instance: VRRPInstance) {
        virtualRouterID = instance.virtualRouterID ?? 0
        family = instance.family
        interface = instance.interface
        unicastSource = instance.isUnicast ? instance.unicastSourceIP : nil
        virtualMAC = instance.useVMAC.map {
            [
                $0.interfaceName ?? "", $0.mac.map { String($0, radix: 16) }.joined(separator: ":"), "\($0.transmitFromBase)",
                "\($0.kind)", $0.ipvlanAddress?.description ?? "",
            ]
        }
    }
}

import VigilConfig

/// Something Vigil puts into the kernel and takes out again exactly as it put it: an address, a route or a rule.
public enum KernelEntry: Hashable, Sendable, CustomStringConvertible {
    case address(InterfaceAddress)
    /// Routes and rules boxed: inline they made every entry 296 bytes, and most entries (one per virtual
    /// address every master holds) are addresses of 120.
    indirect case route(KernelRoute)
    indirect case rule(KernelRule)

    public var description: String {
        switch self {
        case .address(let address): "\(address.prefix)"
        case .route(let route): "the route to \(route.route.destinationText)"
        case .rule(let rule): "the rule at preference \(rule.rule.preference)"
        }
    }

    /// Removal order: rules before routes before addresses (a route may use an address as its source).
    public var removalRank: Int {
        switch self {
        case .rule: 0
        case .route: 1
        case .address: 2
        }
    }
}

/// A configured route with its interfaces resolved to the indexes they had when it was added. Two are equal when
/// the kernel would be sent the same route (the words and line they were written with do not count).
public struct KernelRoute: Hashable, Sendable {
    public let route: Route
    public let interfaceIndex: Int32?
    public let nextHopIndices: [Int32?]

    /// nil when an interface the route names does not exist.
    public init?(_ route: Route, resolve: (String) -> Int32?) {
        var index: Int32?
        if let device = route.device {
            guard let resolved = resolve(device) else { return nil }
            index = resolved
        }
        var hops = [Int32?]()
        for hop in route.nextHops {
            if let device = hop.device {
                guard let resolved = resolve(device) else { return nil }
                hops.append(resolved)
            } else {
                hops.append(nil)
            }
        }
        self.route = route
        interfaceIndex = index
        nextHopIndices = hops
    }

    var identity: [UInt8] { NetlinkMessage.routeBody(self, add: true) + [route.addMode == .prepend ? 0 : route.addMode == .add ? 1 : 2] }
    public static func == (lhs: KernelRoute, rhs: KernelRoute) -> Bool { lhs.identity == rhs.identity }
    public func hash(into hasher: inout Hasher) { hasher.combine(identity) }
}

/// A configured rule, as the kernel is sent it (interfaces go by name).
public struct KernelRule: Hashable, Sendable {
    public let rule: Rule

    public init(_ rule: Rule) { self.rule = rule }

    var identity: [UInt8] { NetlinkMessage.ruleBody(rule, add: true) }
    public static func == (lhs: KernelRule, rhs: KernelRule) -> Bool { lhs.identity == rhs.identity }
    public func hash(into hasher: inout Hasher) { hasher.combine(identity) }
}

extension NetlinkMessage {
    static let newRoute: UInt16 = 24
    static let deleteRoute: UInt16 = 25
    static let newRule: UInt16 = 32
    static let deleteRule: UInt16 = 33
    static let append: UInt16 = 0x800

    /// RTM_NEWROUTE / RTM_DELROUTE, encoded as keepalived 2.2.7 encodes them: a delete carries the same keys with
    /// scope "nowhere" and, unless written, type 0, so that the kernel matches the route whatever it filled in.
    public static func route(add: Bool, _ route: KernelRoute, sequence: UInt32, replace: Bool = false) -> [UInt8] {
        var flags = request | acknowledge
        if add {
            flags |= create
            if replace {
                flags |= NetlinkMessage.replace
            } else if route.route.addMode == .add {
                flags |= exclusive
            } else if route.route.addMode == .append {
                flags |= NetlinkMessage.append
            }
        }
        return message(
            type: add ? newRoute : deleteRoute, flags: flags, sequence: sequence, body: routeBody(route, add: add))
    }

    static func familyNumber(_ family: IPAddress.Family) -> UInt8 { family == .ipv4 ? 2 : 10 }

    static func routeBody(_ kernel: KernelRoute, add: Bool) -> [UInt8] {
        let route = kernel.route
        let family = familyNumber(route.family)
        // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
        var body: [UInt8] = [
            family, UInt8(route.destination?.length ?? 0), UInt8(route.source?.length ?? 0), route.tos ?? 0,
            route.table < 256 ? UInt8(route.table) : 0, route.protocolNumber,
            route.scope ?? (add ? 0 : 255), add || route.typeWasWritten ? route.type : 0,
        ]
        body += uint32(route.onlink ? 4 : 0)  // RTNH_F_ONLINK
        if route.table >= 256 { appendAttribute(&body, 15, uint32(route.table)) }  // RTA_TABLE
        let zero = [UInt8](repeating: 0, count: route.family == .ipv4 ? 4 : 16)
        appendAttribute(&body, 1, route.destination?.address.bytes ?? zero)  // RTA_DST
        if let source = route.source { appendAttribute(&body, 2, source.address.bytes) }  // RTA_SRC
        if let preferred = route.preferredSource { appendAttribute(&body, 7, preferred.bytes) }  // RTA_PREFSRC
        if let gateway = route.gateway { appendGateway(&body, gateway, family: route.family) }
        if let index = kernel.interfaceIndex { appendInt32(&body, 4, index) }  // RTA_OIF
        if let metric = route.metric { appendAttribute(&body, 6, uint32(metric)) }  // RTA_PRIORITY
        if let realms = route.realms { appendAttribute(&body, 11, uint32(realms)) }  // RTA_FLOW
        if let expires = route.expires { appendAttribute(&body, 23, uint32(expires)) }  // RTA_EXPIRES
        if !route.metrics.isEmpty {
            var metrics = [UInt8]()
            if let algorithm = route.metrics.congestionControl {
                appendAttribute(&metrics, Route.Metrics.congestionControlAlgorithm, Array(algorithm.utf8))
            }
            if route.metrics.features != 0 {
                appendAttribute(&metrics, Route.Metrics.features, uint32(route.metrics.features))
            }
            for (kind, value) in route.metrics.values.sorted(by: { $0.key < $1.key }) {
                appendAttribute(&metrics, kind, uint32(value))
            }
            if route.metrics.locked != 0 { appendAttribute(&metrics, 1, uint32(route.metrics.locked)) }  // RTAX_LOCK
            appendAttribute(&body, 8, metrics)  // RTA_METRICS
        }
        if let preference = route.preference { appendAttribute(&body, 20, [preference]) }  // RTA_PREF
        if let propagate = route.ttlPropagate { appendAttribute(&body, 26, [propagate]) }  // RTA_TTL_PROPAGATE
        if !route.nextHops.isEmpty {
            var hops = [UInt8]()
            for (hop, index) in zip(route.nextHops, kernel.nextHopIndices) {
                var attributes = [UInt8]()
                if let gateway = hop.gateway { appendGateway(&attributes, gateway, family: route.family) }
                if let realms = hop.realms { appendAttribute(&attributes, 11, uint32(realms)) }
                // struct rtnexthop: len, flags, hops (weight - 1), ifindex.
                hops += uint16(UInt16(8 + attributes.count))
                hops.append(hop.onlink ? 4 : 0)
                hops.append(UInt8((hop.weight ?? 1) - 1))
                hops += uint32(UInt32(bitPattern: index ?? 0))
                hops += attributes
            }
            appendAttribute(&body, 9, hops)  // RTA_MULTIPATH
        }
        return body
    }

    /// RTA_GATEWAY in the route's family, RTA_VIA (family, address) in the other.
    static func appendGateway(_ bytes: inout [UInt8], _ gateway: IPAddress, family: IPAddress.Family) {
        if gateway.family == family {
            appendAttribute(&bytes, 5, gateway.bytes)
        } else {
            appendAttribute(&bytes, 18, uint16(UInt16(familyNumber(gateway.family))) + gateway.bytes)
        }
    }

    static func appendInt32(_ bytes: inout [UInt8], _ type: UInt16, _ value: Int32) {
        appendAttribute(&bytes, type, uint32(UInt32(bitPattern: value)))
    }

    /// RTM_NEWRULE (exclusive) / RTM_DELRULE with every selector the rule has, as keepalived 2.2.7 sends them.
    public static func rule(add: Bool, _ rule: KernelRule, sequence: UInt32) -> [UInt8] {
        let flags = request | acknowledge | (add ? create | exclusive : 0)
        return message(
            type: add ? newRule : deleteRule, flags: flags, sequence: sequence, body: ruleBody(rule.rule, add: add))
    }

    static func ruleBody(_ rule: Rule, add: Bool) -> [UInt8] {
        let action: UInt8
        var table: UInt32 = 0
        switch rule.action {
        case .table(let number): (action, table) = (1, number)
        case .goto: action = 2
        case .nop: action = 3
        case .blackhole: action = 6
        case .unreachable: action = 7
        case .prohibit: action = 8
        case .l3mdev: action = 1
        }
        // struct fib_rule_hdr: family, dst_len, src_len, tos, table, res1, res2, action, flags.
        var body: [UInt8] = [
            familyNumber(rule.family), UInt8(rule.to?.length ?? 0), UInt8(rule.from?.length ?? 0), rule.tos,
            table < 256 ? UInt8(table) : 0, 0, 0, action,
        ]
        body += uint32(rule.invert ? 2 : 0)  // FIB_RULE_INVERT
        if table >= 256 { appendAttribute(&body, 15, uint32(table)) }  // FRA_TABLE
        if let from = rule.from { appendAttribute(&body, 2, from.address.bytes) }  // FRA_SRC
        if let to = rule.to { appendAttribute(&body, 1, to.address.bytes) }  // FRA_DST
        appendAttribute(&body, 6, uint32(rule.preference))  // FRA_PRIORITY
        if let mark = rule.fwmark { appendAttribute(&body, 10, uint32(mark)) }  // FRA_FWMARK
        if let mask = rule.fwmask { appendAttribute(&body, 16, uint32(mask)) }  // FRA_FWMASK
        if let realms = rule.realms { appendAttribute(&body, 11, uint32(realms)) }  // FRA_FLOW
        if let length = rule.suppressPrefixLength { appendAttribute(&body, 14, uint32(UInt32(length))) }
        if let group = rule.suppressInterfaceGroup { appendAttribute(&body, 13, uint32(group)) }
        if let name = rule.inputInterface { appendAttribute(&body, 3, Array(name.utf8) + [0]) }  // FRA_IIFNAME
        if let name = rule.outputInterface { appendAttribute(&body, 17, Array(name.utf8) + [0]) }  // FRA_OIFNAME
        if let tunnel = rule.tunnelID {  // FRA_TUN_ID, big-endian
            appendAttribute(&body, 12, (0..<8).map { UInt8(tunnel >> (56 - 8 * UInt64($0)) & 0xff) })
        }
        if let range = rule.uidRange { appendAttribute(&body, 20, uint32(range.lowerBound) + uint32(range.upperBound)) }
        if rule.action == .l3mdev { appendAttribute(&body, 19, [1]) }  // FRA_L3MDEV
        if let proto = rule.protocolNumber { appendAttribute(&body, 21, [proto]) }  // FRA_PROTOCOL
        if let proto = rule.ipProtocol { appendAttribute(&body, 22, [proto]) }  // FRA_IP_PROTO
        if let ports = rule.sourcePorts { appendAttribute(&body, 23, uint16(ports.lowerBound) + uint16(ports.upperBound)) }
        if let ports = rule.destinationPorts {
            appendAttribute(&body, 24, uint16(ports.lowerBound) + uint16(ports.upperBound))
        }
        if case .goto(let target) = rule.action { appendAttribute(&body, 4, uint32(target)) }  // FRA_GOTO
        return body
    }
}

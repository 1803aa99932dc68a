import VigilConfig

/// A load-balanced service as the kernel knows it.
public struct Service: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16
    public var transportProtocol: VirtualServer.TransportProtocol
    public var scheduler: String
    public var persistence: Duration?
    /// A firewall-mark service (`virtual_server fwmark N`): packets carrying the mark, of `address`'s family;
    /// the address (unspecified), port and protocol are not part of it then.
    public var firewallMark: UInt32?
    /// IP_VS_SVC_F_* beyond persistence: one-packet scheduling (`ops`), hashed, the scheduler's flags.
    public var flags: UInt32 = 0
    /// Persistence granularity: an IPv4 netmask (host order) or an IPv6 prefix length.
    public var netmask: UInt32?
    public var persistenceEngine: String?

    public init(
        address: IPAddress, port: UInt16, transportProtocol: VirtualServer.TransportProtocol = .tcp,
        scheduler: String = "wlc", persistence: Duration? = nil
    ) {
        self.address = address
        self.port = port
        self.transportProtocol = transportProtocol
        self.scheduler = scheduler
        self.persistence = persistence
    }

    /// A firewall-mark service of a family.
    public init(firewallMark: UInt32, family: IPAddress.Family, scheduler: String = "wlc", persistence: Duration? = nil) {
        self.init(
            address: family == .ipv4 ? .v4(0) : .v6(high: 0, low: 0), port: 0, scheduler: scheduler,
            persistence: persistence)
        self.firewallMark = firewallMark
    }

    public static func < (a: Service, b: Service) -> Bool {
        (a.firewallMark ?? 0, a.address, a.port, a.transportProtocol.rawValue)
            < (b.firewallMark ?? 0, b.address, b.port, b.transportProtocol.rawValue)
    }

    public var endpoint: String {
        if let firewallMark { return "FWM \(firewallMark)" }
        return address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// keepalived's way of naming a service in logs and FIFO lines: `[198.51.100.200]:tcp:80`, `FWM 5`.
    public var keepalivedName: String {
        if let firewallMark { return "FWM \(firewallMark)" }
        return "[\(address)]:\(transportProtocol.rawValue.lowercased()):\(port)"
    }

    public var description: String {
        firewallMark != nil ? endpoint : "\(transportProtocol.rawValue) \(endpoint)"
    }
}

/// What the load balancer holds: every service and its destinations.
public struct LoadBalancerState: Sendable, Equatable {
    public var services: [Service: [Destination]] = [:]

    public init(services: [Service: [Destination]] = [:]) {
        self.services = services
    }

    public enum Change: Sendable, Equatable {
        case addService(Service)
        case removeService(Service)
        case addDestination(Service, Destination)
        case editDestination(Service, Destination)
        case removeDestination(Service, Destination)
    }

    /// The changes that turn `old` into `self`, services added before their destinations and removed after them.
    public func changes(from old: LoadBalancerState) -> [Change] {
        var result = [Change]()
        for service in services.keys.sorted() {
            let wanted = services[service] ?? []
            guard let present = old.services[service] else {
                result.append(.addService(service))
                result += wanted.map { .addDestination(service, $0) }
                continue
            }
            for destination in wanted {
                if let current = present.first(where: { $0.address == destination.address && $0.port == destination.port }) {
                    if current != destination { result.append(.editDestination(service, destination)) }
                } else {
                    result.append(.addDestination(service, destination))
                }
            }
            for destination in present
            where !wanted.contains(where: { $0.address == destination.address && $0.port == destination.port }) {
                result.append(.removeDestination(service, destination))
            }
        }
        for service in old.services.keys.sorted() where services[service] == nil {
            result += (old.services[service] ?? []).map { .removeDestination(service, $0) }
            result.append(.removeService(service))
        }
        return result
    }
}

/// What the kernel load balancer is set to besides its services: flushed at start and on stop, its connection
/// timeouts, and the connection synchronisation daemons (`lvs_flush`, `lvs_flush_on_stop`, `lvs_timeouts`,
/// `lvs_sync_daemon` without `inst`: both daemons from the checker process).
public struct LoadBalancerSettings: Equatable, Sendable {
    public var flushAtStart = false
    public var flushOnStop = false
    /// TCP, TCP FIN and UDP timeouts in seconds (0 leaves one as it is).
    public var timeouts: [UInt32]?
    /// The daemons' settings (`master` is set per daemon).
    public var syncDaemon: IPVSMessage.SyncDaemon?

    public init() {}

    public init(_ global: GlobalDefinitions) {
        flushAtStart = global.lvsFlush
        flushOnStop = global.lvsFlushOnStop == .full
        timeouts = global.lvsTimeoutValues.map { $0.map { UInt32(clamping: $0) } }
        if let daemon = global.lvsSyncDaemon, daemon.instance == nil {
            var settings = IPVSMessage.SyncDaemon(
                master: true, interface: daemon.interface, syncID: UInt32(clamping: daemon.syncID ?? 0))
            settings.maxLength = daemon.maxLength.map { UInt16(clamping: $0) }
            settings.port = daemon.port.map { UInt16(clamping: $0) }
            settings.ttl = daemon.ttl.map { UInt8(clamping: $0) }
            settings.group = daemon.group
            syncDaemon = settings
        }
    }
}

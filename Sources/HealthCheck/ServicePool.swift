import VigilConfig

/// A destination of a load-balanced service: a real server (or the sorry server) with the weight the kernel
/// should give it. Weight 0 keeps it known but sends it no new connections (`inhibit_on_failure`).
public struct Destination: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16
    public var weight: Int
    public var forwardingMethod: VirtualServer.ForwardingMethod
    /// `uthreshold` and `lthreshold` (0: none).
    public var upperThreshold: UInt32 = 0
    public var lowerThreshold: UInt32 = 0
    /// The tunnel of TUN forwarding (nil: ipip, IPVS's default).
    public var tunnel: VirtualServer.Tunnel?

    public init(address: IPAddress, port: UInt16, weight: Int, forwardingMethod: VirtualServer.ForwardingMethod = .nat) {
        self.address = address
        self.port = port
        self.weight = weight
        self.forwardingMethod = forwardingMethod
    }

    public static func < (a: Destination, b: Destination) -> Bool {
        (a.address, a.port) < (b.address, b.port)
    }

    public var endpoint: String {
        address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    public var description: String { "\(endpoint) weight \(weight)" }
}

/// One virtual server's pool, as keepalived keeps it: a real server is in the pool while every one of its
/// checkers is up (with `inhibit_on_failure`, a failed one stays at weight 0); the sum of the live servers'
/// weights against `quorum` (with `hysteresis`) decides whether the pool is served at all or, when a sorry server
/// is configured, the sorry server alone.
public struct ServicePool: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var address: IPAddress
        public var port: UInt16
        /// The configured weight, or the one a dynamic MISC_CHECK set.
        public var weight: Int
        /// What FILE_CHECKs add to (or take from) the weight.
        public var weightAdjustment = 0
        public var inhibitOnFailure: Bool
        public var forwardingMethod: VirtualServer.ForwardingMethod
        /// Per checker, whether it is up.
        public var checkers: [Bool]
        /// `uthreshold`, `lthreshold` and the TUN tunnel, as the load balancer gets them.
        public var upperThreshold: UInt32 = 0
        public var lowerThreshold: UInt32 = 0
        public var tunnel: VirtualServer.Tunnel?

        public init(
            address: IPAddress, port: UInt16, weight: Int, inhibitOnFailure: Bool,
            forwardingMethod: VirtualServer.ForwardingMethod, checkers: [Bool]
        ) {
            self.address = address
            self.port = port
            self.weight = weight
            self.inhibitOnFailure = inhibitOnFailure
            self.forwardingMethod = forwardingMethod
            self.checkers = checkers
        }

        /// Alive while every checker is up (a real server without checkers is always alive).
        public var isAlive: Bool { checkers.allSatisfy { $0 } }
        public var effectiveWeight: Int { max(0, weight + weightAdjustment) }
    }

    public enum Event: Sendable, Equatable {
        case realServerUp(Int)
        case realServerDown(Int)
        case quorumGained(weight: Int)
        case quorumLost(weight: Int)
    }

    public var members: [Member]
    public let quorum: Int
    public let hysteresis: Int
    public let sorryServer: Destination?
    public let sorryInhibit: Bool
    public private(set) var quorumUp: Bool

    public init(members: [Member], quorum: Int, hysteresis: Int, sorryServer: Destination?, sorryInhibit: Bool) {
        self.members = members
        self.quorum = quorum
        self.hysteresis = hysteresis
        self.sorryServer = sorryServer
        self.sorryInhibit = sorryInhibit
        let live = members.filter(\.isAlive).map(\.effectiveWeight).reduce(0, +)
        quorumUp = live >= quorum + hysteresis
    }

    /// The sum of the weights of the live real servers.
    public var liveWeight: Int { members.filter(\.isAlive).map(\.effectiveWeight).reduce(0, +) }

    /// Sets one checker's state (or a member's weight) and returns what changed, in order.
    public mutating func update(member index: Int, checker: Int, up: Bool) -> [Event] {
        let wasAlive = members[index].isAlive
        members[index].checkers[checker] = up
        var events = [Event]()
        let isAlive = members[index].isAlive
        if wasAlive != isAlive { events.append(isAlive ? .realServerUp(index) : .realServerDown(index)) }
        events += updateQuorum()
        return events
    }

    public mutating func setWeight(member index: Int, weight: Int? = nil, adjustment: Int? = nil) -> [Event] {
        if let weight { members[index].weight = weight }
        if let adjustment { members[index].weightAdjustment = adjustment }
        return updateQuorum()
    }

    /// keepalived's rule: gained at `quorum + hysteresis`, lost below `quorum - hysteresis` (or at zero).
    mutating func updateQuorum() -> [Event] {
        let weight = liveWeight
        if !quorumUp && weight >= quorum + hysteresis {
            quorumUp = true
            return [.quorumGained(weight: weight)]
        }
        if quorumUp && (weight == 0 || weight < quorum - hysteresis) {
            quorumUp = false
            return [.quorumLost(weight: weight)]
        }
        return []
    }

    /// What the load balancer should hold for this service now, sorted.
    public var destinations: [Destination] {
        var result = [Destination]()
        let sorryServes = !quorumUp && sorryServer != nil
        for member in members {
            var destination = Destination(
                address: member.address, port: member.port, weight: member.effectiveWeight,
                forwardingMethod: member.forwardingMethod)
            destination.upperThreshold = member.upperThreshold
            destination.lowerThreshold = member.lowerThreshold
            destination.tunnel = member.forwardingMethod == .tunnel ? member.tunnel : nil
            if member.isAlive && !sorryServes {
                result.append(destination)
            } else if member.inhibitOnFailure {
                var quiet = destination
                quiet.weight = 0
                result.append(quiet)
            }
        }
        if var sorry = sorryServer {
            if sorryServes {
                result.append(sorry)
            } else if sorryInhibit {
                sorry.weight = 0
                result.append(sorry)
            }
        }
        return result.sorted()
    }
}

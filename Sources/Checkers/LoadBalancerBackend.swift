import CLinux
import Glibc
import HealthCheck
import LinuxNet

/// The kernel load balancer the checker keeps pointed at healthy real servers.
public protocol LoadBalancerBackend: AnyObject {
    var name: String { get }
    /// Makes the kernel hold exactly `state` (only what this backend created is touched).
    func apply(_ state: LoadBalancerState, changes: [LoadBalancerState.Change]) throws(LoadBalancerError)
    /// Flush at start, timeouts, synchronisation daemons; `previous`: the settings applied before (a reload).
    func configure(_ settings: LoadBalancerSettings, previous: LoadBalancerSettings?) throws(LoadBalancerError)
    /// Removes everything this backend created (with `flushOnStop`, everything).
    func removeAll()
}

public struct LoadBalancerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// nftables: every change replaces Vigil's tables in one `nft -f` transaction, so the kernel never holds half a
/// change; nothing outside the tables `ip vigil` and `ip6 vigil` is touched.
public final class NFTablesBackend: LoadBalancerBackend {
    public let name = "nftables"
    let nft: NFTProgram

    /// `directory`: where the transaction script is written (the private runtime directory).
    public init(directory: String) {
        nft = NFTProgram(directory: directory, name: "nftables")
    }

    public func apply(_ state: LoadBalancerState, changes: [LoadBalancerState.Change]) throws(LoadBalancerError) {
        try run(NFTablesRuleset.render(state))
    }

    public func removeAll() {
        try? run(NFTablesRuleset.removal)
    }

    /// IPVS's flushes, timeouts and daemons have no nftables counterpart: the validator warned where used.
    public func configure(_ settings: LoadBalancerSettings, previous: LoadBalancerSettings?) throws(LoadBalancerError) {}

    func run(_ script: String) throws(LoadBalancerError) {
        do {
            try nft.run(script)
        } catch {
            throw LoadBalancerError(error.description)
        }
    }
}

/// IPVS over generic netlink: each change becomes one message (services before their destinations, removed after),
/// acknowledged by the kernel. Only services this backend added are deleted on stop.
public final class IPVSBackend: LoadBalancerBackend {
    public let name = "ipvs"
    let socket: NetlinkSocket
    let family: UInt16
    var created = Set<Service>()

    /// Opens the generic-netlink socket and finds the IPVS family; fails with a sentence when the kernel has none.
    public static func open() -> Result<IPVSBackend, LoadBalancerError> {
        let socket: NetlinkSocket
        do {
            socket = try NetlinkSocket(family: 16)  // NETLINK_GENERIC
            try socket.send(IPVSMessage.familyRequest(sequence: 1))
            let reply = try socket.receiveBytes()
            switch IPVSMessage.parseFamilyReply(reply) {
            case .family(let id)?:
                return .success(IPVSBackend(socket: socket, family: id))
            case .error(let code)?:
                return .failure(
                    LoadBalancerError(
                        "the kernel has no IPVS (\(errorText(code)) for generic netlink family IPVS; modprobe ip_vs?)"))
            case nil:
                return .failure(LoadBalancerError("unreadable answer from the generic netlink controller"))
            }
        } catch {
            return .failure(LoadBalancerError("generic netlink: \(error)"))
        }
    }

    init(socket: NetlinkSocket, family: UInt16) {
        self.socket = socket
        self.family = family
    }

    public func apply(_ state: LoadBalancerState, changes: [LoadBalancerState.Change]) throws(LoadBalancerError) {
        for change in changes {
            let command: IPVSMessage.Command
            let service: Service
            var destination: Destination?
            switch change {
            case .addService(let which):
                (command, service) = (.newService, which)
            case .removeService(let which):
                (command, service) = (.deleteService, which)
            case .addDestination(let which, let what):
                (command, service, destination) = (.newDestination, which, what)
            case .editDestination(let which, let what):
                (command, service, destination) = (.setDestination, which, what)
            case .removeDestination(let which, let what):
                (command, service, destination) = (.deleteDestination, which, what)
            }
            let outcome: NetlinkSocket.Outcome
            do {
                outcome = try socket.request { sequence in
                    IPVSMessage.message(
                        command, service: service, destination: destination, familyID: family, sequence: sequence)
                }
            } catch {
                throw LoadBalancerError("IPVS \(command): \(error)")
            }
            // Adding what exists or deleting what is gone leaves the kernel as wanted.
            let harmless = (command == .newService || command == .newDestination) && outcome.errno == EEXIST
                || (command == .deleteService || command == .deleteDestination) && outcome.errno == ESRCH
            guard outcome.succeeded || harmless else {
                throw LoadBalancerError("IPVS \(command) for \(service): \(outcome.description)")
            }
            if command == .newService { created.insert(service) }
            if command == .deleteService { created.remove(service) }
        }
    }

    public func removeAll() {
        if let daemon = settings.syncDaemon { stopDaemons(daemon) }
        if settings.flushOnStop {
            _ = try? socket.request { IPVSMessage.flush(familyID: family, sequence: $0) }
        } else {
            for service in created.sorted() {
                _ = try? socket.request { sequence in
                    IPVSMessage.message(.deleteService, service: service, familyID: family, sequence: sequence)
                }
            }
        }
        created.removeAll()
    }

    /// The settings applied: what stop undoes.
    var settings = LoadBalancerSettings()

    public func configure(_ settings: LoadBalancerSettings, previous: LoadBalancerSettings?) throws(LoadBalancerError) {
        self.settings = settings
        func send(_ what: String, _ build: (UInt32) -> [UInt8]) throws(LoadBalancerError) {
            let outcome: NetlinkSocket.Outcome
            do {
                outcome = try socket.request(build)
            } catch {
                throw LoadBalancerError("IPVS \(what): \(error)")
            }
            guard outcome.succeeded else { throw LoadBalancerError("IPVS \(what): \(outcome.description)") }
        }
        if settings.flushAtStart { try send("flush") { IPVSMessage.flush(familyID: family, sequence: $0) } }
        if let timeouts = settings.timeouts, timeouts.count == 3, timeouts != previous?.timeouts ?? [] {
            try send("timeouts") {
                IPVSMessage.timeouts(
                    tcp: timeouts[0], tcpFin: timeouts[1], udp: timeouts[2], familyID: family, sequence: $0)
            }
        }
        guard settings.syncDaemon != previous?.syncDaemon else { return }
        if let old = previous?.syncDaemon { stopDaemons(old) }
        if let daemon = settings.syncDaemon {
            // Without a VRRP instance to follow, both run (keepalived's rule).
            for master in [true, false] {
                var one = daemon
                one.master = master
                try send("sync daemon") { IPVSMessage.daemon(start: true, one, familyID: family, sequence: $0) }
            }
        }
    }

    /// Starts or stops one synchronisation daemon (the VRRP process's, following its instance).
    public func syncDaemon(_ daemon: IPVSMessage.SyncDaemon, start: Bool) throws(LoadBalancerError) {
        let outcome: NetlinkSocket.Outcome
        do {
            outcome = try socket.request { IPVSMessage.daemon(start: start, daemon, familyID: family, sequence: $0) }
        } catch {
            throw LoadBalancerError("IPVS sync daemon: \(error)")
        }
        // Starting one that runs, or stopping one that does not, leaves it as wanted.
        guard outcome.succeeded || outcome.errno == EEXIST || outcome.errno == ESRCH else {
            throw LoadBalancerError(
                "IPVS \(daemon.master ? "master" : "backup") sync daemon \(start ? "start" : "stop"): \(outcome.description)")
        }
    }

    func stopDaemons(_ daemon: IPVSMessage.SyncDaemon) {
        for master in [true, false] {
            var one = daemon
            one.master = master
            _ = try? socket.request { IPVSMessage.daemon(start: false, one, familyID: family, sequence: $0) }
        }
    }
}

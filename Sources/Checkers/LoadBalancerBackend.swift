import CLinux
import Glibc
import HealthCheck
import LinuxNet

/// The kernel load balancer the checker keeps pointed at healthy real servers.
public protocol LoadBalancerBackend: AnyObject {
    var name: String { get }
    /// Makes the kernel hold exactly `state` (only what this backend created is touched).
    func apply(_ state: LoadBalancerState, changes: [LoadBalancerState.Change]) throws(LoadBalancerError)
    /// Removes everything this backend created.
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
        for service in created.sorted() {
            _ = try? socket.request { sequence in
                IPVSMessage.message(.deleteService, service: service, familyID: family, sequence: sequence)
            }
        }
        created.removeAll()
    }
}

import CLinux
import Glibc
import LinuxNet
import Logging
import Testing
import VRRP
import VigilConfig

@testable import Daemon

/// The VRRP executor over a recording fake of the machine (no root, no network): the planner's actions reach the
/// sockets, the addresses and the wire through `VRRPIO`, and the kernel's answers come back to the planner.
final class FakeVRRPIO: VRRPIO {
    var opened: [SocketKey] = []
    var closed: [SocketKey] = []
    var sent: [VRRPPlanner.OutgoingAdvert] = []
    var addressChanges: [(InterfaceAddress, Bool)] = []
    var frames = 0
    /// Adverts and address changes in the order they reached the machine.
    var events: [String] = []
    var addressAnswer: (InterfaceAddress, Bool) -> Int32 = { _, _ in 0 }
    private var descriptors: [SocketKey: Int32] = [:]

    func openSocket(_ key: SocketKey, interface: String, multicastGroup: IPAddress?) throws(SystemError) -> Int32 {
        opened.append(key)
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        descriptors[key] = fd
        return fd
    }

    func closeSocket(_ key: SocketKey) {
        closed.append(key)
        if let fd = descriptors.removeValue(forKey: key) { close(fd) }
    }

    func receive(_ key: SocketKey, _ handler: (Datagram) -> Void) {}

    func send(_ advert: VRRPPlanner.OutgoingAdvert) throws(SystemError) {
        sent.append(advert)
        events.append("advert \(advert.bytes[21])")
    }

    func change(_ entry: KernelEntry, add: Bool) -> (errno: Int32, message: String?) {
        guard case .address(let address) = entry else { return (0, nil) }
        addressChanges.append((address, add))
        events.append("\(add ? "add" : "remove") \(address.prefix.address)")
        return (addressAnswer(address, add), nil)
    }

    func sendFrame(_ frame: [UInt8], interfaceIndex: Int32) throws(SystemError) {
        frames += 1
        events.append("announce")
    }

    var virtualLinks: [String] = []
    func createVirtualLink(_ request: VRRPPlanner.VirtualLinkRequest) -> (errno: Int32, message: String?) {
        virtualLinks.append("+\(request.name)")
        return (0, nil)
    }
    func deleteVirtualLink(index: Int32, name: String) -> (errno: Int32, message: String?) {
        virtualLinks.append("-\(name)")
        return (0, nil)
    }
}

@Suite("VRRP executor over a fake machine")
struct VRRPServiceTests {
    func service(_ io: FakeVRRPIO, _ text: String) throws -> VRRPService {
        let directory = "/tmp/vigil-executor-test-\(getpid())"
        mkdir(directory, 0o700)
        let configuration = ConfigLoader.load(text: text, options: ConfigLoader.Options(configID: "t")).configuration
        return try VRRPService(
            configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            runtime: RuntimeDirectory(path: directory), options: VRRPService.Options(), io: io)
    }

    /// Runs the service's loop for `duration` on this thread.
    func run(_ service: VRRPService, for duration: Duration) throws {
        service.loop.schedule(at: service.loop.now + MonotonicTime(duration).nanoseconds) { service.loop.stop() }
        try service.loop.run()
    }

    @Test("an owner's start reaches the socket, the addresses and the wire; its stop resigns and removes only its own")
    func ownerStartAndStop() throws {
        let io = FakeVRRPIO()
        io.addressAnswer = { address, add in add && address.prefix.address == IPAddress("198.51.100.101") ? 17 : 0 }
        let service = try service(
            io, instanceText(state: "MASTER", priority: 255, addresses: ["198.51.100.100", "198.51.100.101"]))
        service.perform(service.planner.start(interfaces: Interfaces.standard, forwarding: [:], now: service.now))
        try run(service, for: .milliseconds(1200))
        #expect(io.opened == [SocketKey(index: 2, family: .ipv4)])
        #expect(io.sent.count >= 2, "the takeover's advert and the next one a second later")
        #expect(io.sent.allSatisfy { $0.bytes[9] == 112 && $0.bytes[22] == 255 })
        #expect(io.frames == 10, "five announcements of each address")
        #expect(io.addressChanges.filter(\.1).count == 2)
        service.perform(service.planner.stop(now: service.now))
        #expect(io.sent.last?.bytes[22] == 0, "priority 0")
        let removed = io.addressChanges.filter { !$0.1 }.map { "\($0.0.prefix)" }
        #expect(removed == ["198.51.100.100/32"], "the address already there is not Vigil's to remove")
    }

    @Test("routers taking over at the same moment all advertise, then add their addresses, then announce them")
    func advertsFirst() throws {
        let io = FakeVRRPIO()
        let text = (1...3).map {
            instanceText(name: "VI_\($0)", state: "MASTER", priority: 255, vrid: 50 + $0, addresses: ["198.51.100.\(100 + $0)"])
        }.joined()
        let service = try service(io, text)
        service.perform(service.planner.start(interfaces: Interfaces.standard, forwarding: [:], now: service.now))
        try run(service, for: .milliseconds(200))
        // Timers due at the same moment run in no particular order; the adverts all come first, the announcements
        // (five of each address) last.
        #expect(io.events.count == 21)
        #expect(Set(io.events.prefix(3)) == ["advert 51", "advert 52", "advert 53"])
        #expect(Set(io.events[3..<6]) == ["add 198.51.100.101", "add 198.51.100.102", "add 198.51.100.103"])
        #expect(io.events.suffix(15) == Array(repeating: "announce", count: 15))
    }

    @Test("a backup's Master_Down wakes the loop early; the takeover rehearsed then acts on nothing")
    func rehearsalActsOnNothing() throws {
        let io = FakeVRRPIO()
        let service = try service(io, instanceText())
        service.perform(service.planner.start(interfaces: Interfaces.standard, forwarding: [:], now: service.now))
        let masterDown = try #require(service.timers.first { key, _ in
            if case .router(_, .masterDown) = key { return true }
            return false
        })
        #expect(VRRPService.lead(masterDown.key) == VRRPService.masterDownLead)
        let before = (io.events, service.timers.count)
        service.rehearse(masterDown.value, deadline: service.loop.now + 4_000_000_000)
        #expect(io.events == before.0 && io.sent.isEmpty)
        #expect(service.timers.count == before.1)
        #expect(service.planner.router(named: "VI_1")?.router.state == .backup)
    }
}

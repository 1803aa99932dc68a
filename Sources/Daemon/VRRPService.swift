import CLinux
import Glibc
import LinuxNet
import Logging
import VRRP
import VigilConfig

/// The VRRP process: every `vrrp_instance` of the configuration on one single-threaded event loop. Packets,
/// timers, interface events and signals arrive in order; each goes through its router's state machine and the
/// resulting actions run here, at once. Nothing on this loop blocks.
public final class VRRPService {
    /// IFA_PROTO value Vigil tags its addresses with, to remove exactly what it added (and leftovers of a crash).
    public static let addressProtocol: UInt8 = 86
    /// The control socket's name in the runtime directory (`vigil status`, `vigil reload`).
    public static let controlSocketName = "control.sock"

    struct SocketKey: Hashable {
        var index: Int32
        var family: IPAddress.Family
        /// The IPv4 socket for protocol 51 (AH-authenticated adverts); adverts go out through the other one.
        var authenticated = false
    }

    var configuration: Configuration
    let logger: Logger
    let runtime: RuntimeDirectory
    let loop: EventLoop
    let netlink: NetlinkSocket
    let monitor: NetlinkSocket
    let packets: PacketSocket
    var table = InterfaceTable()
    var drivers: [RouterDriver] = []
    var sockets: [SocketKey: VRRPSocket] = [:]
    var driversBySocket: [SocketKey: [RouterDriver]] = [:]
    /// Every configured virtual address: never a source address.
    var virtualAddresses = Set<IPAddress>()
    /// Cached primary addresses (`nil` entries mean "none"); see `primaryAddress`.
    var primaryAddresses: [SocketKey: IPAddress?] = [:]
    /// Packets for no router of ours, and packets too broken to tell whose they are.
    var unknownVirtualRouters = 0
    var malformedPackets = 0
    var lastUnknownLog: MonotonicTime?
    var signals: FileDescriptor?
    var exitCode: Int32 = 0
    var stopping = false
    /// `-V` (--dont-release-vrrp): leave the addresses in place on exit.
    public var releaseOnStop = true
    /// `-X` (--release-vips): leaving MASTER removes every configured address, also those Vigil did not add.
    public var releaseEveryAddress = false
    /// `-a` (--address-monitoring): log every address the kernel adds or removes.
    public var addressMonitoring = false
    var notifier: Notifier
    var launcher: ScriptLauncher
    /// `vrrp_script`s in use, by name.
    var scripts: [String: ScriptRuntime] = [:]
    var groups: [GroupRuntime] = []
    /// Values of tracked files and processes, polled every second.
    var fileValues: [String: Int] = [:]
    var processUp: [String: Bool] = [:]
    /// Reads tracked files and the process table off the loop.
    lazy var probes = SerialWorker(capacity: 4)
    /// Reads the configuration again on SIGHUP, off the loop.
    lazy var reloader = SerialWorker(capacity: 4)
    var reloading = false
    /// Tracked files and processes are being read every second.
    var polling = false
    /// How to read the configuration again (SIGHUP); nil: reload is not possible.
    public var loadConfiguration: (@Sendable () -> ConfigLoader.Result)?
    let systemd = SystemdNotifier()
    var controlSocket: ControlSocket?
    var metricsServer: RequestServer?
    /// `--metrics=ADDRESS:PORT` (the command line wins over `vigil_metrics_listen`).
    public var metricsListen: String?
    /// Beats for the supervisor's relay of systemd's watchdog, from this loop.
    public var heartbeat: Heartbeat?

    public init(configuration: Configuration, logger: Logger, runtime: RuntimeDirectory) throws(SystemError) {
        self.configuration = configuration
        self.logger = logger
        self.runtime = runtime
        loop = try EventLoop()
        netlink = try NetlinkSocket()
        monitor = try NetlinkSocket(
            groups: NetlinkSocket.linkGroup | NetlinkSocket.ipv4AddressGroup | NetlinkSocket.ipv6AddressGroup,
            nonBlocking: true)
        packets = try PacketSocket()
        notifier = Notifier(global: configuration.global, logger: logger)
        launcher = ScriptLauncher(global: configuration.global)
    }

    var now: MonotonicTime { MonotonicTime(nanoseconds: loop.now) }

    // MARK: - Start and stop

    /// Sets everything up and runs until SIGTERM or SIGINT; returns the exit code.
    public func run() throws(SystemError) -> Int32 {
        try installSignals()
        for event in try netlink.dump(links: true) { _ = table.apply(event) }
        for event in try netlink.dump(links: false) { _ = table.apply(event) }
        removeLeftoverAddresses()
        try loop.add(monitor.descriptor.rawValue) { [unowned self] in self.monitorReadable() }
        for instance in configuration.instances {
            drivers.append(RouterDriver(instance: instance, global: configuration.global))
            virtualAddresses.formUnion(
                (instance.virtualAddresses + instance.excludedVirtualAddresses).map(\.prefix.address))
        }
        for driver in drivers { try attach(driver) }
        setUpTracking()
        notifier.startFIFOScripts()
        for driver in drivers where !waitsForScripts(driver) { startRouter(driver) }
        logger.info("VRRP started with \(drivers.count) instance\(drivers.count == 1 ? "" : "s")")
        // Once the routers run, start-up's code (reading the configuration) need not stay resident.
        // Reading /proc/self/smaps takes milliseconds: off the loop.
        loop.schedule(at: loop.now + 2_000_000_000) { [unowned self] in reloader.submit { StartupPages.release() } }
        do {
            controlSocket = try ControlSocket(path: runtime.file(Self.controlSocketName), loop: loop) {
                [unowned self] request in control(request)
            }
        } catch {
            logger.error("no control socket (vigil status will not work): \(error)")
        }
        if let endpoint = metricsListen ?? configuration.global.vigil.metricsListen {
            metricsServer = MetricsPage.serve(at: endpoint, loop: loop, logger: logger) { [unowned self] request in
                httpAnswer(request)
            }
        }
        applyScheduling()
        notifySystemd("READY=1\nSTATUS=\(statusLine)")
        heartbeat?.start(on: loop)
        loop.run()
        return exitCode
    }

    /// systemd (Type=notify, NotifyAccess=all): start-up, reloads and a one-line status.
    func notifySystemd(_ text: String) { systemd.notify(text) }

    /// How many instances are in which state, for systemd's STATUS= and logs.
    var statusLine: String {
        var counts = [VirtualRouter.State: Int]()
        for driver in drivers { counts[driver.router.state, default: 0] += 1 }
        let states = [VirtualRouter.State.master, .backup, .fault, .initialize, .stopped].compactMap { state in
            counts[state].map { "\($0) \(state)" }
        }
        return "\(drivers.count) instance\(drivers.count == 1 ? "" : "s")"
            + (states.isEmpty ? "" : ": " + states.joined(separator: ", "))
    }

    /// keepalived's `vrrp_priority`, `vrrp_no_swap` and `vrrp_rt_priority` (with `vrrp_rlimit_rttime`, 10 ms by
    /// default, as keepalived's), for the loop's thread. Without `vrrp_rt_priority` Vigil still runs the loop at
    /// the lowest real-time priority, with no time limit (the kernel keeps 5% of every second for others), unless
    /// `vigil_no_realtime`: a busy machine must not delay adverts.
    func applyScheduling() {
        let settings = configuration.global.vrrpScheduling
        if let nice = settings.nice {
            do { try Scheduling.setNice(nice) } catch { logger.warning("vrrp_priority \(nice): \(error)") }
        }
        if settings.noSwap {
            do { try Scheduling.lockMemory() } catch { logger.warning("vrrp_no_swap: \(error)") }
        }
        if let priority = settings.realtimePriority {
            do {
                try Scheduling.setRealtime(
                    priority: priority, limitMicroseconds: settings.realtimeLimitMicroseconds ?? 10_000)
            } catch {
                logger.warning("vrrp_rt_priority \(priority): \(error)")
            }
        } else if configuration.global.vigil.realtime {
            do {
                try Scheduling.setRealtime(priority: 1, limitMicroseconds: settings.realtimeLimitMicroseconds)
            } catch {
                logger.info("running the VRRP loop at normal priority (real-time scheduling refused: \(error))")
            }
        }
    }

    /// Resolves the driver's interface and opens (or shares) its socket.
    func attach(_ driver: RouterDriver) throws(SystemError) {
        guard let name = driver.instance.interface ?? unicastInterface(driver) else { return }
        guard let link = table.link(named: name) else {
            logger.error("(\(driver.name)) interface \(name) does not exist")
            return
        }
        driver.interfaceIndex = link.index
        var keys = [SocketKey(index: link.index, family: driver.family)]
        // An AH router hears its adverts on a protocol 51 socket, and (to count a peer without AH as a
        // mismatch) on the plain one too.
        if driver.usesAuthenticationHeader { keys.append(SocketKey(index: link.index, family: .ipv4, authenticated: true)) }
        for key in keys {
            if sockets[key] == nil {
                let wantsMulticast = drivers.contains {
                    !$0.isUnicast && $0.family == driver.family && ($0.instance.interface == name)
                }
                let group = wantsMulticast ? driver.destinations.first : nil
                let socket = try VRRPSocket(
                    family: driver.family, interfaceName: name, interfaceIndex: link.index,
                    multicastGroup: group?.isMulticast == true ? group : nil,
                    ipProtocol: key.authenticated ? Int32(AuthenticationHeader.protocolNumber) : VRRPSocket.ipProtocol)
                sockets[key] = socket
                try loop.add(socket.descriptor.rawValue) { [unowned self] in self.socketReadable(key) }
            }
            if driversBySocket[key]?.contains(where: { $0 === driver }) != true {
                driversBySocket[key, default: []].append(driver)
            }
        }
    }

    /// A unicast instance without `interface` sends from the interface holding its `unicast_src_ip`.
    func unicastInterface(_ driver: RouterDriver) -> String? {
        guard let source = driver.configuredSource else { return nil }
        for (index, list) in table.addresses where list.contains(where: { $0.prefix.address == source }) {
            return table.link(index: index)?.name
        }
        return nil
    }

    /// Stops every router (masters resign with priority 0 and give their addresses up) and ends the loop.
    func shutdown() {
        guard !stopping else { return }
        stopping = true
        if !releaseOnStop { for driver in drivers { driver.owned.removeAll() } }
        for driver in drivers { run(driver.router.stop(now: now), driver) }
        for runtime in scripts.values { runtime.process?.killGroup() }
        // STOP notifications go out before the process ends (keepalived gives notify_stop a second).
        notifier.drain(timeout: .seconds(5))
        controlSocket = nil
        metricsServer = nil
        logger.info("Stopped")
        loop.stop()
    }

    // MARK: - Signals

    func installSignals() throws(SystemError) {
        signals = try Signals.watch(on: loop) { [unowned self] signal in
            switch signal {
            case SIGTERM, SIGINT:
                shutdown()
            case SIGUSR2:
                writeStats()
            case SIGUSR1:
                writeData()
            case Signals.json:
                writeJSON()
            case Signals.statsClear:
                for driver in drivers { driver.counters = Counters() }
                unknownVirtualRouters = 0
                malformedPackets = 0
                logger.info("Cleared VRRP statistics on signal")
            case SIGHUP:
                notifySystemd("RELOADING=1\nMONOTONIC_USEC=\(loop.now / 1000)")
                reload()
            default:
                break
            }
        }
    }

    // MARK: - Interfaces

    /// Removes addresses a previous Vigil left behind (a crash): exactly those tagged with Vigil's protocol.
    func removeLeftoverAddresses() {
        for address in table.addresses(taggedWith: Self.addressProtocol) {
            _ = try? netlink.changeAddress(add: false, address, protocol: nil)
            logger.info(
                "removed \(address.prefix) left by an earlier Vigil on \(table.link(index: address.index)?.name ?? "?")"
            )
        }
    }

    func monitorReadable() {
        while true {
            let events: [NetlinkMessage.Event]
            do {
                events = try monitor.receive()
            } catch {
                if error.errno == ENOBUFS {
                    // Events were lost: read the whole picture again.
                    logger.warning("netlink monitor overflowed; re-reading interfaces")
                    if let links = try? netlink.dump(links: true) { for event in links { _ = table.apply(event) } }
                    if let addresses = try? netlink.dump(links: false) {
                        for event in addresses { _ = table.apply(event) }
                    }
                    primaryAddresses.removeAll()
                    refreshTrackers()
                    continue
                }
                return
            }
            if events.isEmpty { return }
            var touched = Set<Int32>()
            for event in events {
                if let (link, _) = table.apply(event) {
                    logger.info("Netlink reports \(link.name) \(link.isUp ? "up" : "down")")
                    touched.insert(link.index)
                }
                if case .address(let address, let removed) = event {
                    touched.insert(address.index)
                    if addressMonitoring {
                        logger.info(
                            "Netlink reports \(address.prefix) \(removed ? "removed from" : "added to") \(table.link(index: address.index)?.name ?? "interface \(address.index)")"
                        )
                    }
                }
            }
            guard !touched.isEmpty else { continue }
            primaryAddresses = primaryAddresses.filter { !touched.contains($0.key.index) }
            // Links and addresses decide faults, and tracked interfaces priorities.
            refreshTrackers(kind: .interface)
        }
    }

    /// Why this router cannot run on its own account: interface missing or down, no address to send from.
    func linkFault(_ driver: RouterDriver) -> String? {
        guard let index = driver.interfaceIndex, let link = table.link(index: index) else {
            return "interface \(driver.instance.interface ?? "?") missing"
        }
        if !link.isUp { return "interface \(link.name) down" }
        if source(for: driver) == nil { return "no \(driver.family) address on \(link.name) to send from" }
        // As keepalived: an address on another interface tracks that interface, unless `no_track`.
        for name in driver.trackedAddressInterfaces {
            guard let other = table.link(named: name) else { return "interface \(name) of a virtual address missing" }
            if !other.isUp { return "interface \(name) of a virtual address down" }
        }
        return nil
    }

    /// Recomputes every router's fault (its link, its weight-0 trackers, its sync group) and tells each router
    /// what changed.
    func refreshFaults() {
        for driver in drivers {
            if let address = source(for: driver) { driver.router.primaryAddress = address }
            driver.individualFault = linkFault(driver) ?? driver.trackerFault
        }
        for driver in drivers where driver.started {
            var reason = driver.individualFault
            if reason == nil, let group = driver.group {
                if let faulted = group.members.first(where: { $0 !== driver && $0.individualFault != nil }) {
                    reason = "sync group \(group.name): \(faulted.name) is in FAULT"
                }
            }
            if (reason != nil) != driver.router.isFaulted {
                run(driver.router.setFault(reason, now: now), driver)
            }
        }
    }

    func source(for driver: RouterDriver) -> IPAddress? {
        if let configured = driver.configuredSource { return configured }
        guard let index = driver.interfaceIndex else { return nil }
        return primaryAddress(SocketKey(index: index, family: driver.family))
    }

    /// An interface's primary address per family, cached until its addresses change: every advert needs it.
    func primaryAddress(_ key: SocketKey) -> IPAddress? {
        if let cached = primaryAddresses[key] { return cached }
        let address = table.primaryAddress(index: key.index, family: key.family, excluding: virtualAddresses)
        primaryAddresses[key] = address
        return address
    }

    // MARK: - Receiving

    func socketReadable(_ key: SocketKey) {
        guard let socket = sockets[key] else { return }
        socket.receive { datagram in self.handle(datagram, on: key) }
    }

    func handle(_ datagram: Datagram, on key: SocketKey) {
        let packet: ReceivedPacket
        switch key.family {
        case .ipv4:
            switch ReceivedPacket.parseIPv4(datagram.bytes) {
            case .success(let parsed): packet = parsed
            case .failure:
                malformedPackets += 1
                return
            }
        case .ipv6:
            packet = ReceivedPacket(
                payload: datagram.bytes, source: datagram.source,
                destination: datagram.destination ?? Advertisement.multicastGroup6, hopLimit: datagram.hopLimit)
        }
        let payload = packet.payload
        guard payload.count >= 2 else {
            malformedPackets += 1
            return
        }
        let vrid = payload[payload.startIndex + 1]
        // Usually one router per VRID on a socket; unicast routers sharing one are told apart by the peer.
        var driver: RouterDriver?
        if let list = driversBySocket[key] {
            for candidate in list where candidate.virtualRouterID == vrid {
                if driver == nil {
                    driver = candidate
                } else if candidate.destinations.contains(packet.source) {
                    driver = candidate
                    break
                }
            }
        }
        guard let driver else {
            unknownVirtualRouters += 1
            if lastUnknownLog.map({ now - $0 > .seconds(10) }) ?? true {
                lastUnknownLog = now
                logger.debug(
                    "Unknown VRID(\(vrid)) received on interface(\(sockets[key]?.interfaceName ?? "?")). ignoring...")
            }
            return
        }
        if packet.hasAuthenticationHeader, let key = driver.authenticationKey {
            switch AuthenticationHeader.verify(datagram.bytes, unicast: driver.isUnicast, key: key) {
            case .failure(let rejection):
                reject(rejection, packet, driver)
                return
            case .success(let sequence):
                guard driver.authenticationSequence.accept(sequence) else {
                    reject(.authenticationFailure, packet, driver)
                    return
                }
            }
        }
        let advert: Advertisement
        switch Advertisement.decode(packet) {
        case .success(let decoded): advert = decoded
        case .failure(let rejection):
            reject(rejection, packet, driver)
            return
        }
        switch driver.policy.check(advert, packet) {
        case .reject(let rejection):
            reject(rejection, packet, driver)
            return
        case .accept(let mismatch):
            if mismatch {
                driver.counters.addressListMismatches += 1
                rateLimitedLog(driver, .addressList) {
                    "(\(driver.name)) advert from \(packet.source) lists \(advert.addresses.map(\.description).joined(separator: " ")), not our addresses; accepted (set vrrp_strict to drop such adverts)"
                }
            }
        }
        driver.counters.advertisementsReceived += 1
        if advert.priority == 0 { driver.counters.priorityZeroReceived += 1 }
        run(driver.router.received(advert, from: packet.source, now: now), driver)
    }

    func reject(_ rejection: Rejection, _ packet: ReceivedPacket, _ driver: RouterDriver) {
        driver.counters.rejections[rejection.ordinal] += 1
        rateLimitedLog(driver, rejection) { "(\(driver.name)) dropped an advert from \(packet.source): \(rejection)" }
    }

    /// At most one line per kind of problem per router every 10 seconds, saying how many were not logged.
    func rateLimitedLog(_ driver: RouterDriver, _ rejection: Rejection, _ message: () -> String) {
        let current = now
        let slot = rejection.ordinal
        if let last = driver.lastRejectionLog[slot], current - last < .seconds(10) {
            driver.suppressedRejections[slot] += 1
            return
        }
        let suppressed = driver.suppressedRejections[slot]
        driver.suppressedRejections[slot] = 0
        driver.lastRejectionLog[slot] = current
        logger.warning("\(message())\(suppressed > 0 ? " (and \(suppressed) more like it)" : "")")
    }

    // MARK: - Actions

    func run(_ actions: [VirtualRouter.Action], _ driver: RouterDriver) {
        for action in actions {
            switch action {
            case .sendAdvertisement(let priority):
                sendAdvertisement(driver, priority: priority)
            case .addVirtualAddresses:
                addAddresses(driver)
            case .removeVirtualAddresses:
                removeAddresses(driver)
            case .announceAddresses(let rounds):
                announce(driver, rounds: rounds)
            case .arm(let timer, let deadline):
                if let existing = driver.timers[timer] { loop.cancel(existing) }
                driver.timers[timer] = loop.schedule(at: deadline.nanoseconds) { [unowned self, driver] in
                    driver.timers[timer] = nil
                    let allowed = timer != .masterDown || self.syncAllowsMaster(driver)
                    self.run(driver.router.timerFired(timer, now: self.now, syncAllowsMaster: allowed), driver)
                }
            case .cancel(let timer):
                if let existing = driver.timers.removeValue(forKey: timer) { loop.cancel(existing) }
            case .stateChanged(let from, let to, let reason):
                stateChanged(driver, from: from, to: to, reason: reason)
            case .note(let note):
                log(note, driver)
            }
        }
    }

    func sendAdvertisement(_ driver: RouterDriver, priority: UInt8) {
        guard let socketKey = driver.interfaceIndex.map({ SocketKey(index: $0, family: driver.family) }),
            let socket = sockets[socketKey], let source = source(for: driver)
        else {
            logger.error("(\(driver.name)) cannot send an advert: no interface or address to send from")
            return
        }
        let advert = driver.advertisement(priority: priority)
        let identification = driver.nextIdentification()
        let ttl = driver.isUnicast ? UInt8(driver.instance.unicastTTL ?? 255) : 255
        // AH: one sequence number per advert, whatever the number of unicast peers (as keepalived).
        let sequence = driver.usesAuthenticationHeader ? driver.authenticationSequence.next() : 0
        for destination in driver.destinations {
            let bytes = advert.encoded(source: source, destination: destination)
            do {
                if driver.family == .ipv6 {
                    try socket.send(ipv6Payload: bytes, source: source, destination: destination)
                } else if let key = driver.authenticationKey {
                    try socket.send(
                        ipv4Packet: AuthenticationHeader.packet(
                            advert: bytes, source: source, destination: destination, ttl: ttl,
                            identification: identification, sequence: sequence, unicast: driver.isUnicast, key: key),
                        to: destination)
                } else {
                    try socket.send(
                        ipv4Packet: IPv4Packet.advert(
                            bytes, source: source, destination: destination, ttl: ttl, identification: identification),
                        to: destination)
                }
            } catch {
                if !(priority == 0 && error.errno == ENETUNREACH) {
                    logger.error("(\(driver.name)) cannot send advert to \(destination): \(error)")
                }
            }
        }
        driver.counters.advertisementsSent += 1
        if priority == 0 { driver.counters.priorityZeroSent += 1 }
    }

    func addAddresses(_ driver: RouterDriver) {
        for address in driver.interfaceAddresses(resolve: { table.link(named: $0)?.index }, tag: Self.addressProtocol) {
            do {
                let outcome = try netlink.changeAddress(add: true, address, protocol: Self.addressProtocol)
                switch outcome.errno {
                case 0:
                    driver.owned.append(address)
                case EEXIST:
                    // Someone else's address (or added by hand): use it, but never remove it.
                    logger.warning(
                        "(\(driver.name)) \(address.prefix) is already on the interface; leaving it to its owner")
                default:
                    logger.error("(\(driver.name)) cannot add \(address.prefix): \(outcome.description)")
                }
            } catch {
                logger.error("(\(driver.name)) cannot add \(address.prefix): \(error)")
            }
        }
    }

    func removeAddresses(_ driver: RouterDriver) {
        if releaseEveryAddress {
            // -X: also what was there before Vigil added it (keepalived's --release-vips).
            let owned = Set(driver.owned.map { "\($0.index) \($0.prefix)" })
            for address in driver.interfaceAddresses(resolve: { table.link(named: $0)?.index }, tag: 0)
            where !owned.contains("\(address.index) \(address.prefix)") {
                driver.owned.append(address)
            }
        }
        for address in driver.owned {
            do {
                let outcome = try netlink.changeAddress(add: false, address, protocol: nil)
                if !outcome.succeeded && outcome.errno != EADDRNOTAVAIL {
                    logger.error("(\(driver.name)) cannot remove \(address.prefix): \(outcome.description)")
                }
            } catch {
                logger.error("(\(driver.name)) cannot remove \(address.prefix): \(error)")
            }
        }
        driver.owned.removeAll()
    }

    /// Gratuitous ARPs and unsolicited neighbour advertisements for every address, `rounds` times, spaced by
    /// `vrrp_garp_interval` / `vrrp_gna_interval` when those are set.
    func announce(_ driver: RouterDriver, rounds: Int, only: Set<IPAddress>? = nil) {
        let addresses = driver.interfaceAddresses(resolve: { table.link(named: $0)?.index }, tag: 0).filter {
            only?.contains($0.prefix.address) ?? true
        }
        var frames = [(frame: [UInt8], index: Int32, family: IPAddress.Family)]()
        for _ in 0..<rounds {
            for address in addresses {
                guard let link = table.link(index: address.index), link.hardwareAddress.count == 6 else { continue }
                let frame =
                    address.prefix.address.family == .ipv4
                    ? AnnouncementFrame.gratuitousARP(from: link.hardwareAddress, address: address.prefix.address)
                    : AnnouncementFrame.unsolicitedNeighborAdvertisement(
                        from: link.hardwareAddress, address: address.prefix.address,
                        router: Self.forwarding(link.name))
                frames.append((frame, link.index, address.prefix.address.family))
            }
        }
        if let first = addresses.first, let link = table.link(index: first.index) {
            let kind = first.prefix.address.family == .ipv4 ? "gratuitous ARPs" : "Unsolicited Neighbour Adverts"
            logger.debug("(\(driver.name)) Sending/queueing \(kind) on \(link.name) for \(first.prefix.address)")
        }
        let garp = driver.router.settings.garp
        var deadline = loop.now
        for (frame, index, family) in frames {
            let spacing = family == .ipv4 ? garp.interval : garp.naInterval
            if spacing == .zero {
                send(frame, index, driver)
            } else {
                loop.schedule(at: deadline) { [unowned self] in self.send(frame, index, driver) }
                deadline += MonotonicTime(spacing).nanoseconds
            }
        }
    }

    func send(_ frame: [UInt8], _ index: Int32, _ driver: RouterDriver) {
        do {
            try packets.send(frame, interfaceIndex: index)
        } catch {
            logger.error("(\(driver.name)) cannot send an announcement: \(error)")
        }
    }

    /// Whether the host forwards IPv6 on an interface (the NA Router flag).
    static func forwarding(_ interface: String) -> Bool {
        let fd = open("/proc/sys/net/ipv6/conf/\(interface)/forwarding", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var byte: UInt8 = 0
        return read(fd, &byte, 1) == 1 && byte != UInt8(ascii: "0")
    }

    // MARK: - Reporting

    func stateChanged(
        _ driver: RouterDriver, from: VirtualRouter.State, to: VirtualRouter.State, reason: VirtualRouter.Reason
    ) {
        driver.lastTransition = (now, reason)
        if to == .master {
            driver.counters.becameMaster += 1
            driver.authenticationSequence.becameMaster()
        }
        if from == .master { driver.counters.releasedMaster += 1 }
        switch to {
        case .stopped:
            logger.info("(\(driver.name)) Stopping")
        default:
            logger.info("(\(driver.name)) Entering \(to) STATE\(reason == .startup ? " (init)" : "")")
        }
        logger.debug("(\(driver.name)) \(from) -> \(to): \(reason)")
        notifier.instance(driver.instance, state: to, priority: driver.router.effectivePriority)
        if let group = driver.group { synchronize(group, after: driver, movedTo: to) }
    }

    func log(_ note: VirtualRouter.Note, _ driver: RouterDriver) {
        let name = driver.name
        switch note {
        case .backupReceivedPriorityZero:
            logger.debug("(\(name)) Backup received priority 0 advertisement")
        case .masterReceivedPriorityZero:
            logger.debug("(\(name)) Master received priority 0 message")
        case .lowerPriorityDiscarded(let from, let priority):
            logger.info("(\(name)) received lower priority (\(priority)) advert from \(from) - discarding")
        case .masterReceivedLowerPriority(let from, let priority, let ours, let forcing):
            notifier.masterReceivedLowerPriority(driver.instance, priority: priority)
            logger.info(
                "(\(name)) Received advert from \(from) with lower priority \(priority), ours \(ours)\(forcing ? ", forcing new election" : "")"
            )
        case .equalPriorityFromOwnAddress:
            logger.warning("(\(name)) WARNING - equal priority advert received from remote host with our IP address.")
        case .bothAddressOwners:
            logger.error(
                "(\(name)) CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority"
            )
        case .intervalAdopted(let from, let to):
            logger.debug(
                "(\(name)) advertisement interval updated from \(from.microseconds / 1000)ms to \(to.microseconds / 1000)ms by master"
            )
        case .preemptDelayStarted(let until):
            logger.debug("(\(name)) start preempt delay (until \(until))")
        case .preemptDelayStopped:
            logger.debug("(\(name)) stop preempt delay")
        case .priorityChanged(let from, let to):
            if driver.instance.notifyPriorityChanges ?? false {
                notifier.priority(driver.instance, state: driver.router.state, priority: to)
            }
            logger.info("(\(name)) Changing effective priority from \(from) to \(to)")
        }
    }

    /// SIGUSR2: keepalived's stats dump, in Vigil's runtime directory.
    func writeStats() {
        var text = drivers.map { $0.counters.statsDump(instance: $0.name) }.joined()
        text += "Vigil Receive Errors:\n  Unknown VRID: \(unknownVirtualRouters)\n  Malformed: \(malformedPackets)\n"
        do {
            try runtime.write("vigil.stats", contents: text)
            logger.info("Printing VRRP stats for process(\(getpid())) on signal")
        } catch {
            logger.error("cannot write stats: \(error)")
        }
    }

    /// keepalived's JSON signal (SIGRTMIN + 2): the state as `vigil status --json` gives it, in vigil.json.
    func writeJSON() {
        do {
            try runtime.write("vigil.json", contents: statusReport().json)
            logger.info("Printing VRRP as json for process(\(getpid())) on signal")
        } catch {
            logger.error("cannot write vigil.json: \(error)")
        }
    }

    /// SIGUSR1: keepalived's data dump lines that exporters read.
    func writeData() {
        var text = "------< VRRP Topology >------\n"
        for driver in drivers {
            let router = driver.router
            text += " VRRP Instance = \(driver.name)\n"
            text += "   State = \(router.state)\n"
            text += "   Wantstate = \(router.wantsMaster ? "MASTER" : "BACKUP")\n"
            text += "   Interface = \(driver.instance.interface ?? "")\n"
            text += "   Virtual Router ID = \(router.settings.virtualRouterID)\n"
            text += "   Priority = \(router.basePriority)\n"
            text += "   Effective priority = \(router.effectivePriority)\n"
            text += "   Advert interval = \(router.settings.advertisementInterval.seconds) sec\n"
            if let master = router.masterAddress { text += "   Master router = \(master)\n" }
            if let priority = router.masterPriority { text += "   Master priority = \(priority)\n" }
            if let transition = driver.lastTransition {
                text += "   Last transition = \(transition.time) (\(transition.reason))\n"
            }
            text += "   Virtual IP = \(driver.instance.virtualAddresses.count)\n"
            for address in driver.instance.virtualAddresses { text += "     \(address.prefix)\n" }
        }
        do {
            try runtime.write("vigil.data", contents: text)
            logger.info("Printing VRRP data for process(\(getpid())) on signal")
        } catch {
            logger.error("cannot write data: \(error)")
        }
    }
}

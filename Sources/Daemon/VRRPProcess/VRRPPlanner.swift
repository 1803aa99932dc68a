import Checksums
import HealthCheck
import LinuxNet
import Logging
import VRRP
import VigilConfig

/// The VRRP process's decisions, as a value: the configuration and events in (packets, timers, interface and
/// address changes, script endings, tracked files and processes, reloads, stop), actions out (sockets to open,
/// packets to send, addresses to change, frames to announce, timers, scripts, notifications, log lines). It makes
/// no syscall and reads no clock, so every rule of the process is unit-tested without root (`VRRPPlannerTests`);
/// `VRRPService` runs the actions and turns I/O into events, and does nothing else.
struct VRRPPlanner {
    /// What the command line asks of the VRRP process.
    struct Options: Equatable, Sendable {
        /// `-V` turns it off: the addresses stay when Vigil stops.
        var releaseOnStop = true
        /// `-X`: leaving MASTER removes every configured address, also those Vigil did not add.
        var releaseEveryAddress = false
        /// `-a`: log every address the kernel adds or removes.
        var addressMonitoring = false
        /// `-D`: debug lines are wanted (the planner skips building them otherwise).
        var logDetail = false

        init() {}
    }

    /// IFA_PROTO value Vigil tags its addresses with, to remove exactly what it added (and leftovers of a crash).
    static let addressProtocol: UInt8 = 86

    enum Timer: Hashable, Sendable {
        case router(RouterID, VirtualRouter.Timer)
        case scriptRun(String)
        case scriptTimeout(String)
        /// Routers still waiting for their scripts' first results start anyway.
        case scriptsGrace
        /// `garp_extra_if`: the next announcement on a master's other interfaces.
        case extraAnnouncement(RouterID)
        /// `fork_delay`/`terminate_delay`: a tracked process's quorum change is looked at again.
        case processDelay(String)
    }

    /// A state change to tell people and programs about (the executor hands it to the `Notifier`).
    enum Notification: Equatable, Sendable {
        case instance(VRRPInstance, VirtualRouter.State, priority: Int)
        /// Removed by a reload, with `notify_deleted`.
        case deleted(VRRPInstance, priority: Int)
        case group(SyncGroup, VirtualRouter.State)
        case priority(VRRPInstance, VirtualRouter.State, priority: Int)
        case masterReceivedLowerPriority(VRRPInstance, priority: Int)
    }

    /// One advert ready for the wire: the whole IPv4 packet (IP_HDRINCL), or the IPv6 payload.
    struct OutgoingAdvert: Equatable, Sendable {
        var socket: SocketKey
        var bytes: [UInt8]
        var source: IPAddress
        var destination: IPAddress
        var router: String
        /// A priority-0 advert on a link that just went away: no error worth a line.
        var quietWhenUnreachable: Bool
    }

    /// Gratuitous ARPs and neighbour advertisements, sent in order, `spacing` apart per family when set.
    /// Frames to send, each at its time (paced per interface or `garp_group`).
    struct Announcement: Equatable, Sendable {
        struct Frame: Equatable, Sendable {
            var bytes: [UInt8]
            var interfaceIndex: Int32
            var family: IPAddress.Family
            var at: MonotonicTime
        }
        var router: String
        var frames: [Frame]
    }

    /// A run of a `vrrp_script`: its generation tells a reloaded script's run from the one before.
    struct ScriptRun: Hashable, Sendable {
        var name: String
        var generation: Int
    }

    enum ScriptEnding: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32)
        case couldNotRun(String)
    }

    enum Action: Equatable, Sendable {
        case openSocket(SocketKey, interface: String, multicastGroup: IPAddress?)
        case closeSocket(SocketKey)
        case send(OutgoingAdvert)
        /// Adds or removes an address, a route or a rule; the executor reports the kernel's answer with `changed`.
        /// (Boxed: a kernel entry is three times the size of any other action.)
        indirect case change(Owner, KernelEntry, add: Bool)
        case announce(Announcement)
        /// Runs an nft script (the accept-mode table: install, replace or remove) off the loop; `removalOnly`
        /// scripts are skipped when nft is not installed (there is then nothing to remove).
        case firewall(script: String, removalOnly: Bool)
        /// Starts or stops an IPVS connection synchronisation daemon (`lvs_sync_daemon ... inst` follows its
        /// instance: master while it is MASTER, backup otherwise).
        case syncDaemon(IPVSMessage.SyncDaemon, start: Bool)
        /// Creates a VMAC interface; the executor answers with `virtualLinkChanged`.
        case createVirtualLink(VirtualLinkRequest)
        /// Removes a VMAC interface; the executor answers with `virtualLinkChanged`.
        case deleteVirtualLink(index: Int32, name: String)
        case arm(Timer, at: MonotonicTime)
        case cancel(Timer)
        case runScript(ScriptRun, ScriptCommand, user: String?, group: String?)
        /// Kills the run's process group (it then ends, and `scriptEnded` follows).
        case killScript(ScriptRun)
        /// Read these every second and report with `tracked` (an empty set stops the reading).
        case poll(files: [TrackFile], processes: [TrackProcess])
        /// Follow (or stop following) the BFD process's sessions; report with `bfdChanged`.
        case followBFD(Bool)
        /// Read these interfaces' carrier every second and report with `linkbeat` (empty: stop).
        case pollLinks([String])
        // Boxed: a notification holds a whole instance, and `global_defs` is larger still; unboxed, every action
        // (one per advert sent) would take as much room as they.
        indirect case notify(Notification)
        /// `global_defs` changed: later notifications use the new settings (the executor drains the old notifier).
        indirect case replaceNotifier(GlobalDefinitions)
        case log(Logger.Level, String)
        case systemd(String)
        /// Read the configuration file again, off the loop; answer with `configurationLoaded`.
        case loadConfiguration
        /// Everything is said and done: stop the loop.
        case exit
        /// The rest of a router's takeover, worked out after its advert is on the wire: the executor answers with
        /// `proceed` before anything else, or, when it is `independent`, once every timer due at the same moment
        /// has run (their adverts first).
        case proceed(Continuation)
    }

    /// What a router still has to do once the advert that goes first is sent.
    struct Continuation: Equatable, Sendable {
        var router: RouterID
        var actions: [VirtualRouter.Action]
        var now: MonotonicTime
        /// Not in a sync group: nothing another router does meanwhile depends on it, nor it on them.
        var independent: Bool
    }

    struct ScriptState {
        let script: VRRPScript
        var health: ScriptHealth
        var generation: Int
        var running = false
        var timedOut = false
        /// Whether it ever ran (a reload starts only scripts that never did).
        var everStarted = false
        var started = MonotonicTime.zero
    }

    struct GroupState {
        let config: SyncGroup
        var state: SyncGroupState
        var members: [RouterID]
    }

    /// The configuration running, without its instances once the routers exist: each router holds its own
    /// (`RouterState.instance`), and a second copy of every instance would be the largest part of the process.
    var configuration: Configuration
    let options: Options
    var table = InterfaceTable()
    var routers: [RouterState] = []
    var nextRouterID = 1
    /// Routers by socket, in configuration order.
    var socketRouters: [SocketKey: [RouterID]] = [:]
    /// Every configured virtual address: never a source address.
    var virtualAddresses = Set<IPAddress>()
    /// The static addresses, routes and rules in the kernel because Vigil added them.
    var staticOwned: [KernelEntry] = []
    /// The accept-mode table as installed (nil: none).
    var firewall: AcceptModeFirewall?
    /// When the next announcement may go out, per interface (or garp_group) and family.
    var announcementPace: [PaceKey: MonotonicTime] = [:]
    /// Cached primary addresses (`nil` entries mean "none"); see `primaryAddress`.
    var primaryAddresses: [SocketKey: IPAddress?] = [:]
    var scripts: [String: ScriptState] = [:]
    var scriptGeneration = 0
    var groups: [GroupState] = []
    /// Values of tracked files and processes, as last read.
    var fileValues: [String: Int] = [:]
    var processUp: [String: Bool] = [:]
    /// The last count of each tracked process, and the ones whose quorum change waits out a delay.
    var processCounts: [String: Int] = [:]
    var processDelayed: Set<String> = []
    /// What the executor is asked to read every second, as a comparable key.
    var polling: [String] = []
    /// What the BFD process last said of each session (absent: down, as keepalived), and whether it is followed.
    var bfdUp: [String: Bool] = [:]
    var followsBFD = false
    /// The interfaces whose carrier is read every second (linkbeat), as last asked for.
    var linkbeat: [String] = []
    /// Packets for no router of ours, and packets too broken to tell whose they are.
    var unknownVirtualRouters = 0
    var malformedPackets = 0
    var lastUnknownLog: MonotonicTime?
    var reloading = false
    var stopping = false

    init(configuration: Configuration, options: Options = Options()) {
        self.configuration = configuration
        self.options = options
    }

    // MARK: - Looking things up

    /// Routers are in the order of their IDs (each new one gets the next; a reload only removes): a binary search.
    func index(of id: RouterID) -> Int? {
        var low = 0
        var high = routers.count
        while low < high {
            let middle = (low + high) / 2
            if routers[middle].id < id { low = middle + 1 } else { high = middle }
        }
        return low < routers.count && routers[low].id == id ? low : nil
    }
    func router(_ id: RouterID) -> RouterState? { index(of: id).map { routers[$0] } }
    func router(named name: String) -> RouterState? { routers.first { $0.name == name } }
    var resolve: (String) -> Int32? { { [table] in table.link(named: $0)?.index } }

    // MARK: - Start and stop

    /// The interfaces as the kernel lists them at start (a dump of links and addresses); the routers are set up,
    /// leftovers of an earlier Vigil removed, scripts started and routers that need no script's first result
    /// started.
    mutating func start(interfaces: [NetlinkMessage.Event], forwarding: [Int32: Bool], now: MonotonicTime) -> [Action] {
        var actions = [Action]()
        for event in interfaces { _ = table.apply(event) }
        table.forwarding = forwarding
        routers.reserveCapacity(configuration.instances.count)
        for instance in configuration.instances { addRouter(instance) }
        virtualAddresses = Self.allVirtualAddresses(configuration)
        for index in routers.indices { actions += attach(index) }
        actions += removeLeftovers()
        actions += installStatic(reportMissing: true)
        actions += firewallActions(for: configuration, previous: nil)
        configuration.instances = []
        actions += setUpTracking(now: now)
        actions += startRouters(routers.indices.filter { !waitsForScripts(routers[$0]) }, now: now)
        actions.append(.log(.info, "VRRP started with \(routers.count) instance\(routers.count == 1 ? "" : "s")"))
        actions.append(.systemd("READY=1\nSTATUS=\(statusLine)"))
        return actions
    }

    /// SIGTERM/SIGINT: every router stops (masters resign with priority 0 and give their addresses up, unless
    /// `-V`), scripts are killed, and the process ends once notifications are out.
    mutating func stop(now: MonotonicTime) -> [Action] {
        guard !stopping else { return [] }
        stopping = true
        var actions = [Action]()
        if !options.releaseOnStop { for index in routers.indices { routers[index].owned.removeAll() } }
        for index in routers.indices { actions += run(routers[index].router.stop(now: now), index, now: now) }
        if options.releaseOnStop { for index in routers.indices { actions += removeVirtualMAC(index) } }
        actions += removeStatic()
        if let installed = firewall {
            actions.append(.firewall(script: AcceptModeFirewall.removal(table: installed.settings.table), removalOnly: true))
            firewall = nil
        }
        for (name, state) in scripts.sorted(by: { $0.key < $1.key }) where state.running {
            actions.append(.killScript(ScriptRun(name: name, generation: state.generation)))
        }
        actions.append(.log(.info, "Stopped"))
        actions.append(.exit)
        return actions
    }

    /// The accept-mode table `new` needs, from what is installed: at start a leftover is removed when none is
    /// needed; a changed table is replaced in one transaction; a renamed one replaces the old.
    mutating func firewallActions(for new: Configuration, previous: AcceptModeFirewall?) -> [Action] {
        let wanted = AcceptModeFirewall(new)
        defer { firewall = wanted }
        guard wanted != previous || previous == nil else { return [] }
        var script = ""
        if let previous, previous.settings.table != wanted?.settings.table {
            script += AcceptModeFirewall.removal(table: previous.settings.table)
        }
        if let wanted {
            return [.firewall(script: script + wanted.script, removalOnly: false)]
        }
        if previous == nil {
            // At start: whatever an earlier run may have left.
            script = AcceptModeFirewall.removal(table: new.global.vrrpFirewall.table)
        }
        return [.firewall(script: script, removalOnly: true)]
    }

    /// `lvs_sync_daemon IF inst NAME`: the daemon this router's state calls for, if it is NAME.
    func syncDaemon(_ index: Int, master: Bool) -> IPVSMessage.SyncDaemon? {
        guard let daemon = configuration.global.lvsSyncDaemon, daemon.instance == routers[index].name else { return nil }
        var settings = IPVSMessage.SyncDaemon(
            master: master, interface: daemon.interface,
            syncID: UInt32(clamping: daemon.syncID ?? Int(routers[index].virtualRouterID)))
        settings.maxLength = daemon.maxLength.map { UInt16(clamping: $0) }
        settings.port = daemon.port.map { UInt16(clamping: $0) }
        settings.ttl = daemon.ttl.map { UInt8(clamping: $0) }
        settings.group = daemon.group
        return settings
    }

    /// keepalived's switch: becoming MASTER stops the backup daemon and starts the master one; leaving MASTER the
    /// other way round; a first state starts the backup daemon; stopping stops what runs.
    mutating func syncDaemonActions(_ index: Int, from: VirtualRouter.State, to: VirtualRouter.State) -> [Action] {
        guard let master = syncDaemon(index, master: true), let backup = syncDaemon(index, master: false) else {
            return []
        }
        switch (from == .master, to) {
        case (false, .master): return [.syncDaemon(backup, start: false), .syncDaemon(master, start: true)]
        case (true, .stopped): return [.syncDaemon(master, start: false)]
        case (true, _): return [.syncDaemon(master, start: false), .syncDaemon(backup, start: true)]
        case (false, .stopped): return from == .initialize ? [] : [.syncDaemon(backup, start: false)]
        case (false, _): return from == .initialize ? [.syncDaemon(backup, start: true)] : []
        }
    }

    mutating func addRouter(_ instance: VRRPInstance) {
        routers.append(RouterState(id: RouterID(value: nextRouterID), instance: instance, global: configuration.global))
        nextRouterID += 1
    }

    static func allVirtualAddresses(_ configuration: Configuration) -> Set<IPAddress> {
        Set(configuration.instances.flatMap { ($0.virtualAddresses + $0.excludedVirtualAddresses).map(\.prefix.address) })
    }

    /// Resolves a router's interface and opens (or shares) its sockets. A router whose interface does not exist
    /// yet stays unattached (and in FAULT) until it appears.
    mutating func attach(_ index: Int) -> [Action] {
        let router = routers[index]
        guard let name = router.instance.interface ?? unicastInterface(router) else { return [] }
        guard let link = table.link(named: name) else {
            return [.log(.error, "(\(router.name)) interface \(name) does not exist")]
        }
        routers[index].interfaceIndex = link.index
        var keys = [SocketKey(index: link.index, family: router.family)]
        // An AH router hears its adverts on a protocol 51 socket, and (to count a peer without AH as a
        // mismatch) on the plain one too.
        if router.usesAuthenticationHeader { keys.append(SocketKey(index: link.index, family: .ipv4, authenticated: true)) }
        var actions = [Action]()
        for key in keys {
            if socketRouters[key] == nil {
                let wantsMulticast = routers.contains {
                    !$0.isUnicast && $0.family == router.family && $0.instance.interface == name
                }
                let group = wantsMulticast ? router.destinations.first : nil
                actions.append(.openSocket(key, interface: name, multicastGroup: group?.isMulticast == true ? group : nil))
                socketRouters[key] = []
            }
            if socketRouters[key]?.contains(router.id) != true { socketRouters[key]?.append(router.id) }
        }
        actions += ensureVirtualMAC(index)
        return actions
    }

    /// A router leaves its sockets; a socket no router uses closes.
    mutating func detach(_ id: RouterID) -> [Action] {
        var actions = [Action]()
        for key in socketRouters.keys.sorted(by: { ($0.index, $0.authenticated ? 1 : 0) < ($1.index, $1.authenticated ? 1 : 0) })
        where socketRouters[key]?.contains(id) == true {
            socketRouters[key]?.removeAll { $0 == id }
            if socketRouters[key]?.isEmpty == true {
                socketRouters[key] = nil
                actions.append(.closeSocket(key))
            }
        }
        return actions
    }

    /// A unicast instance without `interface` sends from the interface holding its `unicast_src_ip`.
    func unicastInterface(_ router: RouterState) -> String? {
        guard let source = router.configuredSource else { return nil }
        for (index, list) in table.addresses where list.contains(where: { $0.prefix.address == source }) {
            return table.link(index: index)?.name
        }
        return nil
    }

    mutating func startRouter(_ index: Int, now: MonotonicTime) -> [Action] {
        startRouters([index], now: now)
    }

    /// Starts routers together: their trackers, then every fault once (faults span sync groups), then each router.
    /// One pass over the faults for all of them, not one per router: 500 instances start in one pass, not 500.
    mutating func startRouters(_ indices: [Int], now: MonotonicTime) -> [Action] {
        let starting = indices.filter { !routers[$0].started }
        guard !starting.isEmpty, !stopping else { return [] }
        var actions = [Action]()
        for index in starting {
            routers[index].started = true
            actions += refreshTrackers(index, now: now)
        }
        actions += refreshFaults(now: now)
        for index in starting { actions += run(routers[index].router.start(now: now), index, now: now) }
        return actions
    }

    /// How many instances are in which state, for systemd's STATUS= and logs.
    var statusLine: String {
        var counts = [VirtualRouter.State: Int]()
        // By index: a `for router in routers` copies every RouterState (1.5 KB of references to retain).
        for index in routers.indices { counts[routers[index].router.state, default: 0] += 1 }
        let states = [VirtualRouter.State.master, .backup, .fault, .initialize, .stopped].compactMap { state in
            counts[state].map { "\($0) \(state)" }
        }
        return "\(routers.count) instance\(routers.count == 1 ? "" : "s")"
            + (states.isEmpty ? "" : ": " + states.joined(separator: ", "))
    }

    // MARK: - Interfaces

    /// Links and addresses changed (the netlink monitor). `forwarding`: the IPv6 forwarding setting of the links
    /// in `events`, read by the executor.
    mutating func interfacesChanged(
        _ events: [NetlinkMessage.Event], forwarding: [Int32: Bool], now: MonotonicTime
    ) -> [Action] {
        var actions = [Action]()
        var touched = Set<Int32>()
        var cameUp = [Int32]()
        for event in events {
            if let (link, _) = table.apply(event) {
                actions.append(.log(.info, "Netlink reports \(link.name) \(link.isUp ? "up" : "down")"))
                touched.insert(link.index)
                if link.isUp { cameUp.append(link.index) }
            }
            if case .link(let link, _) = event { touched.insert(link.index) }
            if case .address(let address, let removed) = event {
                touched.insert(address.index)
                if options.addressMonitoring {
                    let name = table.link(index: address.index)?.name ?? "interface \(address.index)"
                    actions.append(
                        .log(.info, "Netlink reports \(address.prefix) \(removed ? "removed from" : "added to") \(name)"))
                }
            }
        }
        for (index, value) in forwarding { table.forwarding[index] = value }
        guard !touched.isEmpty else { return actions }
        primaryAddresses = primaryAddresses.filter { !touched.contains($0.key.index) }
        // An interface deleted or renamed: its routers leave its sockets and wait (in FAULT) for one of their
        // interface's name to appear, which they then attach to (keepalived's dynamic interfaces).
        for index in routers.indices {
            guard let interface = routers[index].interfaceIndex, touched.contains(interface),
                let name = routers[index].instance.interface, table.link(index: interface)?.name != name
            else { continue }
            actions += detach(routers[index].id)
            routers[index].interfaceIndex = nil
            actions.append(.log(.info, "(\(routers[index].name)) interface \(name) is gone; waiting for it"))
        }
        // A VMAC interface that went, or came.
        for index in routers.indices where routers[index].usesVirtualMAC {
            if let vmac = routers[index].vmacIndex, table.link(index: vmac)?.name != routers[index].vmacName {
                actions += virtualMACGone(index)
            } else if routers[index].vmacIndex == nil, let base = routers[index].interfaceIndex,
                let name = routers[index].vmacName, let link = table.link(named: name),
                let vmac = routers[index].instance.useVMAC, isVirtualLink(link, base: base, vmac)
            {
                actions += adoptVirtualMAC(index, link)
            }
        }
        // An interface that appeared: routers waiting for it attach now.
        for index in routers.indices where routers[index].interfaceIndex == nil {
            guard let name = routers[index].instance.interface ?? unicastInterface(routers[index]),
                table.link(named: name) != nil
            else { continue }
            actions += attach(index)
        }
        // A link that came up (or appeared) gets its static entries back.
        for index in cameUp where !stopping { actions += installStatic(link: index, reportMissing: false) }
        // Links and addresses decide faults, and tracked interfaces priorities.
        actions += refreshTrackers(kind: .interface, now: now)
        return actions
    }

    /// The netlink monitor overflowed: the whole picture, dumped again.
    mutating func interfacesReplaced(
        _ dump: [NetlinkMessage.Event], forwarding: [Int32: Bool], now: MonotonicTime
    ) -> [Action] {
        table = InterfaceTable()
        for event in dump { _ = table.apply(event) }
        table.forwarding = forwarding
        primaryAddresses.removeAll()
        var actions = [Action.log(.warning, "netlink monitor overflowed; re-reading interfaces")]
        for index in routers.indices where routers[index].interfaceIndex == nil { actions += attach(index) }
        actions += refreshTrackers(now: now)
        return actions
    }

    /// Why this router cannot run on its own account: interface missing or down, no address to send from, an
    /// address's interface down.
    /// Why router `position` cannot run, from its configuration and links (nil: it can). Field by field, with the
    /// source already looked up: a whole RouterState copied for every router at every refresh was most of a
    /// 500-instance start-up.
    func linkFault(at position: Int, source: IPAddress?) -> String? {
        if let fault = routers[position].instance.configurationFault { return fault }
        guard let index = routers[position].interfaceIndex, let link = table.link(index: index) else {
            return "interface \(routers[position].instance.interface ?? "?") missing"
        }
        // `dont_track_primary`: the interface going down does not fault the instance (its adverts fail until it
        // comes back).
        if !link.isUp && !routers[position].instance.dontTrackPrimary { return "interface \(link.name) down" }
        if source == nil { return "no \(routers[position].family) address on \(link.name) to send from" }
        if routers[position].usesVirtualMAC {
            guard let index = routers[position].vmacIndex, let vmac = table.link(index: index) else {
                return "VMAC interface \(routers[position].vmacName ?? "") missing"
            }
            if !vmac.isUp { return "VMAC interface \(vmac.name) down" }
        }
        // As keepalived: an address, route or rule on another interface tracks that interface, unless `no_track`.
        for (name, what) in routers[position].trackedEntryInterfaces {
            guard let other = table.link(named: name) else { return "interface \(name) of \(what) missing" }
            if !other.isUp { return "interface \(name) of \(what) down" }
        }
        return nil
    }

    func source(for router: RouterState) -> IPAddress? {
        if let configured = router.configuredSource { return configured }
        guard let index = router.interfaceIndex else { return nil }
        let key = SocketKey(index: index, family: router.family)
        if let cached = primaryAddresses[key] { return cached }
        return table.primaryAddress(index: index, family: router.family, excluding: virtualAddresses)
    }

    /// The primary address, remembered until the interface's addresses change: every advert needs it.
    mutating func cachedSource(for index: Int) -> IPAddress? {
        // Field by field: copying the whole RouterState (every advert) retains and releases all it holds.
        if let configured = routers[index].configuredSource { return configured }
        guard let interface = routers[index].interfaceIndex else { return nil }
        let family = routers[index].family
        let key = SocketKey(index: interface, family: family)
        if let cached = primaryAddresses[key] { return cached }
        let address = table.primaryAddress(index: interface, family: family, excluding: virtualAddresses)
        primaryAddresses[key] = address
        return address
    }

    // MARK: - Receiving

    /// A datagram from one of the VRRP sockets. An invalid packet bumps one counter (and, at most every 10 s per
    /// kind, logs a line) and never reaches a state machine.
    mutating func received(_ datagram: Datagram, on key: SocketKey, now: MonotonicTime) -> [Action] {
        let packet: ReceivedPacket
        switch key.family {
        case .ipv4:
            switch ReceivedPacket.parseIPv4(datagram.bytes) {
            case .success(let parsed): packet = parsed
            case .failure:
                malformedPackets += 1
                return []
            }
        case .ipv6:
            packet = ReceivedPacket(
                payload: datagram.bytes, source: datagram.source,
                destination: datagram.destination ?? Advertisement.multicastGroup6, hopLimit: datagram.hopLimit)
        }
        let payload = packet.payload
        guard payload.count >= 2 else {
            malformedPackets += 1
            return []
        }
        let vrid = payload[payload.startIndex + 1]
        // Usually one router per VRID on a socket; unicast routers sharing one are told apart by the peer.
        var found: Int?
        for id in socketRouters[key] ?? [] {
            guard let candidate = index(of: id), routers[candidate].virtualRouterID == vrid else { continue }
            if found == nil {
                found = candidate
            } else if routers[candidate].destinations.contains(packet.source) {
                found = candidate
                break
            }
        }
        guard let index = found else {
            unknownVirtualRouters += 1
            guard options.logDetail, lastUnknownLog.map({ now - $0 > .seconds(10) }) ?? true else { return [] }
            lastUnknownLog = now
            return [.log(.debug, "Unknown VRID(\(vrid)) received on interface(\(table.link(index: key.index)?.name ?? "?")). ignoring...")]
        }
        if packet.hasAuthenticationHeader, let key = routers[index].authenticationKey {
            switch AuthenticationHeader.verify(datagram.bytes, unicast: routers[index].isUnicast, key: key) {
            case .failure(let rejection):
                return reject(rejection, packet, index, now: now)
            case .success(let sequence):
                guard routers[index].authenticationSequence.accept(sequence) else {
                    return reject(.authenticationFailure, packet, index, now: now)
                }
            }
        }
        let advert: Advertisement
        switch Advertisement.decode(packet) {
        case .success(let decoded): advert = decoded
        case .failure(let rejection): return reject(rejection, packet, index, now: now)
        }
        var actions = [Action]()
        switch routers[index].policy.check(advert, packet) {
        case .reject(let rejection):
            return reject(rejection, packet, index, now: now)
        case .accept(let mismatch):
            if mismatch {
                routers[index].counters.addressListMismatches += 1
                let name = routers[index].name
                actions += rateLimitedLog(index, .addressList, now: now) {
                    "(\(name)) advert from \(packet.source) lists \(advert.addresses.map(\.description).joined(separator: " ")), not our addresses; accepted (set vrrp_strict to drop such adverts)"
                }
            }
        }
        routers[index].counters.advertisementsReceived += 1
        if advert.priority == 0 { routers[index].counters.priorityZeroReceived += 1 }
        actions += run(routers[index].router.received(advert, from: packet.source, now: now), index, now: now)
        return actions
    }

    mutating func reject(_ rejection: Rejection, _ packet: ReceivedPacket, _ index: Int, now: MonotonicTime) -> [Action] {
        routers[index].counters.rejections[rejection.ordinal] += 1
        let name = routers[index].name
        return rateLimitedLog(index, rejection, now: now) { "(\(name)) dropped an advert from \(packet.source): \(rejection)" }
    }

    /// At most one line per kind of problem per router every 10 seconds, saying how many were not logged.
    mutating func rateLimitedLog(
        _ index: Int, _ rejection: Rejection, now: MonotonicTime, _ message: () -> String
    ) -> [Action] {
        if let logged = routers[index].rejectionLog[rejection], now - logged.last < .seconds(10) {
            routers[index].rejectionLog[rejection]?.suppressed += 1
            return []
        }
        let suppressed = routers[index].rejectionLog[rejection]?.suppressed ?? 0
        routers[index].rejectionLog[rejection] = (now, 0)
        return [.log(.warning, "\(message())\(suppressed > 0 ? " (and \(suppressed) more like it)" : "")")]
    }

    // MARK: - Timers

    mutating func timerFired(_ timer: Timer, now: MonotonicTime) -> [Action] {
        switch timer {
        case .router(let id, let routerTimer):
            guard let index = index(of: id) else { return [] }
            let allowed = routerTimer != .masterDown || syncAllowsMaster(index)
            // Nothing follows `run` here, so what it defers behind the advert ends up in the same order.
            return run(
                routers[index].router.timerFired(routerTimer, now: now, syncAllowsMaster: allowed)[...], index,
                now: now, advertFirst: true)
        case .scriptRun(let name):
            return runScript(name, now: now)
        case .scriptTimeout(let name):
            guard var state = scripts[name], state.running else { return [] }
            state.timedOut = true
            scripts[name] = state
            return [.killScript(ScriptRun(name: name, generation: state.generation))]
        case .scriptsGrace:
            var actions = [Action]()
            for index in routers.indices where !routers[index].started { actions += startRouter(index, now: now) }
            return actions
        case .extraAnnouncement(let id):
            guard let index = index(of: id) else { return [] }
            return extraAnnouncement(index, now: now)
        case .processDelay(let name):
            return processDelayEnded(name, now: now)
        }
    }

    /// The executor's answer to `proceed`, right after the advert went out.
    mutating func proceed(_ continuation: Continuation) -> [Action] {
        guard let index = index(of: continuation.router) else { return [] }
        return run(continuation.actions[...], index, now: continuation.now, advertFirst: false)
    }

    // MARK: - The state machines' actions

    /// Carries out one router's state machine actions: what it asks becomes the process's actions.
    mutating func run(_ routerActions: [VirtualRouter.Action], _ index: Int, now: MonotonicTime) -> [Action] {
        run(routerActions[...], index, now: now, advertFirst: false)
    }

    /// With `advertFirst`, a transition's advert (a takeover's first, a resignation's priority 0) goes out before
    /// the rest is even worked out (the addresses' kernel entries, the announcements, the state change's logs,
    /// notifications and sync group): the rest becomes a `proceed` behind it. Only for a caller that does nothing
    /// after `run`, so that the order of everything is the same as without.
    mutating func run(
        _ routerActions: ArraySlice<VirtualRouter.Action>, _ index: Int, now: MonotonicTime, advertFirst: Bool
    ) -> [Action] {
        var actions = [Action]()
        let id = routers[index].id
        for position in routerActions.indices {
            switch routerActions[position] {
            case .sendAdvertisement(let priority):
                actions += sendAdvertisement(index, priority: priority)
                let rest = routerActions[(position + 1)...]
                if advertFirst && rest.contains(where: { if case .stateChanged = $0 { true } else { false } }) {
                    actions.append(
                        .proceed(
                            Continuation(
                                router: id, actions: Array(rest), now: now, independent: routers[index].group == nil)))
                    return actions
                }
            case .addVirtualAddresses:
                actions += addVirtualEntries(index)
            case .removeVirtualAddresses:
                actions += removeVirtualEntries(index)
            case .announceAddresses(let rounds):
                if let announcement = announcement(index, rounds: rounds, now: now) {
                    actions.append(.announce(announcement))
                }
            case .arm(let timer, let deadline):
                actions.append(.arm(.router(id, timer), at: deadline))
            case .cancel(let timer):
                actions.append(.cancel(.router(id, timer)))
            case .stateChanged(let from, let to, let reason):
                actions += stateChanged(index, from: from, to: to, reason: reason, now: now)
            case .note(let note):
                actions += self.note(note, index)
            }
        }
        return actions
    }

    mutating func sendAdvertisement(_ index: Int, priority: UInt8) -> [Action] {
        // Field by field, not `let router = routers[index]`: a copy of the whole RouterState per advert retains
        // and releases everything it holds.
        guard let socket = routers[index].sendSocket, let source = cachedSource(for: index) else {
            // A priority-0 advert as the interface goes away has nowhere to go: no error worth a line.
            return priority == 0
                ? [] : [.log(.error, "(\(routers[index].name)) cannot send an advert: no interface or address to send from")]
        }
        let payloads: [[UInt8]]
        if let cached = routers[index].encodedAdverts, cached.priority == priority, cached.source == source {
            payloads = cached.payloads
        } else {
            let advert = routers[index].advertisement(priority: priority)
            payloads = routers[index].destinations.map { advert.encoded(source: source, destination: $0) }
            routers[index].encodedAdverts = (priority, source, payloads)
        }
        let identification = routers[index].nextIdentification()
        let unicast = routers[index].isUnicast
        let ttl = unicast ? UInt8(routers[index].instance.unicastTTL ?? 255) : 255
        // AH: one sequence number per advert, whatever the number of unicast peers (as keepalived).
        let sequence = routers[index].usesAuthenticationHeader ? routers[index].authenticationSequence.next() : 0
        let family = routers[index].family
        let key = routers[index].authenticationKey
        let name = routers[index].name
        var actions = [Action]()
        for (destination, bytes) in zip(routers[index].destinations, payloads) {
            let packet: [UInt8]
            if family == .ipv6 {
                packet = bytes
            } else if let key {
                packet = AuthenticationHeader.packet(
                    advert: bytes, source: source, destination: destination, ttl: ttl, identification: identification,
                    sequence: sequence, unicast: unicast, key: key)
            } else {
                packet = IPv4Packet.advert(
                    bytes, source: source, destination: destination, ttl: ttl, identification: identification)
            }
            actions.append(
                .send(
                    OutgoingAdvert(
                        socket: socket, bytes: packet, source: source, destination: destination, router: name,
                        quietWhenUnreachable: priority == 0)))
        }
        routers[index].counters.advertisementsSent += 1
        if priority == 0 { routers[index].counters.priorityZeroSent += 1 }
        return actions
    }

    static let EEXIST: Int32 = 17
    static let EADDRNOTAVAIL: Int32 = 99
    static let ENODEV: Int32 = 19

    // MARK: - Reporting transitions

    mutating func stateChanged(
        _ index: Int, from: VirtualRouter.State, to: VirtualRouter.State, reason: VirtualRouter.Reason,
        now: MonotonicTime
    ) -> [Action] {
        routers[index].lastTransition = (now, reason)
        routers[index].history.append((now, from, to, reason))
        if routers[index].history.count > RouterState.historyLength { routers[index].history.removeFirst() }
        var actions = [Action]()
        if to == .master {
            routers[index].counters.becameMaster += 1
            routers[index].authenticationSequence.becameMaster()
            if let extra = routers[index].instance.garpExtraInterfaces {
                actions.append(.arm(.extraAnnouncement(routers[index].id), at: now + extra.interval))
            }
        }
        actions += syncDaemonActions(index, from: from, to: to)
        if from == .master {
            routers[index].counters.releasedMaster += 1
            if routers[index].instance.garpExtraInterfaces != nil {
                actions.append(.cancel(.extraAnnouncement(routers[index].id)))
            }
        }
        let name = routers[index].name
        switch to {
        case .stopped: actions.append(.log(.info, "(\(name)) Stopping"))
        default: actions.append(.log(.info, "(\(name)) Entering \(to) STATE\(reason == .startup ? " (init)" : "")"))
        }
        if options.logDetail { actions.append(.log(.debug, "(\(name)) \(from) -> \(to): \(reason)")) }
        let priority = routers[index].router.effectivePriority
        if to == .stopped && routers[index].retiring {
            // Removed by a reload (keepalived): DELETED with `notify_deleted`; otherwise FAULT, unless it was in
            // FAULT already.
            if routers[index].instance.notifyDeletedEnabled {
                actions.append(.notify(.deleted(routers[index].instance, priority: priority)))
            } else if from != .fault {
                actions.append(.notify(.instance(routers[index].instance, .fault, priority: priority)))
            }
        } else {
            actions.append(.notify(.instance(routers[index].instance, to, priority: priority)))
        }
        if let group = routers[index].group { actions += synchronize(group, after: routers[index].id, movedTo: to, now: now) }
        return actions
    }

    mutating func note(_ note: VirtualRouter.Note, _ index: Int) -> [Action] {
        let router = routers[index]
        let name = router.name
        let debug = options.logDetail
        switch note {
        case .backupReceivedPriorityZero:
            return debug ? [.log(.debug, "(\(name)) Backup received priority 0 advertisement")] : []
        case .masterReceivedPriorityZero:
            return debug ? [.log(.debug, "(\(name)) Master received priority 0 message")] : []
        case .lowerPriorityDiscarded(let from, let priority):
            return [.log(.info, "(\(name)) received lower priority (\(priority)) advert from \(from) - discarding")]
        case .masterReceivedLowerPriority(let from, let priority, let ours, let forcing):
            return [
                .notify(.masterReceivedLowerPriority(router.instance, priority: priority)),
                .log(
                    .info,
                    "(\(name)) Received advert from \(from) with lower priority \(priority), ours \(ours)\(forcing ? ", forcing new election" : "")"
                ),
            ]
        case .equalPriorityFromOwnAddress:
            return [.log(.warning, "(\(name)) WARNING - equal priority advert received from remote host with our IP address.")]
        case .bothAddressOwners:
            return [
                .log(
                    .error,
                    "(\(name)) CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority"
                )
            ]
        case .intervalAdopted(let from, let to):
            return debug
                ? [.log(.debug, "(\(name)) advertisement interval updated from \(from.microseconds / 1000)ms to \(to.microseconds / 1000)ms by master")]
                : []
        case .preemptDelayStarted(let until):
            return debug ? [.log(.debug, "(\(name)) start preempt delay (until \(until))")] : []
        case .preemptDelayStopped:
            return debug ? [.log(.debug, "(\(name)) stop preempt delay")] : []
        case .priorityChanged(let from, let to):
            var actions = [Action]()
            if router.instance.notifyPriorityChanges ?? false {
                actions.append(.notify(.priority(router.instance, router.router.state, priority: to)))
            }
            actions.append(.log(.info, "(\(name)) Changing effective priority from \(from) to \(to)"))
            return actions
        }
    }
}

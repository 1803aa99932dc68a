import CLinux
import Checkers
import Glibc
import HealthCheck
import LinuxNet
import Logging
import VRRP
import VigilConfig

/// The VRRP process's executor: it owns the event loop, the sockets, the child processes and the notifier, turns
/// what happens (packets, timers, netlink events, signals, script endings) into events for the `VRRPPlanner`, and
/// carries out the actions the planner returns, in order. Every decision is the planner's; nothing on this loop
/// blocks (the configuration is read, tracked files and the process table are polled, and notifications run on
/// other threads).
public final class VRRPService {
    /// The control socket's name in the runtime directory (`vigil status`, `vigil reload`).
    public static let controlSocketName = "control.sock"

    var planner: VRRPPlanner
    let logger: Logger
    let runtime: RuntimeDirectory
    let loop: EventLoop
    let io: any VRRPIO
    let netlink: NetlinkSocket
    let monitor: NetlinkSocket
    var timers: [VRRPPlanner.Timer: EventLoop.TimerID] = [:]
    /// The deadline of the last Master_Down rehearsed (`rehearse`).
    var lastRehearsal: Int64 = .min / 2
    /// The descriptor of each open VRRP socket, watched by the loop.
    var socketDescriptors: [SocketKey: Int32] = [:]
    var scriptProcesses: [VRRPPlanner.ScriptRun: ChildProcess] = [:]
    /// Script runs prepared once (user lookups can be slow); safety is checked before every run.
    var preparedScripts: [String: (run: Int, arguments: [String], credentials: ChildProcess.Credentials?)] = [:]
    var signals: FileDescriptor?
    var exitCode: Int32 = 0
    var notifier: Notifier
    var launcher: ScriptLauncher
    /// Reads tracked files and the process table off the loop.
    lazy var probes = SerialWorker(capacity: 4)
    /// Reads the configuration again on SIGHUP, off the loop.
    lazy var reloader = SerialWorker(capacity: 4)
    /// Runs nft for the accept-mode table, off the loop, in order.
    lazy var firewallWorker = SerialWorker(capacity: 16)
    /// What is read every second because no event tells when it changes (a tracked file whose directory cannot
    /// be watched; processes where the kernel's process events are not available), and the timer of that read.
    var pollSet: (files: [TrackFile], processes: [TrackProcess]) = ([], [])
    var pollTimer: EventLoop.TimerID?
    /// inotify on the tracked files' directories, and which path is which tracked file.
    var fileEvents: FileEvents?
    var watchedFiles: [String: TrackFile] = [:]
    /// The thread following tracked processes through the kernel's process events.
    var processWatch: ProcessWatch?
    /// The BFD process's sessions, while some router tracks one.
    var bfdFollower: BFDFollower?
    /// A process events socket opened by the supervisor (before it entered `net_namespace`), if it passed one.
    public var inheritedProcessEvents: Int32?
    var processEventsUnavailable = false
    /// IPVS, for `lvs_sync_daemon ... inst` (opened when first needed).
    var ipvs: IPVSBackend?
    /// linkbeat: the interfaces whose carrier is read every second, and the timer of the next reading.
    var linkbeatNames: [String] = []
    var linkbeatTimer: EventLoop.TimerID?
    /// How to read the configuration again (SIGHUP); nil: reload is not possible.
    public var loadConfiguration: (@Sendable () -> ConfigLoader.Result)?
    let systemd = SystemdNotifier()
    var controlSocket: ControlSocket?
    var metricsServer: RequestServer?
    /// `--metrics=ADDRESS:PORT` (the command line wins over `vigil_metrics_listen`).
    public var metricsListen: String?
    /// Beats for the supervisor's relay of systemd's watchdog, from this loop.
    public var heartbeat: Heartbeat?

    /// Actions waiting to run, in order (an action's answer may add more: an address change's outcome).
    private var pending: [VRRPPlanner.Action] = []
    private var performing = false

    public struct Options: Sendable {
        /// `-V` turns it off: the addresses stay when Vigil stops.
        public var releaseOnStop = true
        /// `-X`.
        public var releaseEveryAddress = false
        /// `-a`.
        public var addressMonitoring = false
        public var logDetail = false

        public init() {}
    }

    public convenience init(
        configuration: Configuration, logger: Logger, runtime: RuntimeDirectory, options: Options = Options()
    ) throws(SystemError) {
        try self.init(
            configuration: configuration, logger: logger, runtime: runtime, options: options, io: try LinuxVRRPIO())
    }

    init(
        configuration: Configuration, logger: Logger, runtime: RuntimeDirectory, options: Options, io: any VRRPIO
    ) throws(SystemError) {
        var plannerOptions = VRRPPlanner.Options()
        plannerOptions.releaseOnStop = options.releaseOnStop
        plannerOptions.releaseEveryAddress = options.releaseEveryAddress
        plannerOptions.addressMonitoring = options.addressMonitoring
        plannerOptions.logDetail = options.logDetail
        planner = VRRPPlanner(configuration: configuration, options: plannerOptions)
        self.logger = logger
        self.runtime = runtime
        self.io = io
        loop = try EventLoop()
        // Adverts of many virtual routers due within 0.5 ms of each other go out in one wake-up (a wake-up of an
        // idle CPU costs more than the advert; 0.5 ms early is nothing to a receiver, whose smallest
        // Master_Down_Interval is three intervals of at least 10 ms).
        loop.timerSlack = 500_000
        netlink = try NetlinkSocket()
        monitor = try NetlinkSocket(
            groups: NetlinkSocket.linkGroup | NetlinkSocket.ipv4AddressGroup | NetlinkSocket.ipv6AddressGroup,
            nonBlocking: true)
        notifier = Notifier(global: configuration.global, logger: logger)
        launcher = ScriptLauncher(global: configuration.global)
    }

    var now: MonotonicTime { MonotonicTime(nanoseconds: loop.now) }
    /// Announcements waiting for the timers due with them (`announce`).
    var heldAnnouncements: [VRRPPlanner.Announcement] = []

    // MARK: - Start and stop

    /// Sets everything up and runs until SIGTERM or SIGINT; returns the exit code.
    public func run() throws(SystemError) -> Int32 {
        try installSignals()
        loop.rehearse = { [unowned self] id, deadline in rehearse(id, deadline: deadline) }
        let interfaces = try netlink.dump(links: true) + netlink.dump(links: false)
        try loop.add(monitor.descriptor.rawValue, label: "netlink monitor") { [unowned self] in monitorReadable() }
        notifier.startFIFOScripts()
        perform(planner.start(interfaces: interfaces, forwarding: Self.forwarding(interfaces), now: now))
        // Once the routers run, start-up's code (reading the configuration) need not stay resident.
        // Reading /proc/self/smaps takes milliseconds: off the loop.
        loop.schedule(at: loop.now + 2_000_000_000, label: "startup pages") { [unowned self] in
            reloader.submit { StartupPages.release() }
        }
        do {
            controlSocket = try ControlSocket(
                path: runtime.file(Self.controlSocketName), loop: loop, readers: runtime.readers,
                // The control group reads; only root reloads or changes anything.
                readerRequests: ["status"]
            ) { [unowned self] request in control(request) }
        } catch {
            logger.error("no control socket (vigil status will not work): \(error)")
        }
        if let endpoint = metricsListen ?? planner.configuration.global.vigil.metricsListen {
            metricsServer = MetricsPage.serve(at: endpoint, loop: loop, logger: logger) { [unowned self] request in
                httpAnswer(request)
            }
        }
        applyScheduling()
        heartbeat?.start(on: loop)
        do {
            try loop.run()
        } catch {
            logger.critical("the event loop failed: \(error)")
            return 1
        }
        #if DEBUG
            let longest = loop.longestCallback
            logger.info("longest callback on the VRRP loop: \(longest.nanoseconds / 1000) µs (\(longest.label))")
        #endif
        return exitCode
    }

    /// keepalived's `vrrp_priority`, `vrrp_no_swap` and `vrrp_rt_priority` (with `vrrp_rlimit_rttime`, 10 ms by
    /// default, as keepalived's), for the loop's thread. Without `vrrp_rt_priority` Vigil still runs the loop at
    /// the lowest real-time priority, with no time limit (the kernel keeps 5% of every second for others), unless
    /// `vigil_no_realtime`: a busy machine must not delay adverts.
    func applyScheduling() {
        let settings = planner.configuration.global.vrrpScheduling
        if !settings.apply(keywordPrefix: "vrrp", logger: logger) && planner.configuration.global.vigil.realtime {
            do {
                try Scheduling.setRealtime(priority: 1, limitMicroseconds: settings.realtimeLimitMicroseconds)
            } catch {
                logger.info("running the VRRP loop at normal priority (real-time scheduling refused: \(error))")
            }
        }
    }

    // MARK: - Running the planner's actions

    /// Runs actions in order. The answer to an action (an address change's outcome) runs right after it; events
    /// that arrive meanwhile (a planner call from an action's handler) queue behind.
    func perform(_ actions: [VRRPPlanner.Action]) {
        pending += actions
        guard !performing else { return }
        performing = true
        defer { performing = false }
        var next = 0
        while next < pending.count {
            let action = pending[next]
            next += 1
            let answer = execute(action)
            if !answer.isEmpty { pending.insert(contentsOf: answer, at: next) }
            if next > 256 {
                pending.removeFirst(next)
                next = 0
            }
        }
        // A small queue keeps its storage for the next batch; start-up's (thousands of actions at 500 instances)
        // gives it back.
        pending.removeAll(keepingCapacity: pending.capacity <= 256)
    }

    /// Carries out one action; returns the planner's answer to its outcome, if it has one.
    private func execute(_ action: VRRPPlanner.Action) -> [VRRPPlanner.Action] {
        switch action {
        case .openSocket(let key, let interface, let group):
            do {
                let fd = try io.openSocket(key, interface: interface, multicastGroup: group)
                // A VMAC's socket only sends: nothing to watch.
                guard !key.sendOnly else { break }
                socketDescriptors[key] = fd
                try loop.add(fd, label: "VRRP socket") { [unowned self] in socketReadable(key) }
            } catch {
                logger.error("cannot open the VRRP socket on \(interface): \(error)")
            }
        case .closeSocket(let key):
            if let fd = socketDescriptors.removeValue(forKey: key) { loop.remove(fd) }
            io.closeSocket(key)
        case .send(let advert):
            do {
                try io.send(advert)
            } catch {
                if !(advert.quietWhenUnreachable && error.errno == ENETUNREACH) {
                    logger.error("(\(advert.router)) cannot send advert to \(advert.destination): \(error)")
                }
            }
        case .change(let owner, let entry, let add):
            let outcome = io.change(entry, add: add)
            return planner.changed(owner, entry, add: add, errno: outcome.errno, message: outcome.message)
        case .announce(let announcement):
            announce(announcement)
        case .firewall(let script, let removalOnly):
            runFirewall(script, removalOnly: removalOnly)
        case .syncDaemon(let daemon, let start):
            if ipvs == nil {
                switch IPVSBackend.open() {
                case .success(let backend): ipvs = backend
                case .failure(let error):
                    logger.error("lvs_sync_daemon: \(error)")
                    return []
                }
            }
            do {
                try ipvs?.syncDaemon(daemon, start: start)
                logger.info("IPVS \(daemon.master ? "master" : "backup") sync daemon \(start ? "started" : "stopped") on \(daemon.interface) (sync id \(daemon.syncID))")
            } catch {
                logger.error("\(error)")
            }
        case .createVirtualLink(let request):
            let outcome = io.createVirtualLink(request)
            return planner.virtualLinkChanged(
                name: request.name, created: true, errno: outcome.errno, message: outcome.message, now: now)
        case .deleteVirtualLink(let index, let name):
            let outcome = io.deleteVirtualLink(index: index, name: name)
            return planner.virtualLinkChanged(
                name: name, created: false, errno: outcome.errno, message: outcome.message, now: now)
        case .arm(let timer, let deadline):
            if let existing = timers[timer] { loop.cancel(existing) }
            timers[timer] = loop.schedule(at: deadline.nanoseconds, lead: Self.lead(timer), label: debugLabel(timer)) {
                [unowned self] in
                timers[timer] = nil
                // A timer run early, in another's wake-up (the loop's slack), happens at its deadline for the
                // planner: the next deadline follows from this one, not from the earlier moment.
                perform(planner.timerFired(timer, now: max(now, deadline)))
            }
        case .cancel(let timer):
            if let existing = timers.removeValue(forKey: timer) { loop.cancel(existing) }
        case .runScript(let run, let command, let user, let group):
            startScript(run, command, user: user, group: group)
        case .killScript(let run):
            scriptProcesses[run]?.killGroup()
        case .poll(let files, let processes):
            follow(files: files, processes: processes)
        case .followBFD(let follow):
            bfdFollower?.stop()
            bfdFollower = nil
            if follow {
                bfdFollower = BFDFollower(
                    path: runtime.file(BFDService.eventSocketName), role: "vrrp", loop: loop, logger: logger
                ) { [unowned self] events in perform(planner.bfdChanged(events, now: now)) }
            }
        case .pollLinks(let names):
            linkbeatNames = names
            if let linkbeatTimer { loop.cancel(linkbeatTimer) }
            linkbeatTimer = nil
            if !names.isEmpty { readCarriers() }
        case .notify(let notification):
            switch notification {
            case .instance(let instance, let state, let priority):
                notifier.instance(instance, state: state, priority: priority)
            case .deleted(let instance, let priority):
                notifier.deleted(instance, priority: priority)
            case .group(let group, let state):
                notifier.group(group, state: state)
            case .priority(let instance, let state, let priority):
                notifier.priority(instance, state: state, priority: priority)
            case .masterReceivedLowerPriority(let instance, let priority):
                notifier.masterReceivedLowerPriority(instance, priority: priority)
            }
        case .replaceNotifier(let global):
            let previous = notifier
            notifier = Notifier(global: global, logger: logger)
            launcher = ScriptLauncher(global: global)
            preparedScripts.removeAll()
            // Queued notifications finish first; then the old notifier's threads end.
            reloader.submit { previous.close(timeout: .seconds(10)) }
        case .log(let level, let message):
            logger.log(level: level, "\(message)")
        case .proceed(let continuation):
            // Many routers taking over at once (a start, a failed peer): every advert goes out before any of
            // their addresses and announcements.
            guard continuation.independent, loop.isDispatchingTimers else { return planner.proceed(continuation) }
            loop.afterDueTimers { [unowned self] in perform(planner.proceed(continuation)) }
        case .systemd(let text):
            if text.hasPrefix("RELOADING=1") {
                systemd.notify("RELOADING=1\nMONOTONIC_USEC=\(loop.now / 1000)")
            } else {
                systemd.notify(text)
            }
        case .loadConfiguration:
            reload()
        case .exit:
            for process in scriptProcesses.values { process.killGroup() }
            processWatch?.close()
            bfdFollower?.stop()
            // The accept-mode table goes before the process does.
            firewallWorker.drain(timeout: .seconds(12))
            // STOP notifications go out before the process ends (keepalived gives notify_stop a second).
            notifier.drain(timeout: .seconds(5))
            controlSocket = nil
            metricsServer = nil
            loop.stop()
        }
        return []
    }

    /// Gratuitous ARPs and unsolicited neighbour advertisements, each at the time the planner paced it to.
    ///
    /// Unpaced ones worked out while timers run (takeovers) wait until every timer due with theirs and what those
    /// set in motion has run: when many routers take over at once, every address is in the kernel before the
    /// first burst of announcements (each router's still after its own addresses). Paced ones keep their times.
    func announce(_ announcement: VRRPPlanner.Announcement) {
        if loop.isDispatchingTimers, announcement.frames.allSatisfy({ $0.at.nanoseconds <= loop.now }) {
            if heldAnnouncements.isEmpty {
                loop.afterDueTimers { [unowned self] in
                    let held = heldAnnouncements
                    heldAnnouncements.removeAll()
                    for announcement in held { send(announcement) }
                }
            }
            heldAnnouncements.append(announcement)
            return
        }
        send(announcement)
    }

    private func send(_ announcement: VRRPPlanner.Announcement) {
        if let first = announcement.frames.first, planner.options.logDetail {
            let kind = first.family == .ipv4 ? "gratuitous ARPs" : "Unsolicited Neighbour Adverts"
            logger.debug("(\(announcement.router)) Sending/queueing \(kind) on interface \(first.interfaceIndex)")
        }
        for frame in announcement.frames {
            if frame.at.nanoseconds <= loop.now {
                sendFrame(frame, announcement.router)
            } else {
                loop.schedule(at: frame.at.nanoseconds, label: "paced announcement") { [unowned self] in
                    sendFrame(frame, announcement.router)
                }
            }
        }
    }

    func sendFrame(_ frame: VRRPPlanner.Announcement.Frame, _ router: String) {
        do {
            try io.sendFrame(frame.bytes, interfaceIndex: frame.interfaceIndex)
        } catch {
            logger.error("(\(router)) cannot send an announcement: \(error)")
        }
    }

    // MARK: - Turning I/O into events

    func socketReadable(_ key: SocketKey) {
        // An advert happened when it arrived (the kernel's stamp), not when the loop got round to it.
        io.receive(key) { datagram in
            perform(planner.received(datagram, on: key, now: datagram.arrival.map(MonotonicTime.init(nanoseconds:)) ?? now))
        }
    }

    /// Everything the monitor has waiting goes to the planner as one batch: the kernel sends one message per
    /// address, and 500 addresses added at start-up must cost one pass over the routers, not 500.
    func monitorReadable() {
        var batch = [NetlinkMessage.Event]()
        while batch.count < 4096 {
            let events: [NetlinkMessage.Event]
            do {
                events = try monitor.receive()
            } catch {
                if error.errno == ENOBUFS {
                    // Events were lost: read the whole picture again (it supersedes what was read so far).
                    batch.removeAll()
                    let dump = ((try? netlink.dump(links: true)) ?? []) + ((try? netlink.dump(links: false)) ?? [])
                    perform(planner.interfacesReplaced(dump, forwarding: Self.forwarding(dump), now: now))
                    continue
                }
                break
            }
            if events.isEmpty { break }
            batch += events
        }
        guard !batch.isEmpty else { return }
        perform(planner.interfacesChanged(batch, forwarding: Self.forwarding(batch), now: now))
        // More may be waiting beyond the batch's bound: the loop calls again while the socket is readable.
    }

    /// The IPv6 forwarding setting (the NA Router flag) of each link in `events`, read when a link shows up or
    /// changes, not for every frame.
    static func forwarding(_ events: [NetlinkMessage.Event]) -> [Int32: Bool] {
        var result = [Int32: Bool]()
        for event in events {
            guard case .link(let link, let removed) = event, !removed else { continue }
            result[link.index] = SmallFile.firstInteger("/proc/sys/net/ipv6/conf/\(link.name)/forwarding") ?? 0 != 0
        }
        return result
    }

    // MARK: - Scripts

    func startScript(_ run: VRRPPlanner.ScriptRun, _ command: ScriptCommand, user: String?, group: String?) {
        do {
            if preparedScripts[run.name]?.run != run.generation {
                let prepared = try launcher.prepare(command, user: user, group: group)
                preparedScripts[run.name] = (run.generation, prepared.arguments, prepared.credentials)
            }
            let prepared = preparedScripts[run.name]!
            try launcher.checkSafety(prepared.arguments[0])
            let process = try ChildProcess(prepared.arguments, credentials: prepared.credentials)
            scriptProcesses[run] = process
            try loop.add(process.pidfd.rawValue, label: "script") { [unowned self] in scriptEnded(run) }
        } catch {
            scriptProcesses[run] = nil
            perform(planner.scriptEnded(run, .couldNotRun("\(error)"), now: now))
        }
    }

    func scriptEnded(_ run: VRRPPlanner.ScriptRun) {
        guard let process = scriptProcesses[run], let ending = process.reap() else { return }
        loop.remove(process.pidfd.rawValue)
        scriptProcesses[run] = nil
        let result: VRRPPlanner.ScriptEnding
        switch ending {
        case .exited(let code): result = .exited(code)
        case .signaled(let signal): result = .signaled(signal)
        }
        perform(planner.scriptEnded(run, result, now: now))
    }

    // MARK: - Tracked files and processes

    /// Follows tracked files through inotify and tracked processes through the kernel's process events (as
    /// keepalived does); what cannot be followed that way is read every second.
    func follow(files: [TrackFile], processes: [TrackProcess]) {
        var polledFiles = [TrackFile]()
        watchedFiles.removeAll()
        if !files.isEmpty && fileEvents == nil {
            do {
                let events = try FileEvents()
                try loop.add(events.descriptor.rawValue, label: "tracked files") { [unowned self] in filesChanged() }
                fileEvents = events
            } catch {
                logger.warning("inotify is not available (\(error)); tracked files are read every second")
            }
        }
        for file in files {
            guard let path = file.path, let events = fileEvents else {
                polledFiles.append(file)
                continue
            }
            let resolved = Self.resolvedPath(path)
            do {
                try events.watch(directoryOf: resolved)
                watchedFiles[resolved] = file
            } catch {
                logger.warning("cannot watch the directory of \(resolved) for track_file \(file.name) (\(error)); it is read every second")
                polledFiles.append(file)
            }
        }
        if !watchedFiles.isEmpty { readTrackedFiles(Array(watchedFiles.values)) }
        var polledProcesses = [TrackProcess]()
        if processes.isEmpty {
            processWatch?.close()
            processWatch = nil
        } else if let processWatch {
            processWatch.update(processes)
        } else if let events = openProcessEvents() {
            let service = LoopBound(self, loop: loop)
            let loop = self.loop
            processWatch = ProcessWatch(events: events, trackers: processes) { counts, causes in
                loop.post {
                    let service = service.value
                    guard !service.planner.stopping else { return }
                    service.perform(
                        service.planner.tracked(files: [:], processes: counts, causes: causes, now: service.now))
                }
            }
        } else {
            polledProcesses = processes
        }
        pollSet = (polledFiles, polledProcesses)
        if let pollTimer { loop.cancel(pollTimer) }
        pollTimer = nil
        if !polledFiles.isEmpty || !polledProcesses.isEmpty { poll() }
    }

    /// linkbeat: each interface's carrier and administrative state from sysfs (what ETHTOOL_GLINK and SIOCGIFFLAGS
    /// tell keepalived), read on the probe thread, every second.
    func readCarriers() {
        let names = linkbeatNames
        let service = LoopBound(self, loop: loop)
        let loop = self.loop
        probes.submit {
            var states = [String: Bool]()
            for name in names {
                let flags = SmallFile.word("/sys/class/net/\(name)/flags").flatMap { UInt32($0.dropFirst(2), radix: 16) }
                let carrier = SmallFile.word("/sys/class/net/\(name)/carrier")
                guard let flags else { continue }
                states[name] = flags & 1 != 0 && carrier == "1"
            }
            let read = states
            loop.post {
                let service = service.value
                guard !service.planner.stopping, service.linkbeatNames == names else { return }
                service.perform(service.planner.linkbeatRead(read, now: service.now))
                service.linkbeatTimer = loop.schedule(at: loop.now + 1_000_000_000, label: "linkbeat") {
                    service.readCarriers()
                }
            }
        }
    }

    /// The kernel's process events: the supervisor's socket, else one of our own; nil (said once) where they are
    /// not available, as in a network namespace other than the host's first one.
    func openProcessEvents() -> ProcessEvents? {
        if let fd = inheritedProcessEvents {
            inheritedProcessEvents = nil
            return ProcessEvents(inherited: fd)
        }
        guard !processEventsUnavailable else { return nil }
        do {
            return try ProcessEvents()
        } catch {
            processEventsUnavailable = true
            logger.warning(
                "the kernel's process events are not available here (\(error): they reach only the host's first network namespace; start Vigil there with net_namespace); tracked processes are read from /proc every second"
            )
            return nil
        }
    }

    /// The file behind a path (keepalived watches the real one); a missing file's directory resolved.
    static func resolvedPath(_ path: String) -> String {
        if let real = realpath(path, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let directory = parts.dropLast().joined(separator: "/")
        guard let real = realpath(directory.isEmpty ? "." : directory, nil) else { return path }
        defer { free(real) }
        return String(cString: real) + "/" + (parts.last.map(String.init) ?? "")
    }

    /// inotify said some files changed: read those that are tracked.
    func filesChanged() {
        guard let events = fileEvents else { return }
        let changed = events.read().compactMap { watchedFiles[$0] }
        if !changed.isEmpty { readTrackedFiles(changed) }
    }

    /// Reads tracked files on the probe thread and hands their values to the planner.
    func readTrackedFiles(_ files: [TrackFile]) {
        let wanted = files.map { ($0.name, $0.path ?? "") }
        let service = LoopBound(self, loop: loop)
        let loop = self.loop
        probes.submit {
            var values = [String: Int?]()
            for (name, path) in wanted { values[name] = SmallFile.trackedValue(path) }
            let read = values
            loop.post {
                let service = service.value
                guard !service.planner.stopping else { return }
                service.perform(service.planner.tracked(files: read, processes: [:], now: service.now))
            }
        }
    }

    /// Reads the tracked files and the process table on the probe thread (a slow file system or a long process
    /// table must not hold the loop up) and hands the values to the planner; again a second later.
    func poll() {
        let files = pollSet.files.map { ($0.name, $0.path ?? "") }
        let processes = pollSet.processes
        let service = LoopBound(self, loop: loop)
        let loop = self.loop
        probes.submit {
            var values = [String: Int?]()
            for (name, path) in files { values[name] = SmallFile.trackedValue(path) }
            var counts = [String: Int]()
            if !processes.isEmpty {
                let table = ProcessTable.read()
                for tracked in processes { counts[tracked.name] = table.count(matching: tracked) }
            }
            let read = (values, counts)
            loop.post {
                let service = service.value
                guard !service.planner.stopping else { return }
                service.perform(service.planner.tracked(files: read.0, processes: read.1, now: service.now))
                service.pollTimer = loop.schedule(at: loop.now + 1_000_000_000, label: "poll") { service.poll() }
            }
        }
    }

    // MARK: - Accept mode

    /// Runs an nft script on the firewall thread; a failure is logged from the loop.
    func runFirewall(_ script: String, removalOnly: Bool) {
        let nft = NFTProgram(directory: runtime.path, name: "vrrp-firewall")
        let logger = self.logger
        firewallWorker.submit {
            guard NFTProgram.locate() != nil else {
                if !removalOnly {
                    logger.error(
                        "no_accept needs nft (Debian package nftables), which is not installed: traffic to the virtual addresses is accepted"
                    )
                }
                return
            }
            do {
                try nft.run(script)
            } catch {
                logger.error("accept mode: \(error)")
            }
        }
    }

    // MARK: - Reload

    /// Reads the file again off the loop; the result comes back to the planner here.
    func reload() {
        guard let loadConfiguration else {
            perform(planner.reloadUnavailable())
            return
        }
        let service = LoopBound(self, loop: loop)
        let loop = self.loop
        reloader.submit {
            let result = loadConfiguration()
            loop.post {
                let service = service.value
                service.perform(service.planner.configurationLoaded(result, now: service.now))
                // The old configuration and the reading's garbage are freed now: give the pages back, off the loop.
                service.reloader.submit { StartupPages.release() }
            }
        }
    }

    // MARK: - Signals, dumps and requests

    func installSignals() throws(SystemError) {
        signals = try Signals.watch(on: loop) { [unowned self] signal in
            switch signal {
            case SIGTERM, SIGINT:
                perform(planner.stop(now: now))
            case SIGUSR2:
                write("vigil.stats", planner.statsDump, what: "VRRP stats")
            case SIGUSR1:
                write("vigil.data", planner.dataDump(now: now), what: "VRRP data")
            case Signals.json:
                write("vigil.json", statusReport().json, what: "VRRP as json")
            case Signals.statsClear:
                planner.clearStatistics()
                logger.info("Cleared VRRP statistics on signal")
            case SIGHUP:
                perform(planner.reloadRequested())
            default:
                break
            }
        }
    }

    func write(_ name: String, _ contents: String, what: String) {
        do {
            try runtime.write(name, contents: contents)
            logger.info("Printing \(what) for process(\(getpid())) on signal")
        } catch {
            logger.error("cannot write \(name): \(error)")
        }
    }

    func statusReport() -> StatusReport {
        var wallClock = timespec()
        clock_gettime(CLOCK_REALTIME, &wallClock)
        return planner.statusReport(now: now, wallClock: Int(wallClock.tv_sec), pid: getpid())
    }

    /// Answers a control-socket request.
    func control(_ request: String) -> String {
        switch request.split(separator: " ").map(String.init) {
        case ["status"]: return statusReport().text
        case ["status", "json"]: return statusReport().json
        case ["reload"]:
            perform(planner.reloadRequested())
            return "reloading\n"
        default: return "error: unknown request '\(request.prefix(64))'; try status, status json or reload\n"
        }
    }

    /// Answers one HTTP request: GET /metrics (or /), anything else 404.
    func httpAnswer(_ request: [UInt8]) -> String {
        MetricsPage.httpAnswer(request) {
            // The checker's metrics, as it last published them (at most a second old).
            planner.metricsPage(droppedNotifications: notifier.droppedCount).text
                + (SmallFile.text(
                    runtime.file(CheckerService.metricsFileName), limit: 1 << 20, followSymlinks: false) ?? "")
        }
    }
}

extension VRRPService {
    /// How early the loop wakes for a timer and polls until its deadline (`EventLoop.schedule(at:lead:)`): for
    /// Master_Down only, which fires only when a master fell silent, so that the takeover's first advert leaves
    /// at the deadline rather than a sleeping CPU's wake-up (tens to hundreds of microseconds) later.
    static func lead(_ timer: VRRPPlanner.Timer) -> Int64 {
        if case .router(_, .masterDown) = timer { return masterDownLead }
        return 0
    }

    static let masterDownLead: Int64 = 300_000

    /// The loop woke early for Master_Down: the takeover it may bring is worked out once on a copy of the planner
    /// and thrown away, so that its code (start-up's pages were given back, and a backup never ran it) and data
    /// are in memory when the deadline comes; the real one then runs only what is already there.
    /// One rehearsal warms the code for every router whose Master_Down falls with it: those woken within the
    /// same lead skip theirs (each copy of a planner with many routers costs a copy of their states).
    func rehearse(_ id: EventLoop.TimerID, deadline: Int64) {
        guard deadline - lastRehearsal > Self.masterDownLead,
            let timer = timers.first(where: { $0.value == id })?.key
        else { return }
        lastRehearsal = deadline
        var copy = planner
        _ = copy.timerFired(timer, now: MonotonicTime(nanoseconds: deadline))
    }
}

import CLinux
import Checkers
import Glibc
import HealthCheck
import LinuxNet
import Logging
import VRRP
import VigilConfig

/// Starts the probe a `CheckerPlanner.ProbeRequest` describes, on the loop. `LinuxProbes` opens real sockets and
/// runs real scripts; tests use a fake that answers as told.
protocol ProbeStarter: AnyObject {
    func start(
        _ request: CheckerPlanner.ProbeRequest, loop: EventLoop, completion: @escaping (CheckResult) -> Void
    ) -> Probe?
    /// The `SSL` block changed (or was read at start).
    func setTLS(_ ssl: SSLSettings?)
    /// `global_defs` changed: scripts run with the new script user and security.
    func setLauncher(_ launcher: ScriptLauncher)
}

final class LinuxProbes: ProbeStarter {
    var tls: TLSContext?
    var launcher: ScriptLauncher
    /// Each `regex` compiled once, as keepalived shares one compiled pattern between URLs.
    var patterns: [HTTPProbe.RegexCheck: Result<BodyPattern, BodyPattern.CompileError>] = [:]

    func compiled(_ regex: HTTPProbe.RegexCheck) -> Result<BodyPattern, BodyPattern.CompileError> {
        var key = regex
        key.noMatch = false
        key.minimumOffset = 0
        key.maximumOffset = nil
        if let known = patterns[key] { return known }
        let result = BodyPattern.compile(regex.pattern, options: regex.options)
        patterns[key] = result
        return result
    }

    init(ssl: SSLSettings?, launcher: ScriptLauncher) {
        self.launcher = launcher
        setTLS(ssl)
    }

    func setTLS(_ ssl: SSLSettings?) {
        tls = TLSContext(
            certificateAuthority: ssl?.certificateAuthority, certificate: ssl?.certificate, key: ssl?.key,
            password: ssl?.password)
    }

    func setLauncher(_ launcher: ScriptLauncher) { self.launcher = launcher }

    func start(
        _ request: CheckerPlanner.ProbeRequest, loop: EventLoop, completion: @escaping (CheckResult) -> Void
    ) -> Probe? {
        switch request {
        case .tcp(let target):
            return TCPProbe.start(target, loop: loop, completion: completion)
        case .http(let target, let request, let secure, let serverName):
            if secure && tls == nil {
                completion(
                    .failed(
                        "SSL_GET has no TLS context: libssl (libssl3) cannot be loaded, or the SSL block's certificate, key or password cannot be used"
                    ))
                return nil
            }
            var pattern: BodyPattern?
            if let regex = request.regex {
                switch compiled(regex) {
                case .success(let compiled): pattern = compiled
                case .failure(let error):
                    completion(.failed("regex '\(regex.pattern)' cannot be used: \(error)"))
                    return nil
                }
            }
            return HTTPProbe.start(
                target, request: request, pattern: pattern, tls: secure ? tls : nil, serverName: serverName,
                loop: loop, completion: completion)
        case .smtp(let target, let helo):
            return SMTPProbe.start(target, heloName: helo, loop: loop, completion: completion)
        case .udp(let target, let payload, let reply, let minimum, let maximum):
            return DatagramProbe.start(
                target, payload: payload,
                expectation: .udp(requireReply: reply, minimumLength: minimum, maximumLength: maximum), loop: loop,
                completion: completion)
        case .dns(let target, let query, let id):
            return DatagramProbe.start(target, payload: query, expectation: .dns(id: id), loop: loop, completion: completion)
        case .ping(let target, let identifier, let sequence):
            return PingProbe.start(target, identifier: identifier, sequence: sequence, loop: loop, completion: completion)
        case .misc(let command, let user, let group, let dynamic, let timeout):
            do {
                let (arguments, credentials) = try launcher.prepare(command, user: user, group: group)
                return ScriptProbe.start(
                    arguments: arguments, credentials: credentials, dynamic: dynamic, timeout: timeout, loop: loop,
                    completion: completion)
            } catch {
                completion(.failed("MISC_CHECK \(command): \(error)"))
                return nil
            }
        }
    }
}

/// The load balancer backend, touched only by the balancer thread: `nft` runs and IPVS waits for its
/// acknowledgements there, never on the checker's loop.
final class BalancerThread: @unchecked Sendable {
    private let backend: any LoadBalancerBackend
    let worker = SerialWorker(capacity: 64)
    let name: String

    init(_ backend: any LoadBalancerBackend) {
        self.backend = backend
        name = backend.name
    }

    func apply(
        _ state: LoadBalancerState, _ changes: [LoadBalancerState.Change],
        then done: @escaping @Sendable (String?) -> Void
    ) {
        worker.submit { [self] in
            do {
                try backend.apply(state, changes: changes)
                done(nil)
            } catch {
                done("\(error)")
            }
        }
    }

    func removeAll() { worker.submit { [self] in backend.removeAll() } }

    func configure(
        _ settings: LoadBalancerSettings, previous: LoadBalancerSettings?, then done: @escaping @Sendable (String?) -> Void
    ) {
        worker.submit { [self] in
            do {
                try backend.configure(settings, previous: previous)
                done(nil)
            } catch {
                done("\(error)")
            }
        }
    }
}

/// The checker process's executor: it owns the event loop, the probes, the load balancer's thread and the notifier,
/// turns what happens (probe results, timers, file readings, signals) into events for the `CheckerPlanner`, and
/// carries out the actions it returns. Every decision is the planner's; nothing on this loop blocks.
public final class CheckerService {
    /// The control socket's name in the runtime directory.
    public static let controlSocketName = "checker.sock"
    public static let metricsFileName = "checker.prom"

    var planner: CheckerPlanner
    let logger: Logger
    let runtime: RuntimeDirectory
    let loop: EventLoop
    let probeStarter: any ProbeStarter
    let balancer: BalancerThread
    var probes: [CheckerPlanner.CheckerID: Probe] = [:]
    var timers: [CheckerPlanner.Timer: EventLoop.TimerID] = [:]
    var notifier: Notifier
    var signals: FileDescriptor?
    let systemd = SystemdNotifier()
    var controlSocket: ControlSocket?
    var metricsServer: RequestServer?
    /// Reads FILE_CHECK files, the configuration, and writes the metrics file, off the loop.
    lazy var files = SerialWorker(capacity: 16)
    var filePaths: [String] = []
    var fileTimer: EventLoop.TimerID?
    /// The host's address changes, for `ha_suspend` (opened only when a virtual server has it).
    var addressMonitor: NetlinkSocket?
    /// inotify on the FILE_CHECK files' directories, and the files it follows (resolved path: path as written).
    var fileEvents: FileEvents?
    /// The BFD process's sessions, while a BFD_CHECK uses one.
    var bfdFollower: BFDFollower?
    var watchedFiles: [String: String] = [:]
    /// `--metrics` or `vigil_metrics_listen`, served here only when no VRRP process runs (`servesMetrics`).
    public var metricsListen: String?
    public var servesMetrics = false
    /// Beats for the supervisor's relay of systemd's watchdog, from this loop.
    public var heartbeat: Heartbeat?
    /// How to read the configuration again (SIGHUP).
    public var loadConfiguration: (@Sendable () -> ConfigLoader.Result)?

    private var pending: [CheckerPlanner.Action] = []
    private var performing = false

    public struct Options: Sendable {
        /// `-I` turns it off: the services stay in the kernel after Vigil stops.
        public var releaseOnStop = true
        public init() {}
    }

    public convenience init(
        configuration: Configuration, logger: Logger, runtime: RuntimeDirectory, options: Options = Options()
    ) throws(SystemError) {
        let backend = Self.chooseBackend(configuration.global.vigil.loadBalancerBackend, runtime: runtime, logger: logger)
        try self.init(
            configuration: configuration, logger: logger, runtime: runtime, options: options, backend: backend,
            probes: LinuxProbes(ssl: configuration.ssl, launcher: ScriptLauncher(global: configuration.global)))
    }

    init(
        configuration: Configuration, logger: Logger, runtime: RuntimeDirectory, options: Options,
        backend: any LoadBalancerBackend, probes: any ProbeStarter
    ) throws(SystemError) {
        var plannerOptions = CheckerPlanner.Options()
        plannerOptions.releaseOnStop = options.releaseOnStop
        plannerOptions.pingIdentifier = UInt16(truncatingIfNeeded: getpid())
        var seed = SystemRandomNumberGenerator()
        planner = CheckerPlanner(
            configuration: configuration, options: plannerOptions, backendName: backend.name, seed: seed.next())
        self.logger = logger
        self.runtime = runtime
        loop = try EventLoop()
        probeStarter = probes
        balancer = BalancerThread(backend)
        notifier = Notifier(global: configuration.global, logger: logger, role: .checker)
    }

    /// IPVS where the kernel has it (or when asked for), nftables elsewhere (or when asked for). Asked for IPVS on
    /// a kernel without it, Vigil says so and balances with nftables rather than not at all.
    static func chooseBackend(
        _ choice: VigilSettings.LoadBalancerBackend?, runtime: RuntimeDirectory, logger: Logger
    ) -> any LoadBalancerBackend {
        let wantsIPVS = choice == .ipvs || (choice == nil && access("/proc/net/ip_vs", F_OK) == 0)
        if wantsIPVS {
            switch IPVSBackend.open() {
            case .success(let backend): return backend
            case .failure(let error):
                logger.error("IPVS: \(error); balancing with nftables instead")
            }
        }
        return NFTablesBackend(directory: runtime.path)
    }

    var now: MonotonicTime { MonotonicTime(nanoseconds: loop.now) }

    public func run() throws(SystemError) -> Int32 {
        try installSignals()
        notifier.startFIFOScripts()
        applyScheduling()
        perform(planner.start(now: now, localAddresses: followAddresses()))
        // Once the checks run, start-up's code and the reading's heap need not stay resident (off the loop).
        loop.schedule(at: loop.now + 2_000_000_000, label: "startup pages") { [unowned self] in
            files.submit { StartupPages.release() }
        }
        do {
            controlSocket = try ControlSocket(
                path: runtime.file(Self.controlSocketName), loop: loop, readers: runtime.readers,
                // The control group reads; only root reloads or changes anything.
                readerRequests: ["status"]
            ) { [unowned self] request in control(request) }
        } catch {
            logger.error("no control socket (vigil status will not show real servers): \(error)")
        }
        if servesMetrics, let endpoint = metricsListen ?? planner.configuration.global.vigil.metricsListen {
            metricsServer = MetricsPage.serve(at: endpoint, loop: loop, logger: logger) { [unowned self] request in
                MetricsPage.httpAnswer(request) { planner.metricsPage().text }
            }
        }
        heartbeat?.start(on: loop)
        do {
            try loop.run()
        } catch {
            logger.critical("the event loop failed: \(error)")
            return 1
        }
        #if DEBUG
            let longest = loop.longestCallback
            logger.info("longest callback on the checker loop: \(longest.nanoseconds / 1000) µs (\(longest.label))")
        #endif
        return 0
    }

    // MARK: - Running the planner's actions

    func perform(_ actions: [CheckerPlanner.Action]) {
        pending += actions
        guard !performing else { return }
        performing = true
        defer { performing = false }
        var next = 0
        while next < pending.count {
            let action = pending[next]
            next += 1
            execute(action)
            if next > 256 {
                pending.removeFirst(next)
                next = 0
            }
        }
        pending.removeAll(keepingCapacity: true)
    }

    private func execute(_ action: CheckerPlanner.Action) {
        switch action {
        case .startProbe(let id, let request):
            let probe = probeStarter.start(request, loop: loop) { [unowned self] result in
                probes[id] = nil
                perform(planner.probeFinished(id, result, now: now))
            }
            if let probe, !probe.finished { probes[id] = probe }
        case .cancelProbe(let id):
            probes.removeValue(forKey: id)?.cancel()
        case .arm(let timer, let deadline):
            if let existing = timers[timer] { loop.cancel(existing) }
            timers[timer] = loop.schedule(at: deadline.nanoseconds, label: debugLabel(timer)) { [unowned self] in
                timers[timer] = nil
                perform(planner.timerFired(timer, now: now))
            }
        case .cancel(let timer):
            if let existing = timers.removeValue(forKey: timer) { loop.cancel(existing) }
        case .applyLoadBalancer(let state, let changes):
            let service = LoopBound(self, loop: loop)
            let loop = self.loop
            balancer.apply(state, changes) { failure in
                loop.post {
                    let service = service.value
                    service.perform(service.planner.loadBalancerApplied(failure, now: service.now))
                }
            }
        case .removeLoadBalancer:
            balancer.removeAll()
        case .configureLoadBalancer(let settings, let previous):
            let logger = self.logger
            balancer.configure(settings, previous: previous) { failure in
                if let failure { logger.error("load balancer: \(failure)") }
            }
        case .followBFD(let follow):
            bfdFollower?.stop()
            bfdFollower = nil
            if follow {
                bfdFollower = BFDFollower(
                    path: runtime.file(BFDService.eventSocketName), role: "checker", loop: loop, logger: logger
                ) { [unowned self] events in perform(planner.bfdChanged(events, now: now)) }
            }
        case .pollFiles(let paths):
            filePaths = paths
            if let fileTimer { loop.cancel(fileTimer) }
            fileTimer = nil
            if !paths.isEmpty { followFiles() }
        case .notify(let notification):
            switch notification {
            case .realServer(let name, let virtualServer, let up, let script, let mail):
                notifier.realServer(name, of: virtualServer, up: up, script: script, mail: mail)
            case .virtualServer(let name, let up, let script):
                notifier.virtualServer(name, up: up, script: script)
            case .checkerMail(let name, let virtualServer, let up):
                notifier.realServerMail(name, of: virtualServer, up: up)
            }
        case .replaceNotifier(let global):
            let previous = notifier
            notifier = Notifier(global: global, logger: logger, role: .checker)
            probeStarter.setLauncher(ScriptLauncher(global: global))
            files.submit { previous.close(timeout: .seconds(10)) }
        case .replaceTLS(let ssl):
            probeStarter.setTLS(ssl)
        case .log(let level, let message):
            logger.log(level: level, "\(message)")
        case .systemd(let text):
            systemd.notify(text)
        case .loadConfiguration:
            reload()
        case .publishMetrics(let text):
            let path = runtime.file(Self.metricsFileName)
            files.submit { try? SmallFile.replace(path, with: Array(text.utf8)) }
        case .exit:
            bfdFollower?.stop()
            for probe in probes.values { probe.cancel() }
            probes.removeAll()
            // The load balancer's last transaction (its removal) goes in before the process ends.
            balancer.worker.drain(timeout: .seconds(10))
            unlink(runtime.file(Self.metricsFileName))
            notifier.drain(timeout: .seconds(2))
            loop.stop()
        }
    }

    // MARK: - FILE_CHECK files

    /// Reads the FILE_CHECK files off the loop, every second.
    /// Follows the FILE_CHECK files through inotify, as keepalived does (a file written and closed, moved or
    /// deleted is read again at once); when a directory cannot be watched, every file is read every second.
    func followFiles() {
        watchedFiles = [:]
        if fileEvents == nil {
            do {
                let events = try FileEvents()
                try loop.add(events.descriptor.rawValue, label: "FILE_CHECK files") { [unowned self] in
                    filesChanged()
                }
                fileEvents = events
            } catch {
                logger.warning("inotify is not available (\(error)); FILE_CHECK files are read every second")
            }
        }
        guard let events = fileEvents else { return pollFiles() }
        for path in filePaths {
            let resolved = VRRPService.resolvedPath(path)
            do {
                try events.watch(directoryOf: resolved)
                watchedFiles[resolved] = path
            } catch {
                logger.warning("cannot watch the directory of \(resolved) for FILE_CHECK (\(error)); its files are read every second")
                return pollFiles()
            }
        }
        readFiles(filePaths, again: false)
    }

    /// inotify said some files changed: read those a FILE_CHECK follows.
    func filesChanged() {
        guard let events = fileEvents else { return }
        let changed = events.read().compactMap { watchedFiles[$0] }
        if !changed.isEmpty { readFiles(changed, again: false) }
    }

    /// Reads every FILE_CHECK file every second (where inotify cannot follow them).
    func pollFiles() { readFiles(filePaths, again: true) }

    /// Reads files off the loop and hands their values to the planner; with `again`, once more a second later.
    func readFiles(_ paths: [String], again: Bool) {
        let expected = filePaths
        let service = LoopBound(self, loop: loop)
        let loop = self.loop
        files.submit {
            var values = [String: Int?]()
            for path in paths { values[path] = SmallFile.trackedValue(path) }
            let read = values
            loop.post {
                let service = service.value
                guard !service.planner.stopping, service.filePaths == expected else { return }
                service.perform(service.planner.filesRead(read, now: service.now))
                guard again else { return }
                service.fileTimer = loop.schedule(at: loop.now + 1_000_000_000, label: "FILE_CHECK") {
                    service.pollFiles()
                }
            }
        }
    }

    // MARK: - Signals, reload, requests

    func installSignals() throws(SystemError) {
        signals = try Signals.watch(on: loop) { [unowned self] signal in
            switch signal {
            case SIGTERM, SIGINT: perform(planner.stop())
            case SIGHUP: perform(planner.reloadRequested())
            default: break
            }
        }
    }

    /// Reads the configuration again off the loop (a large file must not stop the checks).
    func reload() {
        guard let loadConfiguration else {
            perform([.log(.warning, "reload requested, but this process cannot read its configuration again")])
            planner.reloading = false
            return
        }
        let service = LoopBound(self, loop: loop)
        let loop = self.loop
        files.submit {
            let result = loadConfiguration()
            loop.post {
                let service = service.value
                service.perform(service.planner.configurationLoaded(result, now: service.now))
                if service.addressMonitor == nil, let addresses = service.followAddresses() {
                    service.perform(service.planner.addressesChanged(addresses))
                }
                service.files.submit { StartupPages.release() }
            }
        }
    }

    func control(_ request: String) -> String {
        switch request.split(separator: " ").map(String.init) {
        case ["status"]: return planner.statusText
        case ["status", "json"]:
            return "{\"vigil\":\(JSON.string(VigilVersion.number)),\"pid\":\(getpid()),\"instances\":[],\"virtual_servers\":\(planner.statusJSON)}\n"
        case ["reload"]:
            perform(planner.reloadRequested())
            return "reloading\n"
        default: return "error: unknown request '\(request.prefix(64))'; try status, status json or reload\n"
        }
    }
}

import CLinux
import Checkers
import Glibc
import HealthCheck
import LinuxNet
import Logging
import VigilConfig

/// The checker process: every `virtual_server`'s real servers checked on one event loop, each virtual server's
/// pool kept by its `ServicePool`, and the kernel load balancer changed only when the pools' destinations change.
public final class CheckerService {
    /// One checker of one real server.
    final class CheckerRuntime {
        let server: Int
        let member: Int
        let index: Int
        let checker: Checker
        let target: CheckTarget
        var machine: CheckerMachine
        var probe: Probe?
        var timer: EventLoop.TimerID?
        /// HTTP_GET/SSL_GET: which of the URLs is being checked (all must pass).
        var url = 0
        var lastDetail = ""

        init(server: Int, member: Int, index: Int, checker: Checker, target: CheckTarget, machine: CheckerMachine) {
            self.server = server
            self.member = member
            self.index = index
            self.checker = checker
            self.target = target
            self.machine = machine
        }

        /// What identifies this checker across a reload.
        var key: String { "\(server)|\(target.endpoint)|\(index)|\(checker.kind.keyword)" }
    }

    /// One virtual server: the services the kernel holds for it, its real servers and pool.
    struct ServerRuntime {
        var configuration: VirtualServer
        var name: String
        var services: [Service]
        var realServers: [RealServer]
        var realServerNames: [String]
        var pool: ServicePool
    }

    var configuration: Configuration
    let logger: Logger
    let runtime: RuntimeDirectory
    let loop: EventLoop
    var servers: [ServerRuntime] = []
    var checkers: [CheckerRuntime] = []
    let backend: LoadBalancerBackend
    var applied = LoadBalancerState()
    var retryTimer: EventLoop.TimerID?
    var notifier: Notifier
    var launcher: ScriptLauncher
    var tls: TLSContext?
    var signals: FileDescriptor?
    var fileTimer: EventLoop.TimerID?
    var stopping = false
    var pingIdentifier = UInt16(truncatingIfNeeded: getpid())
    var pingSequence: UInt16 = 0
    let systemd = SystemdNotifier()
    var controlSocket: ControlSocket?
    var metricsServer: RequestServer?
    /// `--metrics` or `vigil_metrics_listen`, served here only when no VRRP process runs (`servesMetrics`).
    public var metricsListen: String?
    public var servesMetrics = false
    /// Beats for the supervisor's relay of systemd's watchdog, from this loop.
    public var heartbeat: Heartbeat?
    /// `-I` (--dont-release-ipvs) turns it off: the services stay in the kernel after Vigil stops.
    public var releaseOnStop = true
    var checkCounts: [CheckKey: Int] = [:]
    var balancerUpdates = 0
    var balancerFailures = 0
    var lastPublishedMetrics = ""

    struct CheckKey: Hashable {
        var kind: String
        var success: Bool
    }

    /// How to read the configuration again (SIGHUP).
    public var loadConfiguration: (@Sendable () -> ConfigLoader.Result)?

    public init(configuration: Configuration, logger: Logger, runtime: RuntimeDirectory) throws(SystemError) {
        self.configuration = configuration
        self.logger = logger
        self.runtime = runtime
        loop = try EventLoop()
        notifier = Notifier(global: configuration.global, logger: logger, role: .checker)
        launcher = ScriptLauncher(global: configuration.global)
        backend = Self.chooseBackend(configuration.global.vigil.loadBalancerBackend, runtime: runtime, logger: logger)
    }

    /// IPVS where the kernel has it (or when asked for), nftables elsewhere (or when asked for). Asked for IPVS on
    /// a kernel without it, Vigil says so and balances with nftables rather than not at all.
    static func chooseBackend(
        _ choice: VigilSettings.LoadBalancerBackend?, runtime: RuntimeDirectory, logger: Logger
    ) -> LoadBalancerBackend {
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

    public func run() throws(SystemError) -> Int32 {
        try installSignals()
        build(from: configuration, keeping: [:])
        logger.info(
            "Checkers started: \(servers.count) virtual server\(servers.count == 1 ? "" : "s"), \(checkers.count) checker\(checkers.count == 1 ? "" : "s"), load balancer \(backend.name)"
        )
        notifier.startFIFOScripts()
        synchronize()
        do {
            controlSocket = try ControlSocket(path: runtime.file(Self.controlSocketName), loop: loop) {
                [unowned self] request in control(request)
            }
        } catch {
            logger.error("no control socket (vigil status will not show real servers): \(error)")
        }
        if servesMetrics, let endpoint = metricsListen ?? configuration.global.vigil.metricsListen {
            metricsServer = MetricsPage.serve(at: endpoint, loop: loop, logger: logger) { [unowned self] request in
                httpAnswer(request)
            }
        }
        publishMetrics()
        systemd.notify("READY=1")
        heartbeat?.start(on: loop)
        do {
            try loop.run()
        } catch {
            logger.critical("the event loop failed: \(error)")
            return 1
        }
        return 0
    }

    // MARK: - Building

    /// Builds the runtimes from `configuration`; a checker whose key is in `previous` keeps its state.
    func build(from configuration: Configuration, keeping previous: [String: CheckerMachine]) {
        servers = []
        checkers = []
        if let ssl = configuration.ssl {
            tls = TLSContext(
                certificateAuthority: ssl.certificateAuthority, certificate: ssl.certificate, key: ssl.key)
        } else {
            tls = TLSContext(certificateAuthority: nil, certificate: nil, key: nil)
        }
        for virtualServer in configuration.virtualServers {
            let services = self.services(of: virtualServer, configuration: configuration)
            let serverIndex = servers.count
            let transport = virtualServer.transportProtocol.rawValue.lowercased()
            var members = [ServicePool.Member]()
            var names = [String]()
            var realServers = [RealServer]()
            for realServer in virtualServer.realServers {
                guard let port = realServer.port ?? virtualServer.port else {
                    logger.error("\(realServer.location): real server \(realServer.address) has no port; skipped")
                    continue
                }
                let memberIndex = members.count
                var states = [Bool]()
                for checker in realServer.checkers {
                    if case .bfd = checker.kind {
                        // Vigil runs no BFD session: the checker never comes up, so the server stays out of the
                        // pool rather than in it unchecked (KeywordInventory).
                        logger.warning(
                            "\(checker.location): BFD_CHECK is not supported; \(Self.name(realServer.address, transport, port)) stays down"
                        )
                        states.append(false)
                        continue
                    }
                    let target = CheckTarget(
                        address: checker.connectIP ?? realServer.address, port: checker.connectPort ?? port,
                        bindAddress: checker.bindTo, bindInterface: checker.bindInterface,
                        timeout: checker.timing.connectTimeout)
                    let timing = CheckerMachine.Timing(
                        delayLoop: checker.timing.delayLoop, connectTimeout: checker.timing.connectTimeout,
                        retry: checker.timing.retry, delayBeforeRetry: checker.timing.delayBeforeRetry,
                        warmup: checker.timing.warmup)
                    let alpha = checker.alpha || realServer.alpha || virtualServer.alpha
                    let runtime = CheckerRuntime(
                        server: serverIndex, member: memberIndex, index: states.count, checker: checker,
                        target: target, machine: CheckerMachine(timing: timing, alpha: alpha))
                    if let kept = previous[runtime.key], kept.timing == timing { runtime.machine = kept }
                    states.append(runtime.machine.isUp)
                    checkers.append(runtime)
                }
                members.append(
                    ServicePool.Member(
                        address: realServer.address, port: port, weight: realServer.weight,
                        inhibitOnFailure: realServer.inhibitOnFailure || virtualServer.inhibitOnFailure,
                        forwardingMethod: realServer.forwardingMethod, checkers: states))
                names.append(Self.name(realServer.address, transport, port))
                realServers.append(realServer)
            }
            let sorry = virtualServer.sorryServer.flatMap { sorry -> Destination? in
                guard let port = sorry.port ?? virtualServer.port else { return nil }
                return Destination(
                    address: sorry.address, port: port, weight: 1,
                    forwardingMethod: sorry.forwardingMethod ?? virtualServer.forwardingMethod)
            }
            let pool = ServicePool(
                members: members, quorum: virtualServer.quorum, hysteresis: virtualServer.hysteresis,
                sorryServer: sorry, sorryInhibit: virtualServer.sorryServer?.inhibit ?? false)
            servers.append(
                ServerRuntime(
                    configuration: virtualServer, name: services.first?.keepalivedName ?? "\(virtualServer.address)",
                    services: services, realServers: realServers, realServerNames: names, pool: pool))
        }
        for checker in checkers {
            let first: Duration
            if checker.machine.hasRun {
                first = .milliseconds(Int.random(in: 0...1000))
            } else {
                first = checker.machine.firstDelay(random: Double.random(in: 0..<1))
            }
            schedule(checker, after: first)
        }
        if checkers.contains(where: { if case .file = $0.checker.kind { true } else { false } }) {
            pollFiles()
        }
    }

    static func name(_ address: IPAddress, _ transport: String, _ port: UInt16) -> String {
        "[\(address)]:\(transport):\(port)"
    }

    /// The kernel services of a virtual server: its address, or every address of its group.
    func services(of virtualServer: VirtualServer, configuration: Configuration) -> [Service] {
        let persistence = virtualServer.persistenceTimeout
        func service(_ address: IPAddress, _ port: UInt16) -> Service {
            Service(
                address: address, port: port, transportProtocol: virtualServer.transportProtocol,
                scheduler: virtualServer.scheduler, persistence: persistence)
        }
        switch virtualServer.address {
        case .socket(let address, let port):
            return [service(address, port)]
        case .firewallMark(let mark):
            logger.error(
                "\(virtualServer.location): virtual server fwmark \(mark): the nftables backend has no firewall-mark services; its real servers are checked but nothing is balanced"
            )
            return []
        case .group(let name):
            guard let group = configuration.virtualServerGroups.first(where: { $0.name == name }) else { return [] }
            var result = [Service]()
            for entry in group.entries {
                guard case .addresses(let first, let last, let port) = entry, let port else {
                    logger.error("\(group.location): group \(name): firewall-mark entries are not balanced by nftables")
                    continue
                }
                var address = first
                var count = 0
                while count < 256 {
                    result.append(service(address, port))
                    if address == last { break }
                    guard let next = Self.next(address) else { break }
                    address = next
                    count += 1
                }
            }
            return result
        }
    }

    static func next(_ address: IPAddress) -> IPAddress? {
        var bytes = address.bytes
        for index in bytes.indices.reversed() {
            if bytes[index] == 255 {
                bytes[index] = 0
            } else {
                bytes[index] += 1
                return IPAddress(bytes: bytes)
            }
        }
        return nil
    }

    // MARK: - Checking

    func schedule(_ runtime: CheckerRuntime, after delay: Duration) {
        if let timer = runtime.timer { loop.cancel(timer) }
        let (seconds, attoseconds) = delay.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        // Checks due within the same 10 ms run together: one wake-up for many of them, each moved by at most 5 ms
        // (to the nearest slot, so that intervals keep their length on average).
        let slot: Int64 = 10_000_000
        let deadline = (loop.now + nanoseconds + slot / 2) / slot * slot
        runtime.timer = loop.schedule(at: deadline) { [unowned self, unowned runtime] in
            runtime.timer = nil
            start(runtime)
        }
    }

    func start(_ runtime: CheckerRuntime) {
        guard !stopping else { return }
        let server = servers[runtime.server]
        let realServer = server.realServers[runtime.member]
        let virtualServer = server.configuration
        let target = runtime.target
        let done: (CheckResult) -> Void = { [unowned self, unowned runtime] result in
            runtime.probe = nil
            completed(runtime, result)
        }
        switch runtime.checker.kind {
        case .tcp:
            runtime.probe = TCPProbe.start(target, loop: loop, completion: done)
        case .http(let http), .https(let http):
            let secure: Bool
            if case .https = runtime.checker.kind { secure = true } else { secure = false }
            guard !http.urls.isEmpty else {
                done(.failed("no url to check"))
                return
            }
            let url = http.urls[min(runtime.url, http.urls.count - 1)]
            let virtualHost = url.virtualhost ?? http.virtualhost ?? realServer.virtualhost ?? virtualServer.virtualhost
            let defaultPort: UInt16 = secure ? 443 : 80
            let host =
                virtualHost
                ?? (target.address.family == .ipv6 ? "[\(target.address)]" : "\(target.address)")
                + (target.port == defaultPort ? "" : ":\(target.port)")
            let request = HTTPProbe.Request(
                path: url.path, host: host, statusCodes: url.statusCodes, digest: url.digest)
            if secure && tls == nil {
                done(.failed("SSL_GET needs libssl (libssl3), which cannot be loaded"))
                return
            }
            runtime.probe = HTTPProbe.start(
                target, request: request, tls: secure ? tls : nil,
                serverName: secure && http.enableSNI ? virtualHost : nil, loop: loop, completion: done)
        case .smtp(let smtp):
            runtime.probe = SMTPProbe.start(target, heloName: smtp.heloName, loop: loop, completion: done)
        case .udp(let udp):
            runtime.probe = DatagramProbe.start(
                target, payload: udp.payload,
                expectation: .udp(
                    requireReply: udp.requireReply, minimumLength: udp.minimumReplyLength,
                    maximumLength: udp.maximumReplyLength),
                loop: loop, completion: done)
        case .dns(let dns):
            let id = UInt16.random(in: 0...UInt16.max)
            guard let query = DNSMessage.query(id: id, name: dns.name, type: dns.type) else {
                done(.failed("DNS_CHECK cannot ask for type \(dns.type) of \(dns.name)"))
                return
            }
            runtime.probe = DatagramProbe.start(
                target, payload: query, expectation: .dns(id: id), loop: loop, completion: done)
        case .ping:
            pingSequence &+= 1
            runtime.probe = PingProbe.start(
                target, identifier: pingIdentifier, sequence: pingSequence, loop: loop, completion: done)
        case .misc(let misc):
            guard let command = misc.command else {
                done(.failed("MISC_CHECK without misc_path"))
                return
            }
            do {
                let (arguments, credentials) = try launcher.prepare(command, user: misc.user, group: misc.group)
                runtime.probe = ScriptProbe.start(
                    arguments: arguments, credentials: credentials, dynamic: misc.dynamic,
                    timeout: misc.timeout ?? runtime.checker.timing.delayLoop, loop: loop, completion: done)
            } catch {
                done(.failed("MISC_CHECK \(command): \(error)"))
            }
        case .file:
            // Read every second by pollFiles.
            break
        case .bfd:
            break
        }
    }

    func completed(_ runtime: CheckerRuntime, _ result: CheckResult) {
        guard !stopping else { return }
        // HTTP: every URL must pass; the next one is checked straight away.
        if result.success, case .http(let http) = runtime.checker.kind, runtime.url + 1 < http.urls.count {
            runtime.url += 1
            start(runtime)
            return
        }
        if result.success, case .https(let http) = runtime.checker.kind, runtime.url + 1 < http.urls.count {
            runtime.url += 1
            start(runtime)
            return
        }
        runtime.url = 0
        checkCounts[CheckKey(kind: runtime.checker.kind.keyword, success: result.success), default: 0] += 1
        let (transition, next) = runtime.machine.record(success: result.success)
        let server = servers[runtime.server]
        let realServerName = server.realServerNames[runtime.member]
        if !result.success && (runtime.checker.logAllFailures || transition != nil || runtime.lastDetail != result.detail)
        {
            logger.info("\(runtime.checker.kind.keyword) on service \(realServerName) failed: \(result.detail)")
        }
        runtime.lastDetail = result.detail
        var events = [ServicePool.Event]()
        if let weight = result.weight, runtime.machine.isUp,
            servers[runtime.server].pool.members[runtime.member].weight != weight
        {
            logger.info("Changing weight of \(realServerName) in VS \(server.name) to \(weight) (misc_dynamic)")
            events += servers[runtime.server].pool.setWeight(member: runtime.member, weight: weight)
        }
        switch transition {
        case .up:
            logger.info("\(runtime.checker.kind.keyword) on service \(realServerName) succeeded: \(result.detail)")
            events += servers[runtime.server].pool.update(member: runtime.member, checker: runtime.index, up: true)
        case .down(let attempts):
            logger.info(
                "\(runtime.checker.kind.keyword) on service \(realServerName) failed after \(attempts) attempt\(attempts == 1 ? "" : "s")"
            )
            events += servers[runtime.server].pool.update(member: runtime.member, checker: runtime.index, up: false)
        case nil:
            break
        }
        handle(events, server: runtime.server)
        schedule(runtime, after: next)
    }

    /// FILE_CHECK: every second, each tracked file's number sets its checker's state or its server's weight.
    func pollFiles() {
        guard !stopping else { return }
        var touched = Set<Int>()
        for runtime in checkers {
            guard case .file(let file) = runtime.checker.kind, let name = file.trackFile,
                let track = configuration.trackFiles.first(where: { $0.name == name }), let path = track.path
            else { continue }
            let value = Int(readFile(path).split(whereSeparator: { $0.isWhitespace }).first ?? "") ?? track.initialValue ?? 0
            let weight = file.weight ?? track.weight
            let reverse = file.weight != nil ? file.reverse : track.reverse
            var events = [ServicePool.Event]()
            let up: Bool
            var adjustment = 0
            if weight == 0 {
                up = (value == 0) != reverse
            } else {
                adjustment = value * weight * (reverse ? -1 : 1)
                up = adjustment > -65535
            }
            if servers[runtime.server].pool.members[runtime.member].weightAdjustment != adjustment {
                events += servers[runtime.server].pool.setWeight(member: runtime.member, adjustment: adjustment)
            }
            if servers[runtime.server].pool.members[runtime.member].checkers[runtime.index] != up {
                let name = servers[runtime.server].realServerNames[runtime.member]
                logger.info("FILE_CHECK on service \(name): \(path) reads \(value); \(up ? "up" : "down")")
                events += servers[runtime.server].pool.update(member: runtime.member, checker: runtime.index, up: up)
            }
            if !events.isEmpty || adjustment != 0 { touched.insert(runtime.server) }
            handle(events, server: runtime.server)
        }
        if !touched.isEmpty { synchronize() }
        fileTimer = loop.schedule(at: loop.now + 1_000_000_000) { [unowned self] in pollFiles() }
    }

    /// Real-server and quorum events: logs, notifications, and the load balancer brought up to date.
    func handle(_ events: [ServicePool.Event], server index: Int) {
        guard !events.isEmpty else { return }
        let server = servers[index]
        let global = configuration.global
        for event in events {
            switch event {
            case .realServerUp(let member), .realServerDown(let member):
                let up: Bool
                if case .realServerUp = event { up = true } else { up = false }
                let realServer = server.realServers[member]
                let mail =
                    realServer.smtpAlert
                    && (server.configuration.smtpAlert ?? global.smtpAlertChecker ?? global.smtpAlert ?? true)
                notifier.realServer(
                    server.realServerNames[member], of: server.name, up: up,
                    script: up ? realServer.notifyUp : realServer.notifyDown, mail: mail)
            case .quorumGained(let weight):
                logger.info(
                    "Gained quorum \(server.configuration.quorum)+\(server.configuration.hysteresis) <= \(weight) for VS \(server.name)"
                )
                notifier.virtualServer(server.name, up: true, script: server.configuration.quorumUp)
            case .quorumLost(let weight):
                logger.info(
                    "Lost quorum \(server.configuration.quorum)-\(server.configuration.hysteresis) > \(weight) for VS \(server.name)"
                )
                notifier.virtualServer(server.name, up: false, script: server.configuration.quorumDown)
            }
        }
        synchronize()
    }

    // MARK: - The load balancer

    var wanted: LoadBalancerState {
        var state = LoadBalancerState()
        for server in servers {
            for service in server.services { state.services[service] = server.pool.destinations }
        }
        return state
    }

    /// Brings the kernel to what the pools want, in one transaction; on failure, tries again in 5 s.
    func synchronize() {
        let wanted = self.wanted
        guard wanted != applied || retryTimer != nil else { return }
        if let retryTimer { loop.cancel(retryTimer) }
        retryTimer = nil
        let changes = wanted.changes(from: applied)
        do {
            try backend.apply(wanted, changes: changes)
            balancerUpdates += 1
        } catch {
            balancerFailures += 1
            logger.error("load balancer (\(backend.name)): \(error); trying again in 5 s")
            retryTimer = loop.schedule(at: loop.now + 5_000_000_000) { [unowned self] in
                retryTimer = nil
                applied = LoadBalancerState(services: [:])
                synchronize()
            }
            return
        }
        for change in changes {
            switch change {
            case .addService(let service):
                logger.info("Adding virtual server \(service.keepalivedName) (\(service.scheduler))")
            case .removeService(let service):
                logger.info("Removing virtual server \(service.keepalivedName)")
            case .addDestination(let service, let destination):
                logger.info(
                    "Adding service \(Self.name(destination.address, transport(service), destination.port)) to VS \(service.keepalivedName) weight \(destination.weight)"
                )
            case .editDestination(let service, let destination):
                logger.info(
                    "Setting weight of \(Self.name(destination.address, transport(service), destination.port)) in VS \(service.keepalivedName) to \(destination.weight)"
                )
            case .removeDestination(let service, let destination):
                logger.info(
                    "Removing service \(Self.name(destination.address, transport(service), destination.port)) from VS \(service.keepalivedName)"
                )
            }
        }
        applied = wanted
    }

    func transport(_ service: Service) -> String { service.transportProtocol.rawValue.lowercased() }

    // MARK: - Signals, reload, stop

    func installSignals() throws(SystemError) {
        signals = try Signals.watch(on: loop) { [unowned self] signal in
            switch signal {
            case SIGTERM, SIGINT: shutdown()
            case SIGHUP: reload()
            default: break
            }
        }
    }

    /// Reads the configuration again; checkers of unchanged real servers keep their state, so that their place in
    /// the load balancer does not change.
    func reload() {
        guard let loadConfiguration else { return }
        let result = loadConfiguration()
        if let fatal = result.diagnostics.first(where: { $0.severity >= .error }) {
            logger.error("reload refused: \(fatal.location): \(fatal.message)")
            return
        }
        var previous = [String: CheckerMachine]()
        for runtime in checkers {
            runtime.probe?.cancel()
            if let timer = runtime.timer { loop.cancel(timer) }
            previous[runtime.key] = runtime.machine
        }
        if let fileTimer { loop.cancel(fileTimer) }
        fileTimer = nil
        configuration = result.configuration
        build(from: configuration, keeping: previous)
        logger.info("Reloaded: \(servers.count) virtual servers, \(checkers.count) checkers")
        synchronize()
    }

    func shutdown() {
        guard !stopping else { return }
        stopping = true
        logger.info("Stopping checkers")
        for runtime in checkers {
            runtime.probe?.cancel()
            if let timer = runtime.timer { loop.cancel(timer) }
        }
        if releaseOnStop { backend.removeAll() }
        unlink(runtime.file(Self.metricsFileName))
        notifier.drain(timeout: .seconds(2))
        loop.stop()
    }
}

/// Reads a small file whole, up to `limit` bytes (tracked files hold a number); files of Vigil's own runtime
/// directory are read without following a symlink.
func readFile(_ path: String, limit: Int = 256, followSymlink: Bool = true) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followSymlink ? 0 : O_NOFOLLOW))
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var bytes = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while bytes.count < limit {
        let count = read(fd, &buffer, min(buffer.count, limit - bytes.count))
        if count <= 0 { break }
        bytes += buffer.prefix(count)
    }
    return String(decoding: bytes, as: UTF8.self)
}

extension VirtualServer {
    /// The port of a virtual server given by address and port.
    var port: UInt16? {
        if case .socket(_, let port) = address { port } else { nil }
    }
}

import Checkers
import HealthCheck
import LinuxNet
import Logging
import VRRP
import VigilConfig

/// The checker process's decisions, as a value: every virtual server's real servers and their checkers, each
/// checker's `CheckerMachine`, each virtual server's `ServicePool`, and what the kernel's load balancer should
/// hold. Events in (a check's result, a timer, FILE_CHECK values, the load balancer's answer, a reload, stop),
/// actions out (probes to start, timers, load-balancer transactions, notifications, log lines). No syscall, no
/// clock, no randomness of its own (a seeded generator comes in), so every rule is unit-tested without root
/// (`CheckerPlannerTests`); `CheckerService` runs the actions.
struct CheckerPlanner {
    struct Options: Equatable, Sendable {
        /// `-I` turns it off: the load balancer's services stay when Vigil stops.
        var releaseOnStop = true
        /// The identifier of this process's ICMP echo requests.
        var pingIdentifier: UInt16 = 1
        init() {}
    }

    /// A checker's identity inside the planner; stable across reloads for a checker that is kept.
    struct CheckerID: Hashable, Comparable, Sendable, CustomStringConvertible {
        let value: Int
        static func < (lhs: CheckerID, rhs: CheckerID) -> Bool { lhs.value < rhs.value }
        var description: String { "checker \(value)" }
    }

    /// What makes a checker the same one after a reload: its virtual server (by what it is, not where it stands in
    /// the file), its real server, its kind and place among that real server's checkers of the kind, and every
    /// setting it checks with. A kept checker keeps its state, so nothing moves in the load balancer.
    struct CheckerKey: Hashable, Sendable {
        var virtualServer: String
        var realServer: String
        var kind: String
        var ordinal: Int
        var settings: Checker
    }

    enum Timer: Hashable, Sendable {
        case check(CheckerID)
        case retryLoadBalancer
        case publishMetrics
    }

    /// A check to run, described: the executor turns it into a probe.
    enum ProbeRequest: Equatable, Sendable {
        case tcp(CheckTarget)
        case http(CheckTarget, HTTPProbe.Request, secure: Bool, serverName: String?)
        case smtp(CheckTarget, helo: String)
        case udp(CheckTarget, payload: [UInt8], requireReply: String?, minimumLength: Int, maximumLength: Int)
        case dns(CheckTarget, query: [UInt8], id: UInt16)
        case ping(CheckTarget, identifier: UInt16, sequence: UInt16)
        case misc(ScriptCommand, user: String?, group: String?, dynamic: Bool, timeout: Duration)
    }

    enum Notification: Equatable, Sendable {
        case realServer(String, of: String, up: Bool, script: ScriptCommand?, mail: Bool)
        case virtualServer(String, up: Bool, script: ScriptCommand?)
        /// A checker of a real server changed without moving the real server: a mail only.
        case checkerMail(String, of: String, up: Bool)
    }

    enum Action: Equatable, Sendable {
        case startProbe(CheckerID, ProbeRequest)
        case cancelProbe(CheckerID)
        case arm(Timer, at: MonotonicTime)
        case cancel(Timer)
        /// Make the kernel hold `state`, off the loop; answer with `loadBalancerApplied`.
        case applyLoadBalancer(LoadBalancerState, changes: [LoadBalancerState.Change])
        /// Remove everything the backend created, off the loop (on stop).
        case removeLoadBalancer
        /// Flush at start, timeouts, synchronisation daemons (the previous settings, to change from).
        case configureLoadBalancer(LoadBalancerSettings, previous: LoadBalancerSettings?)
        /// Follow (or stop following) the BFD process's sessions; report with `bfdChanged`.
        case followBFD(Bool)
        /// Follow these FILE_CHECK files (inotify, else every second) and report with `filesRead` (empty: stop).
        case pollFiles([String])
        case notify(Notification)
        /// `global_defs` or the `SSL` block changed.
        case replaceNotifier(GlobalDefinitions)
        case replaceTLS(SSLSettings?)
        case log(Logger.Level, String)
        case systemd(String)
        case loadConfiguration
        /// Publish the metrics file for the VRRP process (when they changed).
        case publishMetrics(String)
        case exit
    }

    struct CheckerState {
        let id: CheckerID
        let key: CheckerKey
        let server: Int
        let member: Int
        /// The checker's place in its member's list of checker states (`ServicePool.Member.checkers`).
        let index: Int
        let checker: Checker
        let target: CheckTarget
        var machine: CheckerMachine
        var running = false
        /// HTTP_GET/SSL_GET: which of the URLs is checked next (one per check, as keepalived: all must pass).
        var url = 0
        /// HTTP_GET/SSL_GET: the URL that failed; while it fails, only it is checked (keepalived's `failed_url`).
        var failedURL: Int?
        var lastDetail = ""
    }

    /// One virtual server: the services the kernel holds for it, its real servers and pool.
    struct ServerState {
        var configuration: VirtualServer
        var identity: String
        var name: String
        var services: [Service]
        var realServers: [RealServer]
        var realServerNames: [String]
        var pool: ServicePool
    }

    struct CheckCount: Hashable {
        var kind: String
        var success: Bool
    }

    var configuration: Configuration
    let options: Options
    var random: SplitMix64
    var servers: [ServerState] = []
    var checkers: [CheckerState] = []
    var nextCheckerID = 1
    var pingSequence: UInt16 = 0
    /// What the kernel holds (as last applied), what a transaction in flight will make it hold, and whether the
    /// last one failed (a retry is armed).
    var applied = LoadBalancerState()
    var inFlight: LoadBalancerState?
    var retrying = false
    var balancerUpdates = 0
    var balancerFailures = 0
    var checkCounts: [CheckCount: Int] = [:]
    var fileValues: [String: Int?] = [:]
    /// What the BFD process last said of each session, and whether it is followed.
    var bfdUp: [String: Bool] = [:]
    var followsBFD = false
    var lastPublishedMetrics = ""
    var reloading = false
    var stopping = false
    /// The addresses this host holds, counted per interface (`ha_suspend`); nil when nobody asked.
    var localAddresses: [IPAddress: Int]?
    /// The load balancer's name, for logs and metrics.
    let backendName: String

    init(configuration: Configuration, options: Options = Options(), backendName: String, seed: UInt64) {
        self.configuration = configuration
        self.options = options
        self.backendName = backendName
        random = SplitMix64(seed: seed)
    }

    func checker(_ id: CheckerID) -> CheckerState? { checkers.first { $0.id == id } }
    func index(of id: CheckerID) -> Int? { checkers.firstIndex { $0.id == id } }

    // MARK: - Start and stop

    /// Starts every checker. `localAddresses`: the addresses this host holds, when a virtual server has
    /// `ha_suspend` (the executor then reports every change with `addressesChanged`).
    mutating func start(now: MonotonicTime, localAddresses: [IPAddress: Int]? = nil) -> [Action] {
        self.localAddresses = localAddresses
        var actions: [Action] = [.configureLoadBalancer(LoadBalancerSettings(configuration.global), previous: nil)]
        actions += build(keeping: [:], now: now)
        for server in servers where suspended(server) {
            for name in server.realServerNames {
                actions.append(.log(.info, "Deactivating healthchecker for service \(name) for VS \(server.name)"))
            }
        }
        actions.append(
            .log(
                .info,
                "Checkers started: \(servers.count) virtual server\(servers.count == 1 ? "" : "s"), \(checkers.count) checker\(checkers.count == 1 ? "" : "s"), load balancer \(backendName)"
            ))
        actions += synchronize()
        actions += publishMetrics(now: now)
        actions.append(.systemd("READY=1"))
        return actions
    }

    mutating func stop() -> [Action] {
        guard !stopping else { return [] }
        stopping = true
        var actions: [Action] = [.log(.info, "Stopping checkers")]
        for checker in checkers where checker.running { actions.append(.cancelProbe(checker.id)) }
        if options.releaseOnStop {
            actions += omegaNotifications()
            actions.append(.removeLoadBalancer)
        }
        actions.append(.exit)
        return actions
    }

    /// `omega`: as the services go, their live real servers' `notify_down` (and mail), then the virtual server's
    /// `quorum_down`, as keepalived runs them on the way down.
    func omegaNotifications() -> [Action] {
        var actions = [Action]()
        for server in servers where server.configuration.omega {
            for (member, realServer) in server.realServers.enumerated()
            where server.pool.members[member].isAlive {
                actions.append(
                    .notify(
                        .realServer(
                            server.realServerNames[member], of: server.name, up: false, script: realServer.notifyDown,
                            mail: mails(realServer, of: server))))
            }
            actions.append(.notify(.virtualServer(server.name, up: false, script: server.configuration.quorumDown)))
        }
        return actions
    }

    /// Whether a real server's changes are mailed: its own `smtp_alert`, then its virtual server's, then
    /// `smtp_alert_checker`, then `smtp_alert` (keepalived's cascade; on by default).
    func mails(_ realServer: RealServer, of server: ServerState) -> Bool {
        let global = configuration.global
        return realServer.smtpAlert
            && (server.configuration.smtpAlert ?? global.smtpAlertChecker ?? global.smtpAlert ?? true)
    }

    // MARK: - ha_suspend

    /// Whether any virtual server has `ha_suspend`: the executor then follows the host's addresses.
    var followsAddresses: Bool { configuration.virtualServers.contains { $0.haSuspend } }

    /// `ha_suspend`: a virtual server none of whose addresses this host holds does not check its real servers
    /// (its checkers keep their state, and their timers run, as keepalived's disabled checkers).
    func suspended(_ server: ServerState) -> Bool {
        guard server.configuration.haSuspend, let local = localAddresses else { return false }
        let addresses = server.services.filter { $0.firewallMark == nil }.map(\.address)
        return !addresses.contains { (local[$0] ?? 0) > 0 }
    }

    /// The host's addresses changed (counted per interface, so that an address on two interfaces goes only when
    /// both have lost it): virtual servers with `ha_suspend` are suspended or activated.
    mutating func addressesChanged(_ addresses: [IPAddress: Int]) -> [Action] {
        guard !stopping else { return [] }
        let before = servers.map(suspended)
        localAddresses = addresses
        var actions = [Action]()
        for (index, server) in servers.enumerated() where suspended(server) != before[index] {
            let verb = before[index] ? "Activating" : "Suspending"
            for name in server.realServerNames {
                actions.append(.log(.info, "\(verb) healthchecker for service \(name) for VS \(server.name)"))
            }
        }
        return actions
    }

    // MARK: - Building

    /// keepalived's naming of a real or virtual server: `[198.51.100.10]:tcp:80`.
    static func name(_ address: IPAddress, _ transport: String, _ port: UInt16) -> String {
        "[\(address)]:\(transport):\(port)"
    }

    /// What a virtual server is, for matching it across reloads.
    static func identity(_ server: VirtualServer) -> String {
        "\(server.address)|\(server.transportProtocol.rawValue)"
    }

    /// Builds the servers and checkers from `configuration`; a checker whose key is in `previous` keeps its state
    /// (and its id); every other one starts over, its first check spread over its warm-up.
    mutating func build(keeping previous: [CheckerKey: CheckerState], now: MonotonicTime) -> [Action] {
        // Real servers that were there before a reload are not new: `rs_init_notifies` leaves them alone.
        let previousRealServers = Set(servers.flatMap { server in server.realServerNames.map { server.identity + " " + $0 } })
        servers = []
        checkers = []
        var actions = [Action]()
        var fileChecks = [String]()
        for virtualServer in configuration.virtualServers {
            let transport = virtualServer.transportProtocol.rawValue.lowercased()
            let services = services(of: virtualServer, &actions)
            let serverIndex = servers.count
            let identity = Self.identity(virtualServer)
            var members = [ServicePool.Member]()
            var names = [String]()
            var realServers = [RealServer]()
            for realServer in virtualServer.realServers {
                guard let port = realServer.port ?? virtualServer.port else {
                    actions.append(
                        .log(.error, "\(realServer.location): real server \(realServer.address) has no port; skipped"))
                    continue
                }
                let memberIndex = members.count
                let realName = Self.name(realServer.address, transport, port)
                var states = [Bool]()
                var ordinals = [String: Int]()
                for checker in realServer.checkers {
                    let kind = checker.kind.keyword
                    let ordinal = ordinals[kind, default: 0]
                    ordinals[kind] = ordinal + 1
                    var settings = checker
                    settings.location = SourceLocation(file: "", line: 0)
                    let key = CheckerKey(
                        virtualServer: identity, realServer: realName, kind: kind, ordinal: ordinal, settings: settings)
                    let target = CheckTarget(
                        address: checker.connectIP ?? realServer.address, port: checker.connectPort ?? port,
                        bindAddress: checker.bindTo, bindPort: checker.bindPort ?? 0,
                        bindInterface: checker.bindInterface, mark: checker.firewallMark,
                        timeout: checker.timing.connectTimeout)
                    let timing = CheckerMachine.Timing(
                        delayLoop: checker.timing.delayLoop, connectTimeout: checker.timing.connectTimeout,
                        retry: checker.timing.retry, delayBeforeRetry: checker.timing.delayBeforeRetry,
                        warmup: checker.timing.warmup)
                    // `alpha` was resolved once, down the cascade, by the configuration builder.
                    var state: CheckerState
                    if let kept = previous[key] {
                        state = CheckerState(
                            id: kept.id, key: key, server: serverIndex, member: memberIndex, index: states.count,
                            checker: checker, target: target, machine: kept.machine, lastDetail: kept.lastDetail)
                    } else {
                        state = CheckerState(
                            id: CheckerID(value: nextCheckerID), key: key, server: serverIndex, member: memberIndex,
                            index: states.count, checker: checker, target: target,
                            machine: CheckerMachine(timing: timing, alpha: checker.alpha))
                        nextCheckerID += 1
                    }
                    if case .file(let file) = checker.kind, let name = file.trackFile,
                        let path = configuration.trackFiles.first(where: { $0.name == name })?.path,
                        !fileChecks.contains(path)
                    {
                        fileChecks.append(path)
                    }
                    state.running = false
                    if case .bfd(let name) = checker.kind {
                        // What the BFD process last said, else the checker's start (`alpha`: down).
                        states.append(bfdUp[name] ?? state.machine.isUp)
                    } else {
                        states.append(state.machine.isUp)
                    }
                    checkers.append(state)
                }
                var member = ServicePool.Member(
                    address: realServer.address, port: port, weight: realServer.weight,
                    inhibitOnFailure: realServer.inhibitOnFailure, forwardingMethod: realServer.forwardingMethod,
                    checkers: states)
                member.upperThreshold = UInt32(clamping: realServer.upperThreshold ?? 0)
                member.lowerThreshold = UInt32(clamping: realServer.lowerThreshold ?? 0)
                member.tunnel = realServer.tunnel
                members.append(member)
                names.append(realName)
                realServers.append(realServer)
            }
            let sorry = virtualServer.sorryServer.flatMap { sorry -> Destination? in
                guard let port = sorry.port ?? virtualServer.port else { return nil }
                var destination = Destination(
                    address: sorry.address, port: port, weight: 1,
                    forwardingMethod: sorry.forwardingMethod ?? virtualServer.forwardingMethod)
                if destination.forwardingMethod == .tunnel { destination.tunnel = sorry.tunnel ?? virtualServer.tunnel }
                return destination
            }
            let pool = ServicePool(
                members: members, quorum: virtualServer.quorum, hysteresis: virtualServer.hysteresis,
                sorryServer: sorry, sorryInhibit: virtualServer.sorryServer?.inhibit ?? false)
            let server = ServerState(
                configuration: virtualServer, identity: identity,
                name: services.first?.keepalivedName ?? "\(virtualServer.address)", services: services,
                realServers: realServers, realServerNames: names, pool: pool)
            servers.append(server)
            // `rs_init_notifies`: a new real server that starts in the pool says so (script and FIFO, no mail).
            if configuration.global.realServerInitialNotifies {
                for (member, name) in names.enumerated()
                where pool.members[member].isAlive && !previousRealServers.contains(identity + " " + name) {
                    actions.append(
                        .notify(
                            .realServer(
                                name, of: server.name, up: true, script: realServers[member].notifyUp, mail: false)))
                }
            }
        }
        let followBFD = checkers.contains { if case .bfd = $0.checker.kind { true } else { false } }
        if followBFD != followsBFD {
            followsBFD = followBFD
            actions.append(.followBFD(followBFD))
        }
        for index in checkers.indices {
            if case .file = checkers[index].checker.kind { continue }
            if case .bfd = checkers[index].checker.kind { continue }
            let delay: Duration
            if checkers[index].machine.hasRun {
                delay = .milliseconds(Int(random.next() % 1001))
            } else {
                delay = checkers[index].machine.firstDelay(random: random.unit())
            }
            actions.append(.arm(.check(checkers[index].id), at: Self.slot(now + delay)))
        }
        actions.append(.pollFiles(fileChecks))
        return actions
    }

    /// Checks due within the same 10 ms run together: one wake-up for many, each moved by at most 5 ms (to the
    /// nearest slot, so that intervals keep their length on average).
    static func slot(_ deadline: MonotonicTime) -> MonotonicTime {
        let slot: Int64 = 10_000_000
        return MonotonicTime(nanoseconds: (deadline.nanoseconds + slot / 2) / slot * slot)
    }

    /// The kernel services of a virtual server: its address, or every address of its group.
    func services(of virtualServer: VirtualServer, _ actions: inout [Action]) -> [Service] {
        /// The options every service of the virtual server carries.
        func configured(_ service: Service) -> Service {
            var service = service
            service.flags = virtualServer.schedulerFlags.rawValue | (virtualServer.operationMode ? 0x4 : 0)
            if virtualServer.persistenceTimeout != nil {
                service.netmask = virtualServer.persistenceNetmask
                service.persistenceEngine = virtualServer.persistenceEngine
            }
            return service
        }
        func service(_ address: IPAddress, _ port: UInt16) -> Service {
            configured(
                Service(
                    address: address, port: port, transportProtocol: virtualServer.transportProtocol,
                    scheduler: virtualServer.scheduler, persistence: virtualServer.persistenceTimeout))
        }
        func marked(_ mark: UInt32, _ family: IPAddress.Family?) -> Service {
            // A mark's family: written (`ip_family`, or on the group entry), else the real servers'.
            let family = family ?? virtualServer.family ?? virtualServer.realServers.first?.address.family ?? .ipv4
            return configured(
                Service(
                    firewallMark: mark, family: family, scheduler: virtualServer.scheduler,
                    persistence: virtualServer.persistenceTimeout))
        }
        switch virtualServer.address {
        case .socket(let address, let port):
            return [service(address, port)]
        case .firewallMark(let mark):
            return [marked(mark, nil)]
        case .group(let name):
            guard let group = configuration.virtualServerGroups.first(where: { $0.name == name }) else { return [] }
            var result = [Service]()
            for entry in group.entries {
                switch entry {
                case .firewallMark(let mark, let family):
                    result.append(marked(mark, family))
                case .addresses(let first, let last, let port):
                    // An entry without a port takes the virtual server's (none: every port, 0).
                    let port = port ?? 0
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

    mutating func timerFired(_ timer: Timer, now: MonotonicTime) -> [Action] {
        switch timer {
        case .check(let id):
            guard let index = index(of: id) else { return [] }
            return startCheck(index, now: now)
        case .retryLoadBalancer:
            retrying = false
            // Read the kernel's state as unknown: the whole wanted state goes in again.
            applied = LoadBalancerState(services: [:])
            return synchronize()
        case .publishMetrics:
            return publishMetrics(now: now)
        }
    }

    /// The probe for a checker's next check (or a failure when it cannot be described).
    mutating func startCheck(_ index: Int, now: MonotonicTime) -> [Action] {
        guard !stopping else { return [] }
        let state = checkers[index]
        let server = servers[state.server]
        if suspended(server) { return [.arm(.check(state.id), at: Self.slot(now + state.checker.timing.delayLoop))] }
        let realServer = server.realServers[state.member]
        let target = state.target
        let request: ProbeRequest
        switch state.checker.kind {
        case .tcp:
            request = .tcp(target)
        case .http(let http), .https(let http):
            var secure = false
            if case .https = state.checker.kind { secure = true }
            guard !http.urls.isEmpty else { return finished(index, .failed("no url to check"), now: now) }
            let url = http.urls[min(state.url, http.urls.count - 1)]
            let virtualHost =
                url.virtualhost ?? http.virtualhost ?? realServer.virtualhost ?? server.configuration.virtualhost
            let defaultPort: UInt16 = secure ? 443 : 80
            let host =
                virtualHost
                ?? (target.address.family == .ipv6 ? "[\(target.address)]" : "\(target.address)")
                + (target.port == defaultPort ? "" : ":\(target.port)")
            let regex = url.regex.map {
                HTTPProbe.RegexCheck(
                    pattern: $0, options: url.regexOptionBits, noMatch: url.regexNoMatch,
                    minimumOffset: url.regexMinOffset, maximumOffset: url.regexMaxOffset)
            }
            request = .http(
                target,
                HTTPProbe.Request(
                    path: url.path, host: host, statusCodes: url.statusCodes, digest: url.digest,
                    version: http.httpProtocol, regex: regex),
                secure: secure, serverName: secure && http.enableSNI ? virtualHost : nil)
        case .smtp(let smtp):
            request = .smtp(target, helo: smtp.heloName)
        case .udp(let udp):
            request = .udp(
                target, payload: udp.payload, requireReply: udp.requireReply, minimumLength: udp.minimumReplyLength,
                maximumLength: udp.maximumReplyLength)
        case .dns(let dns):
            let id = UInt16(truncatingIfNeeded: random.next())
            guard let query = DNSMessage.query(id: id, name: dns.name, type: dns.type) else {
                return finished(index, .failed("DNS_CHECK cannot ask for type \(dns.type) of \(dns.name)"), now: now)
            }
            request = .dns(target, query: query, id: id)
        case .ping:
            pingSequence &+= 1
            request = .ping(target, identifier: options.pingIdentifier, sequence: pingSequence)
        case .misc(let misc):
            guard let command = misc.command else { return finished(index, .failed("MISC_CHECK without misc_path"), now: now) }
            request = .misc(
                command, user: misc.user, group: misc.group, dynamic: misc.dynamic,
                timeout: misc.timeout ?? state.checker.timing.delayLoop)
        case .file, .bfd:
            return []
        }
        checkers[index].running = true
        return [.startProbe(state.id, request)]
    }

    /// A probe finished (or could not start).
    mutating func probeFinished(_ id: CheckerID, _ result: CheckResult, now: MonotonicTime) -> [Action] {
        guard !stopping, let index = index(of: id), checkers[index].running else { return [] }
        checkers[index].running = false
        if let urls = checkers[index].checker.kind.urlCount, urls > 1, result.success,
            let next = urlPassed(index, urls: urls)
        {
            checkCounts[CheckCount(kind: checkers[index].checker.kind.keyword, success: true), default: 0] += 1
            return [.arm(.check(id), at: Self.slot(now + next))]
        }
        return finished(index, result, now: now)
    }

    /// HTTP_GET/SSL_GET with several URLs, as keepalived goes through them: one URL per check, the next one a
    /// `delay_loop` later; a pass of the last one completes the check (nil: `finished` records it). Once a URL has
    /// failed, only it is checked until it passes, and then every URL again from the first. With `fast_recovery`, a
    /// checker that is down (or has not run yet) goes on to the next URL at once.
    mutating func urlPassed(_ index: Int, urls: Int) -> Duration? {
        let state = checkers[index]
        let fastRecovery = state.checker.kind.fastRecovery
        if state.failedURL != nil {
            checkers[index].failedURL = nil
            checkers[index].url = 0
        } else if state.url + 1 < urls {
            checkers[index].url += 1
        } else {
            checkers[index].url = 0
            return nil
        }
        checkers[index].machine.resetRetries()
        let machine = checkers[index].machine
        return fastRecovery && (!machine.hasRun || !machine.isUp) ? .zero : state.checker.timing.delayLoop
    }

    /// A check's result counts: the machine decides the checker's state and the next check.
    mutating func finished(_ index: Int, _ result: CheckResult, now: MonotonicTime) -> [Action] {
        let state = checkers[index]
        checkCounts[CheckCount(kind: state.checker.kind.keyword, success: result.success), default: 0] += 1
        var (transition, next) = checkers[index].machine.record(success: result.success)
        if state.checker.kind.urlCount != nil, !result.success, !checkers[index].machine.isUp {
            // keepalived retries only the URL that failed, no sooner than `delay_loop`.
            checkers[index].failedURL = state.url
            next = max(state.checker.timing.delayBeforeRetry, state.checker.timing.delayLoop)
        }
        let server = servers[state.server]
        let realServerName = server.realServerNames[state.member]
        let kind = state.checker.kind.keyword
        var actions = [Action]()
        let logAll = state.checker.logAllFailures || configuration.global.checkerLogAllFailures
        if !result.success && (logAll || transition != nil || state.lastDetail != result.detail) {
            actions.append(.log(.info, "\(kind) on service \(realServerName) failed: \(result.detail)"))
        }
        checkers[index].lastDetail = result.detail
        var events = [ServicePool.Event]()
        if let weight = result.weight, checkers[index].machine.isUp,
            servers[state.server].pool.members[state.member].weight != weight
        {
            actions.append(.log(.info, "Changing weight of \(realServerName) in VS \(server.name) to \(weight) (misc_dynamic)"))
            events += servers[state.server].pool.setWeight(member: state.member, weight: weight)
        }
        switch transition {
        case .up:
            actions.append(.log(.info, "\(kind) on service \(realServerName) succeeded: \(result.detail)"))
            events += servers[state.server].pool.update(member: state.member, checker: state.index, up: true)
        case .down(let attempts):
            actions.append(
                .log(.info, "\(kind) on service \(realServerName) failed after \(attempts) attempt\(attempts == 1 ? "" : "s")"))
            events += servers[state.server].pool.update(member: state.member, checker: state.index, up: false)
        case nil:
            break
        }
        if let transition {
            actions += checkerMail(state, up: transition == .up, events: events)
        }
        actions += handle(events, server: state.server)
        actions.append(.arm(.check(state.id), at: Self.slot(now + next)))
        return actions
    }

    /// keepalived mails every change of a checker, unless `no_checker_emails`; a change that moves the real server
    /// is mailed with it (by `handle`), so only the others are mailed here.
    func checkerMail(_ state: CheckerState, up: Bool, events: [ServicePool.Event]) -> [Action] {
        let global = configuration.global
        let server = servers[state.server]
        let realServer = server.realServers[state.member]
        guard !global.noCheckerEmails,
            realServer.smtpAlert && (server.configuration.smtpAlert ?? global.smtpAlertChecker ?? global.smtpAlert ?? true),
            !events.contains(.realServerUp(state.member)), !events.contains(.realServerDown(state.member))
        else { return [] }
        return [.notify(.checkerMail(server.realServerNames[state.member], of: server.name, up: up))]
    }

    // MARK: - FILE_CHECK

    /// The FILE_CHECK files as last read (nil: missing, or no number in it).
    mutating func filesRead(_ values: [String: Int?], now: MonotonicTime) -> [Action] {
        guard !stopping else { return [] }
        fileValues.merge(values) { _, new in new }
        var actions = [Action]()
        for index in checkers.indices {
            guard case .file(let file) = checkers[index].checker.kind, let name = file.trackFile,
                let track = configuration.trackFiles.first(where: { $0.name == name }), let path = track.path,
                let read = values[path]
            else { continue }
            let value = read ?? track.initialValue ?? 0
            let (up, adjustment) = Self.fileCheck(value: value, file: file, track: track)
            let state = checkers[index]
            var events = [ServicePool.Event]()
            if servers[state.server].pool.members[state.member].weightAdjustment != adjustment {
                events += servers[state.server].pool.setWeight(member: state.member, adjustment: adjustment)
            }
            if servers[state.server].pool.members[state.member].checkers[state.index] != up {
                let name = servers[state.server].realServerNames[state.member]
                actions.append(.log(.info, "FILE_CHECK on service \(name): \(path) reads \(value); \(up ? "up" : "down")"))
                events += servers[state.server].pool.update(member: state.member, checker: state.index, up: up)
            }
            actions += handle(events, server: state.server)
        }
        return actions + synchronize()
    }

    // MARK: - BFD_CHECK

    /// The BFD process said how its sessions are: each BFD_CHECK on a session that changed moves its real server.
    mutating func bfdChanged(_ events: [BFDEvent], now: MonotonicTime) -> [Action] {
        guard !stopping else { return [] }
        var actions = [Action]()
        for event in events { bfdUp[event.name] = event.up }
        for index in checkers.indices {
            guard case .bfd(let name) = checkers[index].checker.kind,
                let event = events.last(where: { $0.name == name })
            else { continue }
            let state = checkers[index]
            guard servers[state.server].pool.members[state.member].checkers[state.index] != event.up else { continue }
            let realServer = servers[state.server].realServers[state.member]
            let port = realServer.port ?? servers[state.server].configuration.port ?? 0
            actions.append(
                .log(.info, "BFD check of [\(name)] RS(\(Self.endpoint(realServer.address, port))) is \(event.up ? "UP" : "DOWN")"))
            checkCounts[CheckCount(kind: "BFD_CHECK", success: event.up), default: 0] += 1
            let events = servers[state.server].pool.update(member: state.member, checker: state.index, up: event.up)
            actions += checkerMail(state, up: event.up, events: events)
            actions += handle(events, server: state.server)
        }
        return actions + synchronize()
    }

    static func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
        address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// keepalived's FILE_CHECK rule: with weight 0 the checker is up while the file reads 0 (down while it reads
    /// anything else; reversed with `reverse`); otherwise the number times the weight moves the real server's
    /// weight, and -65535 or below takes it down.
    static func fileCheck(value: Int, file: FileCheck, track: TrackFile) -> (up: Bool, adjustment: Int) {
        let weight = file.weight ?? track.weight
        let reverse = file.weight != nil ? file.reverse : track.reverse
        if weight == 0 { return ((value == 0) != reverse, 0) }
        let adjustment = value * weight * (reverse ? -1 : 1)
        return (adjustment > -65535, adjustment)
    }

    // MARK: - Pools and the load balancer

    /// Real-server and quorum events: logs, notifications, and the load balancer brought up to date.
    mutating func handle(_ events: [ServicePool.Event], server index: Int) -> [Action] {
        guard !events.isEmpty else { return [] }
        let server = servers[index]
        var actions = [Action]()
        for event in events {
            switch event {
            case .realServerUp(let member), .realServerDown(let member):
                var up = false
                if case .realServerUp = event { up = true }
                let realServer = server.realServers[member]
                actions.append(
                    .notify(
                        .realServer(
                            server.realServerNames[member], of: server.name, up: up,
                            script: up ? realServer.notifyUp : realServer.notifyDown,
                            mail: mails(realServer, of: server))))
            case .quorumGained(let weight):
                actions.append(
                    .log(
                        .info,
                        "Gained quorum \(server.configuration.quorum)+\(server.configuration.hysteresis) <= \(weight) for VS \(server.name)"
                    ))
                actions.append(.notify(.virtualServer(server.name, up: true, script: server.configuration.quorumUp)))
            case .quorumLost(let weight):
                actions.append(
                    .log(
                        .info,
                        "Lost quorum \(server.configuration.quorum)-\(server.configuration.hysteresis) > \(weight) for VS \(server.name)"
                    ))
                actions.append(.notify(.virtualServer(server.name, up: false, script: server.configuration.quorumDown)))
            }
        }
        return actions + synchronize()
    }

    /// What the pools want the kernel to hold.
    var wanted: LoadBalancerState {
        var state = LoadBalancerState()
        for server in servers {
            for service in server.services { state.services[service] = server.pool.destinations }
        }
        return state
    }

    /// Brings the kernel to what the pools want, in one transaction off the loop. One at a time: a change made
    /// while one is in flight goes in once it is done.
    mutating func synchronize() -> [Action] {
        guard inFlight == nil, !retrying, !stopping else { return [] }
        let wanted = self.wanted
        guard wanted != applied else { return [] }
        inFlight = wanted
        return [.applyLoadBalancer(wanted, changes: wanted.changes(from: applied))]
    }

    /// The load balancer's answer: nil when the transaction went in, else why not (retried in 5 s).
    mutating func loadBalancerApplied(_ failure: String?, now: MonotonicTime) -> [Action] {
        guard let state = inFlight else { return [] }
        inFlight = nil
        if let failure {
            balancerFailures += 1
            retrying = true
            return [
                .log(.error, "load balancer (\(backendName)): \(failure); trying again in 5 s"),
                .arm(.retryLoadBalancer, at: now + .seconds(5)),
            ]
        }
        balancerUpdates += 1
        var actions = [Action]()
        for change in state.changes(from: applied) {
            switch change {
            case .addService(let service):
                actions.append(.log(.info, "Adding virtual server \(service.keepalivedName) (\(service.scheduler))"))
            case .removeService(let service):
                actions.append(.log(.info, "Removing virtual server \(service.keepalivedName)"))
            case .addDestination(let service, let destination):
                actions.append(
                    .log(.info, "Adding service \(Self.name(destination.address, Self.transport(service), destination.port)) to VS \(service.keepalivedName) weight \(destination.weight)"))
            case .editDestination(let service, let destination):
                actions.append(
                    .log(.info, "Setting weight of \(Self.name(destination.address, Self.transport(service), destination.port)) in VS \(service.keepalivedName) to \(destination.weight)"))
            case .removeDestination(let service, let destination):
                actions.append(
                    .log(.info, "Removing service \(Self.name(destination.address, Self.transport(service), destination.port)) from VS \(service.keepalivedName)"))
            }
        }
        applied = state
        return actions + synchronize()
    }

    static func transport(_ service: Service) -> String { service.transportProtocol.rawValue.lowercased() }

    // MARK: - Reload

    mutating func reloadRequested() -> [Action] {
        guard !stopping else { return [] }
        guard !reloading else { return [.log(.warning, "reload requested while one is in progress; ignored")] }
        reloading = true
        return [.log(.info, "Reloading the configuration"), .loadConfiguration]
    }

    /// The file, read again off the loop. Errors refuse it; otherwise checkers of unchanged real servers keep
    /// their state, so their place in the load balancer does not change, and `global_defs` changes apply.
    mutating func configurationLoaded(_ result: ConfigLoader.Result, now: MonotonicTime) -> [Action] {
        reloading = false
        guard !stopping else { return [] }
        if let fatal = result.reloadBlockers.first {
            return [.log(.error, "reload refused: \(fatal.location): \(fatal.message)")]
        }
        var actions = [Action]()
        var previous = [CheckerKey: CheckerState]()
        for checker in checkers {
            if checker.running { actions.append(.cancelProbe(checker.id)) }
            actions.append(.cancel(.check(checker.id)))
            previous[checker.key] = checker
        }
        let old = configuration
        configuration = result.configuration
        if old.global != configuration.global { actions.append(.replaceNotifier(configuration.global)) }
        if old.ssl != configuration.ssl { actions.append(.replaceTLS(configuration.ssl)) }
        let settings = LoadBalancerSettings(configuration.global)
        let previousSettings = LoadBalancerSettings(old.global)
        if settings != previousSettings {
            // A flush at start applies at start only.
            var changed = settings
            changed.flushAtStart = false
            actions.append(.configureLoadBalancer(changed, previous: previousSettings))
        }
        if old.global.vigil.loadBalancerBackend != configuration.global.vigil.loadBalancerBackend {
            actions.append(.log(.warning, "vigil_lb_backend changed: the new backend is used after a restart"))
        }
        actions += build(keeping: previous, now: now)
        let kept = checkers.filter { previous[$0.key]?.id == $0.id }.count
        actions.append(
            .log(.info, "Reloaded: \(servers.count) virtual servers, \(checkers.count) checkers (\(kept) kept)"))
        return actions + synchronize()
    }

    // MARK: - Metrics publication

    /// Every second: the metrics for the VRRP process to serve, when something changed.
    mutating func publishMetrics(now: MonotonicTime) -> [Action] {
        guard !stopping else { return [] }
        var actions: [Action] = [.arm(.publishMetrics, at: now + .seconds(1))]
        let text = metricsPage().text
        if text != lastPublishedMetrics {
            lastPublishedMetrics = text
            actions.append(.publishMetrics(text))
        }
        return actions
    }
}

extension Checker.Kind {
    /// HTTP_GET and SSL_GET: how many URLs a check goes through.
    var urlCount: Int? {
        switch self {
        case .http(let http), .https(let http): http.urls.count
        default: nil
        }
    }

    /// HTTP_GET and SSL_GET: `fast_recovery`.
    var fastRecovery: Bool {
        switch self {
        case .http(let http), .https(let http): http.fastRecovery
        default: false
        }
    }
}

extension VirtualServer {
    /// The port of a virtual server given by address and port.
    var port: UInt16? {
        if case .socket(_, let port) = address { port } else { nil }
    }
}


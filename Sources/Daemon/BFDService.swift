import CLinux
import Glibc
import LinuxNet
import Logging
import VRRP
import VigilConfig

/// The BFD process's executor (keepalived's `Keepalived_bfd`): it owns the sessions' sockets and timers and the
/// socket the VRRP and checker processes follow the sessions on, turns packets, timers and signals into events for
/// the `BFDPlanner`, and carries out its actions. Nothing on its loop blocks: the configuration is read again on
/// another thread.
public final class BFDService {
    /// The socket in the runtime directory on which the other processes follow the sessions.
    public static let eventSocketName = "bfd.sock"

    var planner: BFDPlanner
    var configuration: Configuration
    let logger: Logger
    let runtime: RuntimeDirectory
    let loop: EventLoop
    var receivers: [IPAddress.Family: BFDSocket] = [:]
    var senders: [String: BFDSocket] = [:]
    var timers: [String: EventLoop.TimerID] = [:]
    /// A send error is logged once until the session's sends work again.
    var failingSends: Set<String> = []
    var listener: FileDescriptor?
    /// The connected followers and what they follow (`vrrp` or `checker`; nil until they said).
    var followers: [Int32: (descriptor: FileDescriptor, role: String?)] = [:]
    var signals: FileDescriptor?
    lazy var reloader = SerialWorker(capacity: 2)
    public var loadConfiguration: (@Sendable () -> ConfigLoader.Result)?
    public var heartbeat: Heartbeat?

    public init(configuration: Configuration, logger: Logger, runtime: RuntimeDirectory) throws(SystemError) {
        planner = BFDPlanner(seed: UInt64.random(in: .min ... .max))
        self.configuration = configuration
        self.logger = logger
        self.runtime = runtime
        loop = try EventLoop()
    }

    var now: MonotonicTime { MonotonicTime(nanoseconds: loop.now) }

    /// Runs until SIGTERM or SIGINT; returns the exit code.
    public func run() throws(SystemError) -> Int32 {
        signals = try Signals.watch(on: loop) { [unowned self] signal in
            switch signal {
            case SIGTERM, SIGINT:
                // keepalived's BFD process sends nothing on stop: the peers time out.
                logger.info("Stopping")
                loop.stop()
            case SIGHUP: reload()
            case SIGUSR1: write("vigil_bfd.data", planner.describe(now: now))
            default: break
            }
        }
        let listener = try LocalMessages.listen(path: runtime.file(Self.eventSocketName))
        self.listener = listener
        try loop.add(listener.rawValue, label: "bfd followers") { [unowned self] in acceptFollowers() }
        applyScheduling()
        perform(planner.configure(configuration.bfdInstances, now: now))
        // Once the sessions run, start-up's code and the reading's heap need not stay resident (off the loop).
        loop.schedule(at: loop.now + 2_000_000_000, label: "startup pages") { [unowned self] in
            _ = reloader.submit { StartupPages.release() }
        }
        heartbeat?.start(on: loop)
        do {
            try loop.run()
        } catch {
            logger.critical("the event loop failed: \(error)")
            return 1
        }
        unlink(runtime.file(Self.eventSocketName))
        return 0
    }

    func perform(_ actions: [BFDPlanner.Action]) {
        for action in actions {
            switch action {
            case .openSession(let name, let family, let source, let ttl):
                openSession(name, family: family, source: source, ttl: ttl)
            case .closeSession(let name):
                if let sender = senders.removeValue(forKey: name) { sender.descriptor.close() }
            case .send(let name, let bytes, let neighbor):
                guard let sender = senders[name] else { continue }
                do {
                    try sender.send(bytes, to: neighbor)
                    failingSends.remove(name)
                } catch {
                    if failingSends.insert(name).inserted { logger.warning("(\(name)) cannot send to \(neighbor): \(error)") }
                }
            case .arm(let name, let deadline):
                if let timer = timers.removeValue(forKey: name) { loop.cancel(timer) }
                guard let deadline else { continue }
                timers[name] = loop.schedule(at: deadline.nanoseconds, label: "bfd session") { [unowned self] in
                    timers[name] = nil
                    perform(planner.timerFired(name, now: now))
                }
            case .publish(let event):
                publish([event])
            case .log(let level, let message):
                logger.log(level: level, "\(message)")
            }
        }
    }

    func openSession(_ name: String, family: IPAddress.Family, source: IPAddress?, ttl: Int) {
        do {
            if receivers[family] == nil {
                let receiver = try BFDSocket(listening: family)
                receivers[family] = receiver
                try loop.add(receiver.descriptor.rawValue, label: "bfd \(family)") { [unowned self] in
                    received(on: receiver)
                }
            }
            senders[name] = try BFDSocket(
                sending: family, source: source, ttl: ttl, firstPort: UInt16.random(in: 49152...65535))
        } catch {
            logger.error("(\(name)) Unable to open a socket: \(error); the session stays down")
        }
    }

    func received(on socket: BFDSocket) {
        var actions = [BFDPlanner.Action]()
        socket.receive { datagram in
            actions += planner.received(
                datagram.bytes, from: datagram.source, to: datagram.destination, ttl: datagram.hopLimit, now: now)
        }
        perform(actions)
    }

    /// keepalived's `bfd_*` scheduling keywords; without `bfd_rt_priority`, the lowest real-time priority as the
    /// VRRP loop (unless `vigil_no_realtime`): a busy machine must not make a 10 ms session miss its packets.
    func applyScheduling() {
        let settings = configuration.global.bfdScheduling
        if !settings.apply(keywordPrefix: "bfd", logger: logger) && configuration.global.vigil.realtime {
            do {
                try Scheduling.setRealtime(priority: 1, limitMicroseconds: settings.realtimeLimitMicroseconds)
            } catch {
                logger.info("running the BFD loop at normal priority (real-time scheduling refused: \(error))")
            }
        }
    }

    // MARK: - Followers

    func acceptFollowers() {
        guard let listener else { return }
        while let connection = LocalMessages.accept(listener) {
            let fd = connection.rawValue
            followers[fd] = (connection, nil)
            do {
                try loop.add(fd, label: "bfd follower") { [unowned self] in followerReadable(fd) }
            } catch {
                followers[fd] = nil
            }
        }
    }

    /// A follower says once which process it is (`vrrp` or `checker`), then only listens; it hears every session
    /// it follows at once, then each change.
    func followerReadable(_ fd: Int32) {
        guard let follower = followers[fd] else { return }
        switch LocalMessages.receive(on: follower.descriptor) {
        case .message(let text):
            let role = text.split(separator: "\n").first.map(String.init) ?? ""
            followers[fd]?.role = role
            let events = planner.snapshot.filter { planner.follows($0.name, vrrp: role == "vrrp") }
            if !events.isEmpty { _ = LocalMessages.send(events.map(\.line).joined(), on: follower.descriptor) }
        case .nothing:
            break
        case .closed:
            loop.remove(fd)
            followers[fd] = nil
        }
    }

    func publish(_ events: [BFDEvent]) {
        for (fd, follower) in followers {
            guard let role = follower.role else { continue }
            let mine = events.filter { planner.follows($0.name, vrrp: role == "vrrp") }
            guard !mine.isEmpty else { continue }
            if !LocalMessages.send(mine.map(\.line).joined(), on: follower.descriptor) {
                // A follower that cannot take an event would miss it: drop it; it connects again and hears all.
                logger.warning("a \(role) follower is not reading BFD events; disconnecting it")
                loop.remove(fd)
                followers[fd] = nil
            }
        }
    }

    // MARK: - Reload and dumps

    func reload() {
        guard let loadConfiguration else {
            logger.warning("reload requested, but this process cannot read its configuration again")
            return
        }
        let service = LoopBound(self, loop: loop)
        let loop = self.loop
        _ = reloader.submit {
            let result = loadConfiguration()
            loop.post {
                let service = service.value
                service.perform(service.planner.configurationLoaded(result, now: service.now))
                _ = service.reloader.submit { StartupPages.release() }
            }
        }
    }

    func write(_ name: String, _ contents: String) {
        do {
            try runtime.write(name, contents: contents)
            logger.info("Printing BFD data for process(\(getpid())) on signal")
        } catch {
            logger.error("cannot write \(name): \(error)")
        }
    }
}

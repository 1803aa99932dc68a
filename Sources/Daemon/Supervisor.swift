import CLinux
import Glibc
import LinuxNet
import Logging
import VRRP

/// The parent process: it starts the VRRP (and later the checker) process from the same binary, restarts one
/// that dies without being asked to, and passes signals on. A crash in a child never takes the others down.
public final class Supervisor {
    public struct Child {
        public var role: String
        public var arguments: [String]
        public var pid: pid_t = 0
        public var restarts = 0
        public var lastStart: Int64 = 0
        /// The supervisor's end of the child's heartbeat socket, while systemd's watchdog is on.
        var heartbeat: Int32 = -1
        /// A child started before the configuration was read (`startEarly`): the supervisor's end of the socket it
        /// waits on before touching the system.
        var gate: Int32 = -1

        public init(role: String, arguments: [String]) {
            self.role = role
            self.arguments = arguments
        }
    }

    let logger: Logger
    let executable: String
    var children: [Child]
    let respawn: Bool
    var stopping = false
    let systemd: SystemdNotifier
    /// Set when systemd asked for watchdog pings (WATCHDOG_USEC, WATCHDOG_PID = this process).
    var watchdog: WatchdogRelay?
    /// `startup_script` (before the children start) and `shutdown_script` (after they stopped).
    public var startupScript: LifecycleScript?
    public var shutdownScript: LifecycleScript?
    public var launcher: ScriptLauncher?
    /// The kernel's process events, opened here (before entering `net_namespace`: they reach only the host's
    /// first network namespace) for the VRRP process, which finds it at fd 4.
    public var processEvents: ProcessEvents?
    static let processEventsDescriptor: Int32 = 4

    public init(
        executable: String, children: [Child], logger: Logger, respawn: Bool = true,
        systemd: SystemdNotifier = SystemdNotifier()
    ) {
        self.executable = executable
        self.children = children
        self.logger = logger
        self.respawn = respawn
        self.systemd = systemd
        if let interval = systemd.watchdogInterval { watchdog = WatchdogRelay(pingInterval: MonotonicTime(interval).nanoseconds) }
    }

    /// The fd a child finds its heartbeat socket on.
    static let heartbeatDescriptor: Int32 = 3
    /// The fd a child started early waits on (`--gate-fd`): one byte, `g` to go on; anything else, or the end of
    /// the stream, to end quietly.
    static let gateDescriptor: Int32 = 5

    /// Starts a child before the configuration is read, so that it reads the file while this process does (two
    /// cores read it in the time of one); it waits at its gate, after reading and before touching the system,
    /// until `run` opens it (after the startup script), or `abandonEarly` sends it away.
    public func startEarly(_ child: Child) {
        // A socket pair, not a pipe: the supervisor's `send` to a child that died meanwhile fails with EPIPE
        // instead of raising SIGPIPE.
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else { return }
        // Above the descriptors a child is given (3 to 5): the spawn's dup2 onto them must not overwrite these.
        for side in 0..<2 {
            let moved = fcntl(ends[side], F_DUPFD_CLOEXEC, 10)
            close(ends[side])
            ends[side] = moved
        }
        guard ends[0] >= 0, ends[1] >= 0 else {
            for end in ends where end >= 0 { close(end) }
            return
        }
        children.append(child)
        start(children.count - 1, gate: ends[0])
        close(ends[0])
        if children[children.count - 1].pid == 0 {
            close(ends[1])
            children.removeLast()
        } else {
            children[children.count - 1].gate = ends[1]
        }
    }

    /// Children to start in `run`, after those started early.
    public func add(_ more: [Child]) { children += more }

    /// Sends the children started early away (the configuration asks for something they were not started with):
    /// each ends without having touched anything, and is gone before this returns. One still reading the file
    /// ends when it reaches its gate; one that has not within `patience` nanoseconds is killed (it has touched
    /// nothing yet; the pid file it may leave names a dead process, which the next start replaces).
    public func abandonEarly(patience: Int64 = 5_000_000_000) {
        let deadline = monotonic() + patience
        for child in children where child.gate >= 0 {
            close(child.gate)
            var status: Int32 = 0
            while waitpid(child.pid, &status, WNOHANG) == 0 {
                if monotonic() >= deadline {
                    logger.warning("the \(child.role) process started early did not end within \(patience / 1_000_000) ms; killing it")
                    kill(child.pid, SIGKILL)
                    while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
                    break
                }
                var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
                nanosleep(&pause, nil)
            }
            if child.heartbeat >= 0 { close(child.heartbeat) }
            watchdog?.forget(child.role)
        }
        children.removeAll { $0.gate >= 0 }
    }

    /// Whether a child of this role was started early and waits at its gate.
    public func startedEarly(_ role: String) -> Bool { children.contains { $0.role == role && $0.gate >= 0 } }

    /// Lets a child started early go on.
    func openGate(_ index: Int) {
        var go = UInt8(ascii: "g")
        let written = send(children[index].gate, &go, 1, Int32(MSG_NOSIGNAL))
        let failure = errno
        close(children[index].gate)
        children[index].gate = -1
        logger.info("Starting \(children[index].role) child process, pid=\(children[index].pid)")
        // Its loop runs from now on: the watchdog's patience too.
        watchdog?.started(children[index].role, at: monotonic())
        if written != 1 {
            logger.critical("cannot let the \(children[index].role) process go on: \(String(cString: strerror(failure)))")
        }
    }

    /// Runs until SIGTERM/SIGINT and every child has ended; returns the exit code.
    public func run() -> Int32 {
        var set = sigset_t()
        vigil_sigemptyset(&set)
        for signal in Signals.handled { vigil_sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let fd = signalfd(-1, &set, Int32(SFD_CLOEXEC))
        guard fd >= 0 else {
            logger.critical("cannot create a signalfd: \(String(cString: strerror(errno)))")
            return 1
        }
        defer { close(fd) }
        if let startupScript, let launcher { startupScript.run(launcher: launcher, logger: logger) }
        for index in children.indices {
            if children[index].gate >= 0 { openGate(index) } else { start(index) }
        }
        // From here on the supervisor only waits for signals (and heartbeats): start-up's code need not stay
        // resident.
        StartupPages.release()
        var info = signalfd_siginfo()
        var deadline: Int64?
        var nextPing = monotonic()
        while !(stopping && children.allSatisfy { $0.pid == 0 }) {
            if let relay = watchdog, monotonic() >= nextPing {
                feedWatchdog()
                nextPing = monotonic() + relay.pingInterval
            }
            var waits = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
            for child in children where child.heartbeat >= 0 {
                waits.append(pollfd(fd: child.heartbeat, events: Int16(POLLIN), revents: 0))
            }
            // While stopping, wake up now and then to enforce the deadline; with a watchdog, for the next ping.
            var timeout: Int32 = stopping ? 200 : -1
            if watchdog != nil {
                let untilPing = Int32(clamping: max(0, (nextPing - monotonic()) / 1_000_000) + 1)
                timeout = timeout < 0 ? untilPing : min(timeout, untilPing)
            }
            let ready = Glibc.poll(&waits, nfds_t(waits.count), timeout)
            if let deadline, monotonic() > deadline {
                for child in children where child.pid != 0 { kill(child.pid, SIGKILL) }
            }
            for wait in waits.dropFirst() where wait.revents != 0 { heartbeatReadable(wait.fd) }
            guard ready > 0, waits[0].revents != 0, read(fd, &info, MemoryLayout<signalfd_siginfo>.size) > 0 else {
                reap()
                continue
            }
            switch Int32(info.ssi_signo) {
            case SIGTERM, SIGINT:
                if !stopping {
                    stopping = true
                    deadline = monotonic() + 10_000_000_000
                    systemd.notify("STOPPING=1")
                    for child in children where child.pid != 0 { kill(child.pid, SIGTERM) }
                }
            case SIGHUP, SIGUSR1, SIGUSR2, Signals.json, Signals.statsClear:
                for child in children where child.pid != 0 { kill(child.pid, Int32(info.ssi_signo)) }
            case SIGCHLD:
                reap()
            default:
                break
            }
        }
        for index in children.indices { closeHeartbeat(index) }
        if let shutdownScript, let launcher { shutdownScript.run(launcher: launcher, logger: logger) }
        return 0
    }

    /// WATCHDOG=1 when every child's loop beat lately; otherwise nothing (systemd then restarts the service), and
    /// a log line naming the silent ones.
    func feedWatchdog() {
        guard var relay = watchdog else { return }
        switch relay.decide(at: monotonic()) {
        case .ping:
            systemd.notify("WATCHDOG=1")
        case .withhold(let silent, let newlySilent):
            if !newlySilent.isEmpty {
                logger.error(
                    "\(newlySilent.joined(separator: " and ")) child process has not reported for \(relay.allowedSilence / 1_000_000) ms; not feeding systemd's watchdog while \(silent.joined(separator: " and ")) stays silent"
                )
            }
        }
        watchdog = relay
    }

    func heartbeatReadable(_ descriptor: Int32) {
        guard let index = children.firstIndex(where: { $0.heartbeat == descriptor }) else { return }
        var buffer = [UInt8](repeating: 0, count: 64)
        var got = false
        while read(descriptor, &buffer, buffer.count) > 0 { got = true }
        if got { watchdog?.beat(children[index].role, at: monotonic()) }
    }

    func closeHeartbeat(_ index: Int) {
        if children[index].heartbeat >= 0 { close(children[index].heartbeat) }
        children[index].heartbeat = -1
    }

    func monotonic() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    func start(_ index: Int, gate: Int32? = nil) {
        var arguments = [executable] + children[index].arguments
        var pid: pid_t = 0
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with no signals blocked; it sets up its own.
        var empty = sigset_t()
        vigil_sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // With systemd's watchdog on, the child beats on a socket it finds at fd 3.
        closeHeartbeat(index)
        var pair: [Int32] = [-1, -1]
        if let relay = watchdog,
            socketpair(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0, &pair)
                == 0
        {
            posix_spawn_file_actions_adddup2(&actions, pair[1], Self.heartbeatDescriptor)
            arguments += [
                "--heartbeat-fd", String(Self.heartbeatDescriptor), "--heartbeat-ms", String(relay.beatInterval / 1_000_000),
            ]
        }
        if let events = processEvents, children[index].role == "vrrp" {
            posix_spawn_file_actions_adddup2(&actions, events.descriptor.rawValue, Self.processEventsDescriptor)
            arguments += ["--proc-events-fd", String(Self.processEventsDescriptor)]
        }
        if let gate {
            posix_spawn_file_actions_adddup2(&actions, gate, Self.gateDescriptor)
            arguments += ["--gate-fd", String(Self.gateDescriptor)]
        }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // The running image, not the path: after a package upgrade replaced the file, a restarted child is still the
        // same version as the supervisor (and the path may read "... (deleted)").
        let image = access("/proc/self/exe", X_OK) == 0 ? "/proc/self/exe" : executable
        let result = posix_spawn(&pid, image, &actions, &attributes, argv, environ)
        if pair[1] >= 0 { close(pair[1]) }
        guard result == 0 else {
            if pair[0] >= 0 { close(pair[0]) }
            logger.critical("cannot start the \(children[index].role) process: \(String(cString: strerror(result)))")
            return
        }
        children[index].heartbeat = pair[0]
        children[index].pid = pid
        children[index].lastStart = monotonic()
        watchdog?.started(children[index].role, at: children[index].lastStart)
        // One started early is said when its gate opens.
        if gate == nil { logger.info("Starting \(children[index].role) child process, pid=\(pid)") }
    }

    /// Collects ended children; restarts the ones that ended on their own.
    func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            guard let index = children.firstIndex(where: { $0.pid == pid }) else { continue }
            children[index].pid = 0
            closeHeartbeat(index)
            let role = children[index].role
            watchdog?.ended(role, at: monotonic())
            if vigil_wifsignaled(status) != 0 {
                logger.error("\(role) child process(\(pid)) died: killed by signal \(vigil_wtermsig(status))")
            } else {
                let code = vigil_wexitstatus(status)
                if stopping {
                    logger.info("\(role) child process(\(pid)) exited with status \(code)")
                } else {
                    logger.error("\(role) child process(\(pid)) exited with status \(code)")
                }
            }
            guard !stopping else { continue }
            guard respawn else {
                // -R: a dead child ends the daemon, as keepalived does.
                stopping = true
                for child in children where child.pid != 0 { kill(child.pid, SIGTERM) }
                continue
            }
            // Restart at once the first time; if it keeps dying, no more than once a second.
            children[index].restarts += 1
            if monotonic() - children[index].lastStart < 1_000_000_000 { usleep(1_000_000) }
            logger.info("Restarting \(role) child process")
            start(index)
        }
    }
}

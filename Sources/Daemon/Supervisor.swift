import CLinux
import Glibc
import LinuxNet
import Logging

/// The parent process: it starts the VRRP (and later the checker) process from the same binary, restarts one
/// that dies without being asked to, and passes signals on. A crash in a child never takes the others down.
public final class Supervisor {
    public struct Child {
        public var role: String
        public var arguments: [String]
        public var pid: pid_t = 0
        public var restarts = 0
        public var lastStart: Int64 = 0

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

    public init(executable: String, children: [Child], logger: Logger, respawn: Bool = true) {
        self.executable = executable
        self.children = children
        self.logger = logger
        self.respawn = respawn
    }

    /// Runs until SIGTERM/SIGINT and every child has ended; returns the exit code.
    public func run() -> Int32 {
        var set = sigset_t()
        vigil_sigemptyset(&set)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD] { vigil_sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let fd = signalfd(-1, &set, Int32(SFD_CLOEXEC))
        guard fd >= 0 else {
            logger.critical("cannot create a signalfd: \(String(cString: strerror(errno)))")
            return 1
        }
        defer { close(fd) }
        for index in children.indices { start(index) }
        // From here on the supervisor only waits for signals: start-up's code need not stay resident.
        StartupPages.release()
        var info = signalfd_siginfo()
        var deadline: Int64?
        while !(stopping && children.allSatisfy { $0.pid == 0 }) {
            // While stopping, wake up now and then to enforce the deadline.
            var poll = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = Glibc.poll(&poll, 1, stopping ? 200 : -1)
            if let deadline, monotonic() > deadline {
                for child in children where child.pid != 0 { kill(child.pid, SIGKILL) }
            }
            guard ready > 0, read(fd, &info, MemoryLayout<signalfd_siginfo>.size) > 0 else {
                reap()
                continue
            }
            switch Int32(info.ssi_signo) {
            case SIGTERM, SIGINT:
                if !stopping {
                    stopping = true
                    deadline = monotonic() + 10_000_000_000
                    for child in children where child.pid != 0 { kill(child.pid, SIGTERM) }
                }
            case SIGHUP, SIGUSR1, SIGUSR2:
                for child in children where child.pid != 0 { kill(child.pid, Int32(info.ssi_signo)) }
            case SIGCHLD:
                reap()
            default:
                break
            }
        }
        return 0
    }

    func monotonic() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    func start(_ index: Int) {
        let arguments = [executable] + children[index].arguments
        var pid: pid_t = 0
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with no signals blocked; it sets up its own.
        var empty = sigset_t()
        vigil_sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let result = posix_spawn(&pid, executable, nil, &attributes, argv, environ)
        guard result == 0 else {
            logger.critical("cannot start the \(children[index].role) process: \(String(cString: strerror(result)))")
            return
        }
        children[index].pid = pid
        children[index].lastStart = monotonic()
        logger.info("Starting \(children[index].role) child process, pid=\(pid)")
    }

    /// Collects ended children; restarts the ones that ended on their own.
    func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            guard let index = children.firstIndex(where: { $0.pid == pid }) else { continue }
            children[index].pid = 0
            let role = children[index].role
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

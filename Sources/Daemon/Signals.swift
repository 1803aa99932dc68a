import CLinux
import Glibc
import LinuxNet

public enum Signals {
    /// keepalived's JSON dump signal (SIGRTMIN + 2) and its statistics reset (SIGRTMAX - 1).
    public static let json = vigil_sigrtmin() + 2
    public static let statsClear = vigil_sigrtmax() - 1

    /// The signals Vigil's processes read from a signalfd.
    public static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD, json, statsClear]

    public static func set(_ signals: [Int32] = handled) -> sigset_t {
        var set = sigset_t()
        vigil_sigemptyset(&set)
        for signal in signals { vigil_sigaddset(&set, signal) }
        return set
    }

    /// A child process's signals (TERM, INT, HUP, USR1, USR2) blocked and read from a signalfd on `loop`: each one
    /// that arrives is handed to `handler`, on the loop's thread. Returns the descriptor (keep it open).
    public static func watch(
        on loop: EventLoop, _ handler: @escaping (Int32) -> Void
    ) throws(SystemError) -> FileDescriptor {
        var blocked = set([SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, json, statsClear])
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        let fd = try system("signalfd") { signalfd(-1, &blocked, Int32(SFD_NONBLOCK | SFD_CLOEXEC)) }
        let descriptor = FileDescriptor(fd)
        try loop.add(fd) {
            var info = signalfd_siginfo()
            while read(fd, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size {
                handler(Int32(info.ssi_signo))
            }
        }
        return descriptor
    }

    /// Blocks the handled signals in the calling thread, and so in every thread it starts afterwards. Call it
    /// before creating any thread.
    public static func blockDaemonSignals() {
        var all = set()
        pthread_sigmask(SIG_BLOCK, &all, nil)
    }
}

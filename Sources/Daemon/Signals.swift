import CLinux
import Glibc

public enum Signals {
    /// The signals Vigil's processes read from a signalfd.
    public static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD]

    public static func set(_ signals: [Int32] = handled) -> sigset_t {
        var set = sigset_t()
        vigil_sigemptyset(&set)
        for signal in signals { vigil_sigaddset(&set, signal) }
        return set
    }

    /// Blocks the handled signals in the calling thread, and so in every thread it starts afterwards. Call it
    /// before creating any thread.
    public static func blockDaemonSignals() {
        var all = set()
        pthread_sigmask(SIG_BLOCK, &all, nil)
    }
}

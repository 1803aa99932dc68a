import CLinux
import Glibc

/// Scheduling of the calling thread: nice, SCHED_RR, the real-time runaway limit, locked memory.
public enum Scheduling {
    /// SCHED_RESET_ON_FORK: processes the thread forks (scripts) start with normal scheduling.
    static let resetOnFork: Int32 = 0x4000_0000

    /// Sets the calling thread's nice value.
    public static func setNice(_ value: Int) throws(SystemError) {
        _ = try system("setpriority") { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Int32(value)) }
    }

    /// Puts the calling thread in SCHED_RR at `priority`, its children back in normal scheduling, and, if given,
    /// limits the CPU time it may use without blocking to `limitMicroseconds` (RLIMIT_RTTIME: the kernel kills a
    /// runaway).
    public static func setRealtime(priority: Int, limitMicroseconds: Int?) throws(SystemError) {
        if let limitMicroseconds {
            var limit = rlimit(rlim_cur: rlim_t(limitMicroseconds), rlim_max: rlim_t(limitMicroseconds))
            _ = try system("setrlimit(RLIMIT_RTTIME)") {
                setrlimit(__rlimit_resource_t(__RLIMIT_RTTIME.rawValue), &limit)
            }
        }
        var parameters = sched_param(sched_priority: Int32(priority))
        _ = try system("sched_setscheduler(SCHED_RR)") {
            sched_setscheduler(0, SCHED_RR | resetOnFork, &parameters)
        }
    }

    /// Locks every page of the process in memory, now and later.
    public static func lockMemory() throws(SystemError) {
        _ = try system("mlockall") { mlockall(MCL_CURRENT | MCL_FUTURE) }
    }

    /// Binds every thread of the process to `cpus` (CPU numbers), as keepalived's `*_cpu_affinity` does.
    public static func setAffinity(_ cpus: [Int]) throws(SystemError) {
        var mask = [UInt8](repeating: 0, count: 128)
        for cpu in cpus where cpu >= 0 && cpu < mask.count * 8 {
            mask[cpu / 8] |= UInt8(1 << (cpu % 8))
        }
        let threads = SmallFile.directoryEntries("/proc/self/task").compactMap { Int32($0) }
        for thread in threads.isEmpty ? [0] : threads {
            _ = try system("sched_setaffinity") { vigil_sched_setaffinity(thread, mask.count, mask) }
        }
    }
}

import LinuxNet
import Logging
import VigilConfig

extension ProcessScheduling {
    /// Applies keepalived's `PREFIX_priority`, `PREFIX_no_swap`, `PREFIX_cpu_affinity` and `PREFIX_rt_priority`
    /// (with `PREFIX_rlimit_rttime`, 10 ms by default, as keepalived's) to the calling process; a refusal is
    /// logged under the keyword that asked. Returns whether a real-time priority was asked for.
    @discardableResult
    func apply(keywordPrefix prefix: String, logger: Logger) -> Bool {
        if let nice {
            do { try Scheduling.setNice(nice) } catch { logger.warning("\(prefix)_priority \(nice): \(error)") }
        }
        if noSwap {
            do { try Scheduling.lockMemory() } catch { logger.warning("\(prefix)_no_swap: \(error)") }
        }
        if !cpus.isEmpty {
            do { try Scheduling.setAffinity(cpus) } catch { logger.warning("\(prefix)_cpu_affinity: \(error)") }
        }
        guard let realtimePriority else { return false }
        do {
            try Scheduling.setRealtime(priority: realtimePriority, limitMicroseconds: realtimeLimitMicroseconds ?? 10_000)
        } catch {
            logger.warning("\(prefix)_rt_priority \(realtimePriority): \(error)")
        }
        return true
    }
}

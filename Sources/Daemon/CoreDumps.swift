import Glibc
import LinuxNet
import Logging

/// keepalived's `-m` (core dumps allowed: RLIMIT_CORE unlimited, for this process and its children) and
/// `-M[PATTERN]` (also the kernel's core_pattern, default `core`, put back when Vigil stops).
public final class CoreDumps {
    static let patternFile = "/proc/sys/kernel/core_pattern"
    private var previousPattern: String?
    private let logger: Logger

    public init(enabled: Bool, pattern: String?, logger: Logger) {
        self.logger = logger
        guard enabled else { return }
        var limit = rlimit(rlim_cur: rlim_t.max, rlim_max: rlim_t.max)  // RLIM_INFINITY
        if setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit) != 0 {
            logger.warning("-m: cannot allow core dumps: \(String(cString: strerror(errno)))")
        }
        guard let pattern else { return }
        let old = SmallFile.text(Self.patternFile)?.split(separator: "\n").first.map(String.init)
        if (try? SmallFile.overwrite(Self.patternFile, pattern + "\n")) != nil {
            previousPattern = old
            logger.info("core_pattern set to \(pattern) (was \(old ?? "?"))")
        } else {
            logger.warning("-M: cannot set \(Self.patternFile): \(String(cString: strerror(errno)))")
        }
    }

    /// Puts the kernel's core pattern back as it was.
    public func restore() {
        guard let previousPattern else { return }
        try? SmallFile.overwrite(Self.patternFile, previousPattern + "\n")
        self.previousPattern = nil
    }
}

import Glibc
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
        let old = Self.read(Self.patternFile)
        if Self.write(Self.patternFile, pattern) {
            previousPattern = old
            logger.info("core_pattern set to \(pattern) (was \(old ?? "?"))")
        } else {
            logger.warning("-M: cannot set \(Self.patternFile): \(String(cString: strerror(errno)))")
        }
    }

    /// Puts the kernel's core pattern back as it was.
    public func restore() {
        guard let previousPattern else { return }
        _ = Self.write(Self.patternFile, previousPattern)
        self.previousPattern = nil
    }

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = Glibc.read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return String(decoding: buffer.prefix(count), as: UTF8.self).split(separator: "\n").first.map(String.init)
    }

    static func write(_ path: String, _ text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array((text + "\n").utf8)
        return Glibc.write(fd, bytes, bytes.count) == bytes.count
    }
}

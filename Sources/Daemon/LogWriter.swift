import CLinux
import Glibc
import LinuxNet
import Logging

/// Where log lines go, written on a thread of their own so that a slow terminal or syslog never delays an advert.
/// (A plain pthread and a queue: the VRRP process needs no dispatch runtime for this.)
public final class LogWriter: @unchecked Sendable {
    public enum Destination: Sendable {
        /// Standard error, each line stamped with the time as keepalived's console log does (`-l`).
        case console
        /// syslog(3), with the given facility (`-S`); journald adds its own timestamps.
        case syslog(facility: Int32)
        /// Standard error read by journald (JOURNAL_STREAM is set): no timestamp (journald adds its own), the
        /// level as a `<N>` prefix so that `journalctl -p` works.
        case journal
        /// A file (`-g`/`--log-file`), appended to, lines stamped as on the console.
        case file(String)
        /// Nowhere: `-G` (no syslog) without `-l` or `-g`.
        case discard
    }

    struct Line {
        var level: Logger.Level
        var time: time_t
        var message: String
    }

    /// Lines beyond this many waiting are dropped (and counted): logging must never hold memory hostage.
    static let capacity = 10_000

    public let destination: Destination
    private var output: Int32 = 2
    private let lock = ConditionLock()
    private var queue: [Line] = []
    private var dropped = 0
    private var written = 0
    private var queued = 0
    private var thread = pthread_t()

    public init(destination: Destination, identity: String) {
        self.destination = destination
        switch destination {
        case .syslog(let facility):
            // openlog keeps the pointer: the string must live as long as the process.
            openlog(strdup(identity), LOG_PID | LOG_NDELAY, facility)
        case .file(let path):
            // Never through a planted symlink; readable by the owner and the group only.
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o640)
            output = fd >= 0 ? fd : 2
        case .console, .journal, .discard:
            break
        }
        let box = Unmanaged.passRetained(self)
        pthread_create(
            &thread, nil,
            { argument in
                let writer = Unmanaged<LogWriter>.fromOpaque(argument!).takeRetainedValue()
                writer.drain()
                return nil
            }, box.toOpaque())
        pthread_detach(thread)
    }

    /// Queues one line; returns at once.
    public func write(_ level: Logger.Level, _ message: String) {
        let line = Line(level: level, time: time(nil), message: message)
        lock.withLock {
            if queue.count < Self.capacity {
                queue.append(line)
                queued += 1
            } else {
                dropped += 1
            }
            lock.broadcast()
        }
    }

    /// Waits until every queued line is written (before exiting).
    public func flush() {
        let target = lock.withLock { queued }
        while !lock.withLock({ written >= target }) { usleep(1_000) }
    }

    private func drain() {
        while true {
            let (batch, lost) = lock.withLock {
                while queue.isEmpty { lock.wait() }
                let batch = queue
                queue.removeAll(keepingCapacity: true)
                let lost = dropped
                dropped = 0
                return (batch, lost)
            }
            if lost > 0 { emit(Line(level: .warning, time: time(nil), message: "\(lost) log lines were dropped")) }
            for line in batch { emit(line) }
            lock.withLock { written += batch.count }
        }
    }

    private func emit(_ line: Line) {
        switch destination {
        case .journal:
            var text = "<\(Self.syslogPriority(line.level))>\(line.message)\n"
            text.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let count = Glibc.write(output, bytes.baseAddress! + offset, bytes.count - offset)
                    if count <= 0 { break }
                    offset += count
                }
            }
        case .console, .file:
            var seconds = line.time
            var parts = tm()
            localtime_r(&seconds, &parts)
            var buffer = [CChar](repeating: 0, count: 64)
            let length = strftime(&buffer, buffer.count, "%a %b %e %H:%M:%S %Y", &parts)
            let stamp = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            var text = "\(stamp): \(line.message)\n"
            text.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let count = Glibc.write(output, bytes.baseAddress! + offset, bytes.count - offset)
                    if count <= 0 { break }
                    offset += count
                }
            }
        case .syslog:
            line.message.withCString { vigil_syslog(Self.syslogPriority(line.level), $0) }
        case .discard:
            break
        }
    }

    static func syslogPriority(_ level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: LOG_DEBUG
        case .info: LOG_INFO
        case .notice: LOG_NOTICE
        case .warning: LOG_WARNING
        case .error: LOG_ERR
        case .critical: LOG_CRIT
        }
    }
}

/// A swift-log handler that hands lines to a `LogWriter`.
public struct VigilLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let writer: LogWriter

    public init(writer: LogWriter, level: Logger.Level) {
        self.writer = writer
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        writer.write(event.level, "\(event.message)")
    }
}

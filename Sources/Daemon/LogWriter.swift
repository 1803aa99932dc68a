import CLinux
import Dispatch
import Glibc
import Logging

/// Where log lines go, written on a thread of their own so that a slow terminal or syslog never delays an advert.
public final class LogWriter: @unchecked Sendable {
    public enum Destination: Sendable {
        /// Standard error, each line stamped with the time as keepalived's console log does (`-l`).
        case console
        /// syslog(3), with the given facility (`-S`); journald adds its own timestamps.
        case syslog(facility: Int32)
    }

    public let destination: Destination
    private let queue = DispatchQueue(label: "vigil.log")
    private let identity: String

    public init(destination: Destination, identity: String) {
        self.destination = destination
        self.identity = identity
        if case .syslog(let facility) = destination {
            // openlog keeps the pointer: the string must live as long as the process.
            let name = strdup(identity)
            openlog(name, LOG_PID | LOG_NDELAY, facility)
        }
    }

    /// Queues one line; returns at once.
    public func write(_ level: Logger.Level, _ message: String) {
        let destination = self.destination
        let now = time(nil)
        queue.async {
            switch destination {
            case .console:
                var seconds = now
                var parts = tm()
                localtime_r(&seconds, &parts)
                var buffer = [CChar](repeating: 0, count: 64)
                let length = strftime(&buffer, buffer.count, "%a %b %e %H:%M:%S %Y", &parts)
                let stamp = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                var line = "\(stamp): \(message)\n"
                line.withUTF8 { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let written = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                        if written <= 0 { break }
                        offset += written
                    }
                }
            case .syslog:
                let priority: Int32
                switch level {
                case .trace, .debug: priority = LOG_DEBUG
                case .info: priority = LOG_INFO
                case .notice: priority = LOG_NOTICE
                case .warning: priority = LOG_WARNING
                case .error: priority = LOG_ERR
                case .critical: priority = LOG_CRIT
                }
                message.withCString { vigil_syslog(priority, $0) }
            }
        }
    }

    /// Waits until every queued line is written (before exiting).
    public func flush() { queue.sync {} }
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

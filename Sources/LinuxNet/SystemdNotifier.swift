import CLinux
import Glibc

/// The sd_notify protocol without libsystemd: datagrams of `KEY=value` lines to the socket systemd names in
/// NOTIFY_SOCKET (a path, or an abstract name after `@`). Without NOTIFY_SOCKET every call does nothing.
public struct SystemdNotifier: Sendable {
    public let socketPath: String?
    /// Half the watchdog period systemd asked for (WATCHDOG_USEC), if it asked and means this process.
    public let watchdogInterval: Duration?

    public init(environment: (String) -> String? = { getenv($0).map { String(cString: $0) } }) {
        let path = environment("NOTIFY_SOCKET")
        socketPath = (path?.isEmpty ?? true) ? nil : path
        if let text = environment("WATCHDOG_USEC"), let microseconds = Int64(text), microseconds > 0,
            environment("WATCHDOG_PID").map({ Int32($0) == getpid() }) ?? true
        {
            watchdogInterval = .microseconds(microseconds / 2)
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends one notification; returns whether it was sent.
    @discardableResult
    public func notify(_ text: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var name = Array(socketPath.utf8)
        if name.first == UInt8(ascii: "@") { name[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard name.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in name.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + name.count + (name.first == 0 ? 0 : 1))
        var bytes = Array(text.utf8)
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                sendto(fd, &bytes, bytes.count, Int32(MSG_NOSIGNAL), pointer, length)
            }
        }
        return sent == bytes.count
    }
}

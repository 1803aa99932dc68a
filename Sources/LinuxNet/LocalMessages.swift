import CLinux
import Glibc

/// Unix SOCK_SEQPACKET sockets between Vigil's own processes (the BFD process and those that follow its sessions):
/// message boundaries kept, the peer's end seen at once, owner-only.
public enum LocalMessages {
    /// Binds and listens on `path` (a stale socket there is replaced; anything else is refused), owner-only.
    public static func listen(path: String) throws(SystemError) -> FileDescriptor {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw SystemError("\(path) exists and is not a socket", errno: EEXIST)
            }
            unlink(path)
        }
        let descriptor = try open()
        var address = try socketAddress(path)
        let previous = umask(0o177)
        defer { umask(previous) }
        _ = try system("bind(\(path))") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor.rawValue, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        _ = try system("listen(\(path))") { Glibc.listen(descriptor.rawValue, 8) }
        return descriptor
    }

    /// Accepts one waiting connection (nil: none waiting).
    public static func accept(_ listener: FileDescriptor) -> FileDescriptor? {
        let fd = vigil_accept4(listener.rawValue, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
        return fd >= 0 ? FileDescriptor(fd) : nil
    }

    /// Connects to `path` (non-blocking once connected).
    public static func connect(path: String) throws(SystemError) -> FileDescriptor {
        let descriptor = try open()
        var address = try socketAddress(path)
        _ = try system("connect(\(path))") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(descriptor.rawValue, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        return descriptor
    }

    /// Sends one message without waiting (a full peer loses it: the caller decides what that means).
    public static func send(_ text: String, on descriptor: FileDescriptor) -> Bool {
        var bytes = Array(text.utf8)
        return Glibc.send(descriptor.rawValue, &bytes, bytes.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) == bytes.count
    }

    public enum Received: Sendable, Equatable {
        case message(String)
        case nothing
        /// The peer closed, or the socket failed.
        case closed
    }

    public static func receive(on descriptor: FileDescriptor) -> Received {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(descriptor.rawValue, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        if count > 0 { return .message(String(decoding: buffer[0..<count], as: UTF8.self)) }
        if count < 0 && (vigil_errno() == EAGAIN || vigil_errno() == EINTR) { return .nothing }
        return .closed
    }

    private static func open() throws(SystemError) -> FileDescriptor {
        let fd = try system("socket(AF_UNIX, SOCK_SEQPACKET)") {
            socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        }
        return FileDescriptor(fd)
    }

    /// A Unix socket address for `path` (the control sockets use it too).
    static func socketAddress(_ path: String) throws(SystemError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let name = Array(path.utf8)
        guard name.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw SystemError("socket path too long: \(path)", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in name.enumerated() { raw[index] = byte }
        }
        return address
    }
}

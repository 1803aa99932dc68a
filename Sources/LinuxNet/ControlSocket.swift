import CLinux
import Glibc

/// A Unix stream socket for local requests (`vigil status`, `vigil reload`): owner-only (or also readable by one
/// group, whose members may only read), one request line per connection, one answer, then the connection closes. Served on the event loop without ever blocking it: a
/// client that sends no line in time or does not read its answer is dropped.
public final class ControlSocket {
    public let path: String
    public let descriptor: FileDescriptor
    private var server: RequestServer?

    /// Binds `path` (a stale socket there is replaced; anything else is refused) and serves `handler`'s answers.
    /// With `readers`, members of that group may connect too, and ask only what starts with one of
    /// `readerRequests`; anything else from them is refused here, so `handler` sees the owner's requests and the
    /// readers' allowed ones.
    public init(
        path: String, loop: EventLoop, readers: gid_t? = nil, readerRequests: [String] = [],
        handler: @escaping (String) -> String
    ) throws(SystemError) {
        self.path = path
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw SystemError("\(path) exists and is not a socket", errno: EEXIST)
            }
            unlink(path)
        }
        let fd = try system("socket(AF_UNIX)") {
            socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        }
        descriptor = FileDescriptor(fd)
        var address = try LocalMessages.socketAddress(path)
        // Owner-only from the start: the socket file is created under this umask.
        let previous = umask(0o177)
        defer { umask(previous) }
        _ = try system("bind(\(path))") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        if let readers {
            _ = try system("chown(\(path))") { chown(path, uid_t.max, readers) }
            _ = try system("chmod(\(path))") { chmod(path, 0o660) }
        }
        _ = try system("listen") { listen(fd, 16) }
        server = try RequestServer(
            listener: descriptor, loop: loop, terminator: [0x0a], access: readers == nil ? .owner : .ownerAndGroup
        ) { bytes, owner in
            let request = String(decoding: bytes.prefix { $0 != 0x0a }, as: UTF8.self)
            guard owner || readerRequests.contains(where: { request.hasPrefix($0) }) else {
                return "error: only root may ask for '\(request)'\n"
            }
            return handler(request)
        }
    }

    deinit {
        server = nil
        unlink(path)
    }

    /// Sends one request line to the socket at `path` and returns the whole answer (for the command line).
    public static func request(_ line: String, path: String) throws(SystemError) -> String {
        let fd = try system("socket(AF_UNIX)") {
            socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        }
        let descriptor = FileDescriptor(fd)
        var address = try LocalMessages.socketAddress(path)
        _ = try system("connect(\(path))") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor.rawValue, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        var bytes = Array((line + "\n").utf8)
        _ = try system("send") { send(descriptor.rawValue, &bytes, bytes.count, Int32(MSG_NOSIGNAL)) }
        var answer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = try system("recv") { recv(descriptor.rawValue, &chunk, chunk.count, 0) }
            if count == 0 { break }
            answer += chunk[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}

/// Serves requests on a listening socket from the event loop: each connection sends one request (up to
/// `terminator`), gets one answer, and is closed. A connection that is slow to ask is dropped after 2 s; an
/// answer is written at once into a large send buffer, so nothing waits on a client.
public final class RequestServer {
    private let listener: FileDescriptor
    private let loop: EventLoop
    private let terminator: [UInt8]
    private let access: Access
    private let handler: ([UInt8], Bool) -> String

    /// Who may connect: anyone (the metrics page), only this process's user, or also the socket file's group
    /// (the file's mode decides who can connect; such peers are not the owner).
    public enum Access: Sendable { case anyone, owner, ownerAndGroup }
    private var pending: [Int32: (descriptor: FileDescriptor, buffer: [UInt8], deadline: EventLoop.TimerID, owner: Bool)] = [:]

    public init(
        listener: FileDescriptor, loop: EventLoop, terminator: [UInt8], access: Access,
        handler: @escaping (_ request: [UInt8], _ owner: Bool) -> String
    ) throws(SystemError) {
        self.listener = listener
        self.loop = loop
        self.terminator = terminator
        self.access = access
        self.handler = handler
        try loop.add(listener.rawValue) { [unowned self] in self.accept() }
    }

    deinit {
        for (fd, entry) in pending {
            loop.cancel(entry.deadline)
            loop.remove(fd)
        }
        loop.remove(listener.rawValue)
    }

    private func accept() {
        while true {
            let fd = vigil_accept4(listener.rawValue, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
            guard fd >= 0 else { return }
            var owner = access == .anyone
            if access != .anyone {
                // Our own user (root); others only through the group's file mode, and then not as the owner.
                var uid: uid_t = 0
                guard vigil_peer_uid(fd, &uid) == 0, uid == geteuid() || access == .ownerAndGroup else {
                    close(fd)
                    continue
                }
                owner = uid == geteuid()
            }
            var size: Int32 = 1 << 20
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            let deadline = loop.schedule(at: loop.now + 2_000_000_000) { [unowned self] in self.drop(fd) }
            pending[fd] = (FileDescriptor(fd), [], deadline, owner)
            do {
                try loop.add(fd) { [unowned self] in self.readable(fd) }
            } catch {
                drop(fd)
            }
        }
    }

    private func readable(_ fd: Int32) {
        guard var entry = pending[fd] else { return }
        var chunk = [UInt8](repeating: 0, count: 512)
        let count = read(fd, &chunk, chunk.count)
        if count <= 0 {
            if count < 0 && (vigil_errno() == EAGAIN || vigil_errno() == EINTR) { return }
            drop(fd)
            return
        }
        entry.buffer += chunk[0..<count]
        guard Self.contains(entry.buffer, terminator) else {
            if entry.buffer.count > 8192 { drop(fd) } else { pending[fd] = entry }
            return
        }
        var answer = Array(handler(entry.buffer, entry.owner).utf8)
        // One write: the send buffer holds any answer we give; a client that does not read loses the rest.
        _ = send(fd, &answer, answer.count, Int32(MSG_NOSIGNAL))
        drop(fd)
    }

    private func drop(_ fd: Int32) {
        guard let entry = pending.removeValue(forKey: fd) else { return }
        loop.cancel(entry.deadline)
        loop.remove(fd)
    }

    static func contains(_ buffer: [UInt8], _ terminator: [UInt8]) -> Bool {
        guard buffer.count >= terminator.count else { return false }
        for start in 0...(buffer.count - terminator.count) where buffer[start] == terminator[0] {
            if Array(buffer[start..<(start + terminator.count)]) == terminator { return true }
        }
        return false
    }
}

/// A listening TCP socket on `address:port` (IPv4 `a.b.c.d:port`, IPv6 `[addr]:port`), non-blocking.
public func listenTCP(_ endpoint: String) throws(SystemError) -> FileDescriptor {
    guard let colon = endpoint.lastIndex(of: ":"), let port = UInt16(endpoint[endpoint.index(after: colon)...]) else {
        throw SystemError("'\(endpoint)' is not ADDRESS:PORT", errno: EINVAL)
    }
    var host = String(endpoint[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    let family = host.contains(":") ? AF_INET6 : AF_INET
    let fd = try system("socket(TCP)") {
        socket(family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
    }
    let descriptor = FileDescriptor(fd)
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    if family == AF_INET {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw SystemError("'\(host)' is not an IPv4 address", errno: EINVAL)
        }
        _ = try system("bind(\(endpoint))") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    } else {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else {
            throw SystemError("'\(host)' is not an IPv6 address", errno: EINVAL)
        }
        _ = try system("bind(\(endpoint))") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }
    _ = try system("listen") { listen(fd, 16) }
    return descriptor
}

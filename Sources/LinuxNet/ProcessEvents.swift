import CLinux
import Glibc

/// The kernel's process events connector (NETLINK_CONNECTOR, CN_IDX_PROC): a message for every fork, exec, name
/// change and exit, so that tracked processes are followed as they come and go instead of by reading /proc every
/// second (keepalived's way too). The kernel sends them only into the host's first network namespace: a daemon
/// that runs in another opens the socket before it moves there.
public final class ProcessEvents: @unchecked Sendable {
    public enum Event: Equatable, Sendable {
        case fork(parent: Int32, child: Int32)
        case exec(Int32)
        case comm(Int32)
        case exit(Int32)
    }

    public let descriptor: FileDescriptor
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    /// Opens and subscribes. Fails where the kernel has no process events, or not in this network namespace.
    public init() throws(SystemError) {
        let fd = try system("socket(NETLINK_CONNECTOR)") {
            socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 11)
        }
        descriptor = FileDescriptor(fd)
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        address.nl_groups = 1  // CN_IDX_PROC
        _ = try system("bind(NETLINK_CONNECTOR)") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                }
            }
        }
        try? setSocketOption(fd, SOL_SOCKET, SO_RCVBUF, 1 << 21, "SO_RCVBUF")
        try subscribe(true)
    }

    /// Takes over a socket opened (and subscribed) by another process, passed down as a descriptor.
    public init(inherited fd: Int32) {
        descriptor = FileDescriptor(fd)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    /// PROC_CN_MCAST_LISTEN (or _IGNORE).
    public func subscribe(_ listen: Bool) throws(SystemError) {
        let message = Self.subscription(listen, pid: UInt32(getpid()))
        let fd = descriptor.rawValue
        _ = try system("send(PROC_CN_MCAST_LISTEN)") {
            message.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        }
    }

    /// NLMSG_DONE carrying a cn_msg (id CN_IDX_PROC/CN_VAL_PROC) with PROC_CN_MCAST_LISTEN (1) or _IGNORE (2).
    static func subscription(_ listen: Bool, pid: UInt32) -> [UInt8] {
        let payload = uint32(listen ? 1 : 2)
        // struct cn_msg: id { idx, val }, seq, ack, len, flags; then the operation.
        var connector = uint32(1) + uint32(1) + uint32(0) + uint32(0)
        connector += uint16(UInt16(payload.count)) + uint16(0) + payload
        return uint32(UInt32(16 + connector.count)) + uint16(3) + uint16(0) + uint32(0) + uint32(pid) + connector
    }

    /// Waits up to `timeout` for events; an empty list on timeout. ENOBUFS (events lost) is thrown: read /proc
    /// again then.
    public func receive(timeout milliseconds: Int32) throws(SystemError) -> [Event] {
        var poll = pollfd(fd: descriptor.rawValue, events: Int16(POLLIN), revents: 0)
        let ready = Glibc.poll(&poll, 1, milliseconds)
        guard ready > 0 else { return [] }
        let fd = descriptor.rawValue
        let count = try system("recv(NETLINK_CONNECTOR)") {
            buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        }
        return Self.parse(buffer[0..<count])
    }

    /// Messages of process events, as the kernel packs them; threads (pid ≠ tgid) are left out.
    public static func parse(_ bytes: ArraySlice<UInt8>) -> [Event] {
        var events = [Event]()
        var offset = bytes.startIndex
        while offset + 16 <= bytes.endIndex {
            let length = Int(read32(bytes, offset))
            guard length >= 16, offset + length <= bytes.endIndex else { break }
            // nlmsghdr (16), cn_msg (20), proc_event: what, cpu, timestamp (16), then the event's data.
            let event = offset + 16 + 20
            if event + 16 <= offset + length {
                let what = read32(bytes, event)
                let data = event + 16
                func field(_ index: Int) -> Int32? {
                    data + 4 * index + 4 <= offset + length ? Int32(bitPattern: read32(bytes, data + 4 * index)) : nil
                }
                switch what {
                case 0x1:  // PROC_EVENT_FORK: parent pid, parent tgid, child pid, child tgid
                    if let parent = field(1), let pid = field(2), let tgid = field(3), pid == tgid {
                        events.append(.fork(parent: parent, child: pid))
                    }
                case 0x2:  // PROC_EVENT_EXEC: pid, tgid
                    if let pid = field(0), let tgid = field(1), pid == tgid { events.append(.exec(pid)) }
                case 0x200:  // PROC_EVENT_COMM: pid, tgid, comm[16]
                    if let pid = field(0), let tgid = field(1), pid == tgid { events.append(.comm(pid)) }
                case 0x8000_0000:  // PROC_EVENT_EXIT: pid, tgid, code, signal
                    if let pid = field(0), let tgid = field(1), pid == tgid { events.append(.exit(pid)) }
                default:
                    break
                }
            }
            offset += (length + 3) & ~3
        }
        return events
    }

    static func read32(_ bytes: ArraySlice<UInt8>, _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }

    static func uint32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
    static func uint16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
}

/// inotify on the directories of tracked files: a file written and closed, moved in or out, or deleted is reported
/// by name (keepalived watches the same events; a write without close is not one).
public final class FileEvents: @unchecked Sendable {
    public let descriptor: FileDescriptor
    private var watches: [Int32: String] = [:]
    private var buffer = [UInt8](repeating: 0, count: 16384)

    public init() throws(SystemError) {
        let fd = try system("inotify_init1") { inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK)) }
        descriptor = FileDescriptor(fd)
    }

    /// Watches the directory holding `file` (a resolved path; its events name the file); returns that directory,
    /// and fails when it does not exist.
    @discardableResult
    public func watch(directoryOf file: String) throws(SystemError) -> String {
        let directory = file.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let watched = directory.isEmpty ? "/" : directory
        try watch(directory: watched)
        return watched
    }

    /// Watches a directory; fails when it does not exist.
    public func watch(directory: String) throws(SystemError) {
        guard !watches.values.contains(directory) else { return }
        let mask = UInt32(IN_CLOSE_WRITE) | UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM) | UInt32(IN_MOVED_TO)
        let wd = try system("inotify_add_watch \(directory)") {
            inotify_add_watch(descriptor.rawValue, directory, mask)
        }
        watches[wd] = directory
    }

    /// The paths named by the events waiting (directory + "/" + name), each once.
    public func read() -> [String] {
        var paths = [String]()
        let fd = descriptor.rawValue
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            var offset = 0
            // struct inotify_event: wd, mask, cookie, len, name[len].
            while offset + 16 <= count {
                let wd = Int32(bitPattern: ProcessEvents.read32(buffer[...], offset))
                let mask = ProcessEvents.read32(buffer[...], offset + 4)
                let length = Int(ProcessEvents.read32(buffer[...], offset + 12))
                let name = String(decoding: buffer[(offset + 16)..<min(count, offset + 16 + length)].prefix { $0 != 0 }, as: UTF8.self)
                if mask & UInt32(IN_ISDIR) == 0, let directory = watches[wd], !name.isEmpty {
                    let path = directory + "/" + name
                    if !paths.contains(path) { paths.append(path) }
                }
                offset += 16 + length
            }
        }
        return paths
    }
}

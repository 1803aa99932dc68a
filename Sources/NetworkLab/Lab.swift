import CLinux
import Glibc

/// A small network of Linux network namespaces, built per the project's LAB rules: every name carries a per-run
/// prefix, addresses come from the documentation ranges, nothing is created in the root namespace, and `close()`
/// removes every namespace and process the lab made (it also runs when the lab is released).
public final class Lab: @unchecked Sendable {
    /// Why a lab cannot run here, or nil when it can.
    public static func unavailableReason(tools: [String] = ["ip"]) -> String? {
        if getuid() != 0 { return "the lab needs root (it creates network namespaces)" }
        for tool in tools where !Command.exists(tool) {
            return "the lab needs `\(tool)`; scripts/test installs it"
        }
        return nil
    }

    /// The documentation ranges the lab uses; it refuses to start if the root namespace holds any of them.
    public static let subnets = ["198.51.100.", "203.0.113.", "2001:db8:"]

    nonisolated(unsafe) private static var counter = 0

    public let prefix: String
    public let directory: String
    private var namespaces: [String] = []
    private var processes: [BackgroundProcess] = []
    private var closed = false

    public init(_ name: String = "lab") throws(CommandError) {
        if let reason = Self.unavailableReason() { throw CommandError(arguments: ["lab"], reason: reason) }
        Self.counter += 1
        prefix = "vg\(getpid())x\(Self.counter)"
        var template = Array("/tmp/vigil-\(prefix)-\(name)-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw CommandError(arguments: ["mkdtemp"], reason: "cannot create a directory in /tmp")
        }
        directory = String(cString: made)
        Self.sweepStaleNamespaces()
        let root = try Command.run(["ip", "-o", "addr", "show"]).output
        for subnet in Self.subnets where root.contains(" \(subnet)") {
            throw CommandError(
                arguments: ["lab"], reason: "refuses to run: the root namespace already has an address in \(subnet)*")
        }
    }

    deinit { close() }

    /// Removes every namespace and process of this lab, and its directory.
    public func close() {
        guard !closed else { return }
        closed = true
        for process in processes.reversed() { process.stop(signal: SIGKILL, timeout: .seconds(2)) }
        processes.removeAll()
        for namespace in namespaces.reversed() {
            // Anything still running in the namespace would keep its interfaces alive.
            if let pids = try? Command.run(["ip", "netns", "pids", namespace], check: false).output {
                for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
            }
            _ = try? Command.run(["ip", "netns", "del", namespace], check: false)
        }
        namespaces.removeAll()
        _ = try? Command.run(["rm", "-rf", directory], check: false)
    }

    /// Creates namespace `<prefix>-<name>` with loopback up; returns its full name.
    @discardableResult
    public func namespace(_ name: String) throws(CommandError) -> String {
        let full = "\(prefix)-\(name)"
        try Command.run(["ip", "netns", "add", full])
        namespaces.append(full)
        try Command.run(["ip", "-n", full, "link", "set", "lo", "up"])
        return full
    }

    /// A veth pair created inside namespaces: `name` in `namespace`, `peer` in `peerNamespace`, both up.
    public func veth(_ name: String, in namespace: String, peer: String, in peerNamespace: String) throws(CommandError)
    {
        try Command.run([
            "ip", "link", "add", name, "netns", namespace, "type", "veth", "peer", "name", peer, "netns", peerNamespace,
        ])
        try Command.run(["ip", "-n", namespace, "link", "set", name, "up"])
        try Command.run(["ip", "-n", peerNamespace, "link", "set", peer, "up"])
    }

    /// A bridge `name` in `namespace`.
    public func bridge(_ name: String, in namespace: String) throws(CommandError) {
        try Command.run(["ip", "-n", namespace, "link", "add", name, "type", "bridge"])
        // Snooping would hide multicast from a capture on the bridge until someone joins.
        try Command.run(["ip", "-n", namespace, "link", "set", name, "type", "bridge", "mcast_snooping", "0"])
        try Command.run(["ip", "-n", namespace, "link", "set", name, "up"])
    }

    /// Connects `interface` in `namespace` to `bridge` in `hub`, with the given addresses.
    public func connect(
        _ namespace: String, interface: String = "eth0", to bridge: String, in hub: String, port: String,
        addresses: [String]
    ) throws(CommandError) {
        try veth(interface, in: namespace, peer: port, in: hub)
        try Command.run(["ip", "-n", hub, "link", "set", port, "master", bridge])
        // No duplicate address detection delays: the lab's addresses are unique by construction.
        try Self.writeSysctl(in: namespace, "net/ipv6/conf/\(interface)/accept_dad", "0")
        for address in addresses {
            try Command.run(["ip", "-n", namespace, "addr", "add", address, "dev", interface])
        }
    }

    /// Writes a sysctl of a namespace (`net/ipv6/conf/eth0/accept_dad`) from a thread that joins the namespace, so the
    /// lab needs no `sysctl` program (a minimal Debian has none).
    public static func writeSysctl(in namespace: String, _ key: String, _ value: String) throws(CommandError) {
        final class Job: @unchecked Sendable {
            let namespace: String
            let path: String
            let value: String
            var failure: String?
            init(namespace: String, path: String, value: String) {
                self.namespace = namespace
                self.path = path
                self.value = value
            }
        }
        let job = Job(namespace: namespace, path: "/proc/sys/\(key)", value: value)
        var thread = pthread_t()
        let box = Unmanaged.passRetained(job).toOpaque()
        pthread_create(
            &thread, nil,
            { argument in
                let job = Unmanaged<Job>.fromOpaque(argument!).takeRetainedValue()
                let handle = open("/run/netns/\(job.namespace)", O_RDONLY | O_CLOEXEC)
                guard handle >= 0, setns(handle, vigil_clone_newnet()) == 0 else {
                    job.failure = "cannot enter namespace \(job.namespace): \(String(cString: strerror(errno)))"
                    if handle >= 0 { Glibc.close(handle) }
                    return nil
                }
                Glibc.close(handle)
                let fd = open(job.path, O_WRONLY | O_CLOEXEC)
                guard fd >= 0 else {
                    job.failure = "cannot open \(job.path): \(String(cString: strerror(errno)))"
                    return nil
                }
                let bytes = Array(job.value.utf8)
                if Glibc.write(fd, bytes, bytes.count) != bytes.count {
                    job.failure = "cannot write \(job.path): \(String(cString: strerror(errno)))"
                }
                Glibc.close(fd)
                return nil
            }, box)
        pthread_join(thread, nil)
        if let failure = job.failure { throw CommandError(arguments: ["sysctl", key], reason: failure) }
    }

    @discardableResult
    public func run(
        _ namespace: String, _ arguments: [String], check: Bool = true
    ) throws(CommandError)
        -> CommandResult
    {
        try Command.run(["ip", "netns", "exec", namespace] + arguments, check: check)
    }

    /// Starts a command in a namespace in the background; it is killed when the lab closes.
    public func start(
        _ namespace: String, _ arguments: [String], log name: String
    ) throws(CommandError)
        -> BackgroundProcess
    {
        let process = try BackgroundProcess(
            ["ip", "netns", "exec", namespace] + arguments, logPath: path(name + ".log"))
        processes.append(process)
        return process
    }

    public func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// Writes a file in the lab's directory; returns its path.
    @discardableResult
    public func write(_ name: String, _ contents: String) throws(CommandError) -> String {
        let target = path(name)
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CommandError(arguments: ["write", target], reason: String(cString: strerror(errno)))
        }
        var text = contents
        text.withUTF8 { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
        Glibc.close(fd)
        return target
    }

    /// The addresses on an interface, as the kernel lists them (`198.51.100.1/24`, `2001:db8::1/64`, ...).
    public func addresses(_ namespace: String, _ interface: String = "eth0") -> [String] {
        guard let output = try? run(namespace, ["ip", "-o", "addr", "show", "dev", interface], check: false).output
        else { return [] }
        var result = [String]()
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            if let index = words.firstIndex(where: { $0 == "inet" || $0 == "inet6" }), index + 1 < words.count {
                result.append(String(words[index + 1]))
            }
        }
        return result
    }

    /// Whether `address` (without a prefix length) is on the interface.
    public func holds(_ namespace: String, _ address: String, interface: String = "eth0") -> Bool {
        addresses(namespace, interface).contains { $0.split(separator: "/").first.map(String.init) == address }
    }

    /// Polls `condition` every `interval` until it holds; returns how long that took, or nil after `timeout`.
    @discardableResult
    public static func wait(
        timeout: Duration, interval: Duration = .milliseconds(20), _ condition: () -> Bool
    ) -> Duration? {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < timeout {
            if condition() { return clock.now - start }
            let (seconds, attoseconds) = interval.components
            usleep(useconds_t(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
        }
        return condition() ? clock.now - start : nil
    }

    /// Namespaces named `vg<pid>x<n>-...` whose process is gone are leftovers of a crashed run.
    static func sweepStaleNamespaces() {
        guard let list = try? Command.run(["ip", "netns", "list"], check: false).output else { return }
        for line in list.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix("vg") else { continue }
            let digits = name.dropFirst(2).prefix { $0.isNumber }
            guard let pid = Int32(digits), name.dropFirst(2 + digits.count).hasPrefix("x") else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { _ = try? Command.run(["ip", "netns", "del", name], check: false) }
        }
    }
}

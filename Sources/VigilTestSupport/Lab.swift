import Foundation

/// A network of Linux network namespaces for one test, built per LAB.md: every name carries a per-run prefix,
/// every address is from the documentation ranges, nothing touches the root namespace, and everything is removed
/// when the lab is closed (also when the test fails).
public final class Lab: @unchecked Sendable {
    /// Why the lab cannot run here, or nil when it can.
    public static let unavailableReason: String? = {
        if getuid() != 0 { return "lab tests need root (network namespaces)" }
        for tool in ["ip", "nft", "tshark", "keepalived"] where !Command.exists(tool) {
            return "lab tests need `\(tool)`; run scripts/test, which installs it"
        }
        return nil
    }()

    /// Whether lab tests must run (CI sets VIGIL_REQUIRE_LAB=1): then a missing requirement fails them.
    public static let required = ProcessInfo.processInfo.environment["VIGIL_REQUIRE_LAB"] == "1"

    /// For `.enabled(if:)`: run when possible, and also when required (so the test fails saying why).
    public static var shouldRun: Bool { unavailableReason == nil || required }

    /// The documentation subnets the lab uses; a lab refuses to start if the root namespace has any of them.
    public static let subnets = ["198.51.100.", "203.0.113.", "2001:db8:"]

    private static let counter = Counter()

    public let prefix: String
    public let directory: String
    private var namespaces: [String] = []
    private var processes: [BackgroundProcess] = []
    private let lock = NSLock()

    /// Opens a lab, or throws why it cannot (which fails the test).
    public init(_ name: String = "lab") throws {
        if let reason = Self.unavailableReason { throw LabError.unavailable(reason) }
        prefix = "vg\(getpid())x\(Self.counter.next())"
        directory = NSTemporaryDirectory() + "vigil-\(prefix)-\(name)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.sweepStaleNamespaces()
        let rootAddresses = try Command.run(["ip", "-o", "addr", "show"]).output
        for subnet in Self.subnets where rootAddresses.contains(" \(subnet)") {
            throw LabError.unavailable(
                "the root namespace already has an address in \(subnet)*; the lab refuses to run")
        }
    }

    deinit { close() }

    /// Removes every namespace and process of this lab.
    public func close() {
        lock.lock()
        let running = processes
        let created = namespaces
        processes.removeAll()
        namespaces.removeAll()
        lock.unlock()
        for process in running { process.stop(signal: SIGKILL, timeout: .seconds(2)) }
        for namespace in created.reversed() {
            // Processes left in the namespace would keep its interfaces alive; kill them first.
            if let pids = try? Command.run(["ip", "netns", "pids", namespace], check: false).output {
                for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
            }
            _ = try? Command.run(["ip", "netns", "del", namespace], check: false)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Creates a namespace `<prefix>-<name>` with loopback up, and returns its full name.
    @discardableResult
    public func namespace(_ name: String) throws -> String {
        let full = "\(prefix)-\(name)"
        try Command.run(["ip", "netns", "add", full])
        lock.lock()
        namespaces.append(full)
        lock.unlock()
        try Command.run(["ip", "-n", full, "link", "set", "lo", "up"])
        return full
    }

    /// Creates a veth pair entirely inside namespaces: `name` in `namespace`, `peerName` in `peerNamespace`.
    public func veth(_ name: String, in namespace: String, peer peerName: String, in peerNamespace: String) throws {
        try Command.run([
            "ip", "link", "add", name, "netns", namespace, "type", "veth", "peer", "name", peerName, "netns",
            peerNamespace,
        ])
        try Command.run(["ip", "-n", namespace, "link", "set", name, "up"])
        try Command.run(["ip", "-n", peerNamespace, "link", "set", peerName, "up"])
    }

    /// Runs a command inside a namespace.
    @discardableResult
    public func run(_ namespace: String, _ arguments: [String], check: Bool = true) throws -> CommandResult {
        try Command.run(["ip", "netns", "exec", namespace] + arguments, check: check)
    }

    /// Starts a command inside a namespace in the background; it is killed when the lab closes.
    public func start(_ namespace: String, _ arguments: [String], log name: String) throws -> BackgroundProcess {
        let process = try BackgroundProcess(
            ["ip", "netns", "exec", namespace] + arguments, logPath: "\(directory)/\(name).log")
        lock.lock()
        processes.append(process)
        lock.unlock()
        return process
    }

    /// Writes a file in the lab's directory and returns its path.
    @discardableResult
    public func write(_ name: String, _ contents: String) throws -> String {
        let path = "\(directory)/\(name)"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Namespaces named `vg<pid>...` whose process is gone are left over from a crashed run: remove them.
    static func sweepStaleNamespaces() throws {
        let list = try Command.run(["ip", "netns", "list"], check: false).output
        for line in list.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix("vg") else { continue }
            // Our names are vg<pid>x<n>-...: the namespace is stale when that process is gone.
            let digits = name.dropFirst(2).prefix { $0.isNumber }
            guard let pid = Int32(digits), name.dropFirst(2 + digits.count).hasPrefix("x") else { continue }
            let owned = kill(pid, 0) == 0
            if !owned { _ = try? Command.run(["ip", "netns", "del", name], check: false) }
        }
    }

    final class Counter: @unchecked Sendable {
        private var value = 0
        private let lock = NSLock()
        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}

public enum LabError: Error, CustomStringConvertible {
    case unavailable(String)
    case timeout(String)

    public var description: String {
        switch self {
        case .unavailable(let reason): "the lab cannot run: \(reason)"
        case .timeout(let what): "timed out waiting for \(what)"
        }
    }
}

/// The package's root directory and its built binaries.
public enum Package {
    public static let root: String = {
        var path = #filePath
        for _ in 0..<3 { path = (path as NSString).deletingLastPathComponent }
        return path
    }()

    /// The `vigil` binary `swift build` made (scripts/test builds it before the tests run).
    public static func vigilBinary() throws -> String {
        for configuration in ["debug", "release"] {
            let path = "\(root)/.build/\(configuration)/vigil"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw LabError.unavailable("no vigil binary in .build; run `swift build` first (scripts/test does)")
    }
}

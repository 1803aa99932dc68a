#if canImport(Glibc)
    import Glibc
#endif

/// What validation may ask about the machine the configuration will run on. Every answer may be "don't know"
/// (nil), and then the check is skipped: `Configuration` can be validated anywhere, and `vigil -t` validates
/// against the machine it runs on.
public protocol ValidationEnvironment: Sendable {
    /// Whether a network interface of that name exists, or nil when unknown.
    func interfaceExists(_ name: String) -> Bool?
    /// Where a script's program is and whether it is safe to run, or `.unknown`.
    func program(_ name: String) -> ProgramStatus
    /// Whether a user of that name exists, or nil when unknown.
    func userExists(_ name: String) -> Bool?
    /// Whether the kernel has the IPVS load balancer, or nil when unknown.
    func kernelHasIPVS() -> Bool?
    /// Why PCRE2 refuses an HTTP check's `regex` (nil: it compiles, or nobody can tell).
    func patternError(_ pattern: String, options: UInt32) -> String?
}

extension ValidationEnvironment {
    public func kernelHasIPVS() -> Bool? { nil }
    public func patternError(_ pattern: String, options: UInt32) -> String? { nil }
}

public enum ProgramStatus: Hashable, Sendable {
    case unknown
    case notFound
    /// Found at `path`. `unsafeComponent` names the first part of the path (the file or one of its directories)
    /// that a user other than root can write to, if any.
    case found(path: String, unsafeComponent: String?)
}

/// Knows nothing: validation of the configuration alone.
public struct OfflineEnvironment: ValidationEnvironment {
    public init() {}
    public func interfaceExists(_ name: String) -> Bool? { nil }
    public func program(_ name: String) -> ProgramStatus { .unknown }
    public func userExists(_ name: String) -> Bool? { nil }
}

/// Asks the running system: the interfaces of the current network namespace, the file system, the user database.
public struct LocalEnvironment: ValidationEnvironment {
    /// The interfaces of this network namespace, read once.
    private let interfaces: Set<String>

    public init() {
        var names = Set<String>()
        if let list = if_nameindex() {
            var entry = list
            while entry.pointee.if_index != 0, let name = entry.pointee.if_name {
                names.insert(String(cString: name))
                entry += 1
            }
            if_freenameindex(list)
        }
        interfaces = names
    }

    public func interfaceExists(_ name: String) -> Bool? {
        interfaces.contains(name)
    }

    public func userExists(_ name: String) -> Bool? {
        getpwnam(name) != nil
    }

    public func kernelHasIPVS() -> Bool? {
        access("/proc/net/ip_vs", F_OK) == 0
    }

    public func program(_ name: String) -> ProgramStatus {
        var candidates = [String]()
        if name.contains("/") {
            candidates = [name]
        } else {
            let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/sbin:/usr/bin:/sbin:/bin"
            candidates = path.split(separator: ":").map { "\($0)/\(name)" }
        }
        for candidate in candidates {
            guard access(candidate, X_OK) == 0 else { continue }
            guard let resolved = realpath(candidate, nil) else { continue }
            defer { free(resolved) }
            let path = String(cString: resolved)
            return .found(path: path, unsafeComponent: Self.firstUnsafeComponent(of: path))
        }
        return .notFound
    }

    /// The file itself or the first directory above it that a non-root user may change: owned by someone else,
    /// or writable by group or others (a sticky directory such as /tmp still lets others replace their own files).
    public static func firstUnsafeComponent(of path: String) -> String? {
        var component = path
        while true {
            var info = stat()
            if lstat(component, &info) == 0 {
                let writableByOthers = info.st_mode & (S_IWGRP | S_IWOTH) != 0
                if info.st_uid != 0 || writableByOthers { return component }
            }
            guard component != "/" else { return nil }
            guard let slash = component.lastIndex(of: "/") else { return nil }
            component = slash == component.startIndex ? "/" : String(component[..<slash])
        }
    }
}

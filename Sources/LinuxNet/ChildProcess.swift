import CLinux
import Glibc

/// A program Vigil runs (a tracking script, a notify script): in its own process group, with a clean
/// environment, optionally as another user, its output discarded. Its pidfd becomes readable when it ends, so the
/// event loop (or a worker waiting with a timeout) learns of the end without SIGCHLD.
public final class ChildProcess: @unchecked Sendable {
    public enum Ending: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var succeeded: Bool { self == .exited(0) }
        public var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
        }
    }

    public struct Credentials: Sendable, Equatable {
        public var uid: uid_t
        public var gid: gid_t

        public init(uid: uid_t, gid: gid_t) {
            self.uid = uid
            self.gid = gid
        }

        /// The user (and group, or the user's own group) by name, from the user database.
        public static func lookup(user: String, group: String? = nil) -> Credentials? {
            guard let entry = getpwnam(user) else { return nil }
            var gid = entry.pointee.pw_gid
            if let group {
                guard let groupEntry = getgrnam(group) else { return nil }
                gid = groupEntry.pointee.gr_gid
            }
            return Credentials(uid: entry.pointee.pw_uid, gid: gid)
        }
    }

    /// The environment scripts get: Vigil's own, without the loader and field-splitting overrides (`IFS`,
    /// `LD_PRELOAD`, `LD_LIBRARY_PATH`) a hostile environment could use to change what a script does.
    public static let cleanEnvironment: [String] = {
        var result = [String]()
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            let name = text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? text
            if !["IFS", "LD_PRELOAD", "LD_LIBRARY_PATH"].contains(name) { result.append(text) }
            entry += 1
        }
        return result
    }()

    public let pid: pid_t
    public let pidfd: FileDescriptor
    public private(set) var ending: Ending?

    /// Starts `arguments[0]` (a full path) with `arguments`.
    public init(
        _ arguments: [String], environment: [String] = ChildProcess.cleanEnvironment, credentials: Credentials? = nil,
        output: Int32 = -1
    ) throws(SystemError) {
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        let uid = credentials.map { Int32(bitPattern: $0.uid) } ?? -1
        let gid = credentials.map { Int32(bitPattern: $0.gid) } ?? -1
        let result = vigil_spawn(arguments[0], argv, envp, uid, gid, output)
        guard result > 0 else { throw SystemError("fork \(arguments[0])", errno: -result) }
        pid = result
        let fd = vigil_pidfd_open(result)
        guard fd >= 0 else {
            let code = vigil_errno()
            kill(-result, SIGKILL)
            var status: Int32 = 0
            waitpid(result, &status, 0)
            throw SystemError("pidfd_open", errno: code)
        }
        pidfd = FileDescriptor(fd)
    }

    /// Collects the exit status if the process has ended (never blocks).
    @discardableResult
    public func reap() -> Ending? {
        if let ending { return ending }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        ending =
            vigil_wifexited(status) != 0 ? .exited(vigil_wexitstatus(status)) : .signaled(vigil_wtermsig(status))
        return ending
    }

    /// Waits up to `timeout` for the end; nil if the process is still running then.
    public func wait(upTo timeout: Duration) -> Ending? {
        if let ending = reap() { return ending }
        var poll = pollfd(fd: pidfd.rawValue, events: Int16(POLLIN), revents: 0)
        let (seconds, attoseconds) = timeout.components
        let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        var result: Int32
        repeat { result = Glibc.poll(&poll, 1, milliseconds) } while result < 0 && vigil_errno() == EINTR
        return reap()
    }

    /// Leaves the process to finish on its own: a detached thread collects its exit status, so it never
    /// lingers as a zombie. Nothing may call `reap` afterwards.
    public func reapInBackground() {
        let box = UnsafeMutablePointer<pid_t>.allocate(capacity: 1)
        box.pointee = pid
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { argument in
                let box = argument!.assumingMemoryBound(to: pid_t.self)
                let pid = box.pointee
                box.deallocate()
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && vigil_errno() == EINTR {}
                return nil
            }, box)
        if created == 0 { pthread_detach(thread) } else { box.deallocate() }
    }

    /// SIGKILL to the process and everything it started in its group.
    public func killGroup(_ signal: Int32 = SIGKILL) {
        kill(-pid, signal)
    }
}

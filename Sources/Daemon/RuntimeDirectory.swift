import CLinux
import Glibc
import LinuxNet

/// Vigil's private runtime directory (`/run/vigil` unless told otherwise) and the files in it: pid files and
/// dumps are created with O_EXCL|O_NOFOLLOW and owner-only modes, never by following a planted symlink and never
/// under a predictable name in a world-writable directory.
public struct RuntimeDirectory: Sendable {
    public let path: String
    /// `--control-group`: this group may enter the directory (0710) and read status from the control sockets.
    public let readers: gid_t?

    public static let defaultPath = "/run/vigil"

    public init(path: String = RuntimeDirectory.defaultPath, readers: gid_t? = nil) {
        self.path = path
        self.readers = readers
    }

    public enum Failure: Error, CustomStringConvertible {
        case unsafe(String)
        case system(String, Int32)

        public var description: String {
            switch self {
            case .unsafe(let why): why
            case .system(let what, let code): "\(what): \(String(cString: strerror(code)))"
            }
        }
    }

    /// Creates the directory (mode 0700, or 0710 with the readers' group) if needed and refuses one that is not a
    /// real directory owned by us and closed to others.
    public func prepare() throws(Failure) {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw .system("cannot create \(path)", errno)
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { throw .system("cannot inspect \(path)", errno) }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw .unsafe("\(path) is not a directory (a symlink or file is in its place); remove it")
        }
        guard info.st_uid == geteuid() else { throw .unsafe("\(path) belongs to another user; remove it") }
        if let readers {
            if info.st_gid != readers && chown(path, uid_t.max, readers) != 0 {
                throw .system("cannot give \(path) to group \(readers)", errno)
            }
            if info.st_mode & 0o777 != 0o710 { chmod(path, 0o710) }
        } else if info.st_mode & 0o077 != 0 {
            chmod(path, 0o700)
        }
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Writes `contents` to `name` atomically: a fresh file created exclusively without following links, then
    /// renamed into place (rename replaces a planted symlink rather than writing through it).
    public func write(_ name: String, contents: String) throws(Failure) {
        try Self.writeAtomically(file(name), contents: contents, mode: 0o600)
    }

    public static func writeAtomically(_ target: String, contents: String, mode: mode_t) throws(Failure) {
        do {
            try SmallFile.replace(target, with: Array(contents.utf8), mode: mode)
        } catch {
            throw .system("cannot write \(target) (\(error.call))", error.errno)
        }
    }

    /// Creates a pid file that must not exist yet; a stale one (its process gone) is replaced, a live one is an
    /// error, and a symlink is refused rather than followed.
    public static func createPidFile(_ target: String, pid: Int32 = getpid()) throws(Failure) {
        var info = stat()
        if lstat(target, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFLNK {
                throw .unsafe("\(target) is a symbolic link; refusing to follow it. Remove it")
            }
            if let existing = readPid(target), existing != pid, kill(existing, 0) == 0 {
                throw .unsafe("\(target) names process \(existing), which is running; is Vigil already running?")
            }
            unlink(target)
        }
        let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system("cannot create pid file \(target)", errno) }
        defer { close(fd) }
        guard SmallFile.writeAll(fd, Array("\(pid)\n".utf8)) else {
            throw .system("cannot write pid file \(target)", errno)
        }
    }

    public static func readPid(_ target: String) -> Int32? {
        SmallFile.text(target, limit: 32, followSymlinks: false).flatMap { Int32($0.filter(\.isNumber)) }
    }

    /// Removes a pid file if it is ours.
    public static func removePidFile(_ target: String) {
        if readPid(target) == getpid() { unlink(target) }
    }
}

import CLinux
import Glibc

/// Reading and writing the small files a daemon touches (tracked files, /proc and /sys entries, pid files, dumps,
/// scripts for nft) with one policy: opens never block (O_NONBLOCK) and never leak (O_CLOEXEC); reads stop at a
/// limit; symlinks are followed only where the file is the user's to name (a tracked file), never in Vigil's own
/// runtime directory; writes go on after short writes and EINTR; files Vigil creates are created exclusively, not
/// through a planted link, and moved into place whole.
public enum SmallFile {
    /// The file's bytes, up to `limit`; nil when it cannot be opened or read.
    public static func read(_ path: String, limit: Int = 4096, followSymlinks: Bool = true) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followSymlinks ? 0 : O_NOFOLLOW))
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: min(limit, 65536))
        while bytes.count < limit {
            let count = Glibc.read(fd, &buffer, min(buffer.count, limit - bytes.count))
            if count < 0 && vigil_errno() == EINTR { continue }
            if count < 0 { return bytes.isEmpty ? nil : bytes }
            if count == 0 { break }
            bytes += buffer.prefix(count)
        }
        return bytes
    }

    /// The file as text (invalid UTF-8 replaced), up to `limit` bytes; nil when it cannot be read.
    public static func text(_ path: String, limit: Int = 4096, followSymlinks: Bool = true) -> String? {
        read(path, limit: limit, followSymlinks: followSymlinks).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The first whitespace-separated word of the file as an integer; nil when the file is missing or holds none.
    public static func firstInteger(_ path: String) -> Int? {
        guard let text = text(path, limit: 64) else { return nil }
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).first.flatMap { Int($0) }
    }

    /// A tracked file's value as keepalived reads it (`strtol(text, NULL, 0)` on its first 127 bytes): leading
    /// blanks skipped, a sign, 0x for hex, a leading 0 for octal, digits as far as they go; none is 0. nil when
    /// the file cannot be read.
    public static func trackedValue(_ path: String) -> Int? {
        guard let bytes = read(path, limit: 127) else { return nil }
        var index = bytes.startIndex
        while index < bytes.endIndex, [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d].contains(bytes[index]) { index += 1 }
        var negative = false
        if index < bytes.endIndex, bytes[index] == 0x2d || bytes[index] == 0x2b {
            negative = bytes[index] == 0x2d
            index += 1
        }
        var radix = 10
        if index + 1 < bytes.endIndex, bytes[index] == 0x30, bytes[index + 1] | 0x20 == 0x78 {
            radix = 16
            index += 2
        } else if index < bytes.endIndex, bytes[index] == 0x30 {
            radix = 8
        }
        var value = 0
        while index < bytes.endIndex {
            let byte = bytes[index] | 0x20
            let digit: Int
            switch byte {
            case 0x30...0x39: digit = Int(byte - 0x30)
            case 0x61...0x66: digit = Int(byte - 0x61) + 10
            default: digit = 99
            }
            guard digit < radix else { break }
            let (next, overflow) = value.multipliedReportingOverflow(by: radix)
            guard !overflow else { break }
            value = next + digit
            index += 1
        }
        return negative ? -value : value
    }

    /// Writes all of `bytes` to `fd`, going on after short writes and EINTR.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 && vigil_errno() == EINTR { continue }
                if written <= 0 { return false }
                offset += written
            }
            return true
        }
    }

    /// The names in a directory (without . and ..); empty when it cannot be read.
    public static func directoryEntries(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names = [String]()
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// A small text file's first word (a sysctl's value), or nil.
    public static func word(_ path: String) -> String? {
        text(path, limit: 256)?.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).first.map(String.init)
    }

    /// Writes into an existing file (a sysctl, /proc/sys/kernel/core_pattern), following no link.
    public static func overwrite(_ path: String, _ text: String) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw SystemError("open \(path)", errno: vigil_errno()) }
        defer { close(fd) }
        guard writeAll(fd, Array(text.utf8)) else { throw SystemError("write \(path)", errno: vigil_errno()) }
    }

    /// Replaces `path` with `bytes` whole: a fresh file created exclusively without following links, written, then
    /// renamed into place (rename replaces a planted symlink rather than writing through it).
    public static func replace(_ path: String, with bytes: [UInt8], mode: mode_t = 0o600) throws(SystemError) {
        let temporary = "\(path).\(getpid()).tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError("create \(temporary)", errno: vigil_errno()) }
        let written = writeAll(fd, bytes)
        let error = vigil_errno()
        close(fd)
        guard written else {
            unlink(temporary)
            throw SystemError("write \(temporary)", errno: error)
        }
        guard rename(temporary, path) == 0 else {
            let error = vigil_errno()
            unlink(temporary)
            throw SystemError("rename to \(path)", errno: error)
        }
    }
}

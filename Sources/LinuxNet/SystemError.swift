import CLinux
import Glibc

/// A failed system call: which one, and errno.
public struct SystemError: Error, Hashable, Sendable, CustomStringConvertible {
    public var call: String
    public var errno: Int32

    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(String(cString: strerror(errno))) (errno \(errno))" }

    public var wouldBlock: Bool { errno == EAGAIN || errno == EWOULDBLOCK }
}

/// The one way LinuxNet calls the kernel: retries on EINTR, turns -1 into a typed error.
@inline(__always)
public func system<T: FixedWidthInteger>(_ call: @autoclosure () -> String, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = vigil_errno()
        if code == EINTR { continue }
        // The call's name is only built on failure: an advert's send must not format a string.
        throw SystemError(call(), errno: code)
    }
}

/// An owned file descriptor, closed when the owner is done with it.
public final class FileDescriptor: @unchecked Sendable {
    public private(set) var rawValue: Int32

    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public func close() {
        guard rawValue >= 0 else { return }
        Glibc.close(rawValue)
        rawValue = -1
    }

    deinit { close() }
}

/// Sets an integer socket option.
public func setSocketOption(
    _ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ label: String
)
    throws(SystemError)
{
    var value = value
    _ = try system("setsockopt(\(label))") {
        setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }
}

/// The CLOCK_MONOTONIC time in nanoseconds, the clock timerfd and the pure code's `MonotonicTime` share.
public func monotonicNanoseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}

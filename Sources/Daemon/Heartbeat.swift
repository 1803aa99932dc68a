import Glibc
import LinuxNet
import VRRP

/// A child process's beat for the supervisor's watchdog relay: one byte on an inherited socket, written from the
/// process's event loop, so it stops when the loop stops turning.
public final class Heartbeat {
    let descriptor: Int32
    let interval: Duration

    /// `--heartbeat-fd FD --heartbeat-ms MS`, as the supervisor passes them.
    public init(descriptor: Int32, interval: Duration) {
        self.descriptor = descriptor
        self.interval = interval
    }

    public func start(on loop: EventLoop) {
        beat(loop)
    }

    private func beat(_ loop: EventLoop) {
        var byte: UInt8 = 1
        _ = write(descriptor, &byte, 1)  // nonblocking; a full socket means the supervisor is behind, not us
        loop.schedule(at: loop.now + MonotonicTime(interval).nanoseconds) { [self] in beat(loop) }
    }
}

/// A callback's label for the event loop's longest-callback record: the thing itself in debug builds, nothing in
/// release builds (no string is built for every timer armed).
@inline(__always)
func debugLabel(_ thing: some Any) -> String {
    #if DEBUG
        "\(thing)"
    #else
        ""
    #endif
}

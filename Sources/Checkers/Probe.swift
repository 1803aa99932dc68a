import CLinux
import Glibc
import LinuxNet

/// One check in flight on the checker's event loop: a descriptor, a deadline, and a completion called exactly once.
/// Subclasses speak the protocol; this class owns the descriptor, the timer and the ending. Nothing here blocks.
public class Probe {
    let loop: EventLoop
    private var completion: ((CheckResult) -> Void)?
    private var deadline: EventLoop.TimerID?
    var fd: Int32 = -1
    private var registered = false

    init(loop: EventLoop, timeout: Duration, completion: @escaping (CheckResult) -> Void) {
        self.loop = loop
        self.completion = completion
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        deadline = loop.schedule(at: loop.now + nanoseconds) { [weak self] in
            self?.deadline = nil
            self?.timedOut()
        }
    }

    /// Called when the deadline passes; by default the check fails.
    func timedOut() {
        finish(.failed("timed out"))
    }

    /// Watches `fd` for `events`, calling `ready` when it is.
    func watch(_ events: UInt32) {
        guard fd >= 0 else { return }
        if registered {
            loop.change(fd, events: events)
        } else {
            do {
                try loop.add(fd, events: events) { [weak self] in self?.ready() }
                registered = true
            } catch {
                finish(.failed("cannot watch the socket: \(error)"))
            }
        }
    }

    /// The descriptor is ready for what was asked.
    func ready() {}

    /// Closes the descriptor (keeping the probe going, for a protocol that opens another).
    func closeDescriptor() {
        if fd >= 0 {
            if registered { loop.remove(fd) }
            registered = false
            close(fd)
            fd = -1
        }
    }

    /// Ends the check: closes everything and reports, once.
    func finish(_ result: CheckResult) {
        guard let completion else { return }
        self.completion = nil
        if let deadline { loop.cancel(deadline) }
        deadline = nil
        cleanUp()
        closeDescriptor()
        completion(result)
    }

    /// Releases what a subclass holds besides the descriptor.
    func cleanUp() {}

    /// Stops the check without reporting (the checker is going away).
    public func cancel() {
        completion = nil
        if let deadline { loop.cancel(deadline) }
        deadline = nil
        cleanUp()
        closeDescriptor()
    }

    public var finished: Bool { completion == nil }
}

/// A connected, non-blocking socket: starts the connection and calls `connected` once it is up.
public class ConnectingProbe: Probe {
    let target: CheckTarget
    private var connecting = false

    init(target: CheckTarget, loop: EventLoop, completion: @escaping (CheckResult) -> Void) {
        self.target = target
        super.init(loop: loop, timeout: target.timeout, completion: completion)
    }

    func connect(type: Int32) {
        switch openSocket(target, type: type) {
        case .failure(let result):
            finish(result)
            return
        case .success(let descriptor):
            fd = descriptor
        }
        if type == Int32(SOCK_STREAM.rawValue) {
            // Closed with a reset, as HAProxy's checks are: no FIN exchange, and no TIME_WAIT socket left on the
            // balancer for every check (a thousand a second would hold tens of thousands of them).
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        let address = InternetSocketAddress(target.address, port: target.port)
        let result = address.withPointer { Glibc.connect(fd, $0, $1) }
        if result == 0 {
            connected()
            return
        }
        let code = vigil_errno()
        guard code == EINPROGRESS else {
            finish(.failed("connection to \(target.endpoint) failed: \(errorText(code))"))
            return
        }
        connecting = true
        watch(EventLoop.writable)
    }

    override func ready() {
        guard connecting else {
            readyAfterConnect()
            return
        }
        connecting = false
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
        guard code == 0 else {
            finish(.failed("connection to \(target.endpoint) failed: \(errorText(code))"))
            return
        }
        connected()
    }

    /// The connection is up.
    func connected() {}

    /// The descriptor is ready, after the connection.
    func readyAfterConnect() {}
}

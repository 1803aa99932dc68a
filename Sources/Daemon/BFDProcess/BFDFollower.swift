import LinuxNet
import Logging

/// How the VRRP and checker processes follow the BFD process's sessions: connected to its event socket, they say
/// who they are, hear every session they follow at once, then each change. When the BFD process is not there yet
/// (or restarts), they try again every second, keeping the states they last heard.
final class BFDFollower {
    let path: String
    let role: String
    let loop: EventLoop
    let logger: Logger
    let handler: ([BFDEvent]) -> Void
    private var connection: FileDescriptor?
    private var retry: EventLoop.TimerID?
    private var stopped = false
    private var warned = false

    init(path: String, role: String, loop: EventLoop, logger: Logger, handler: @escaping ([BFDEvent]) -> Void) {
        self.path = path
        self.role = role
        self.loop = loop
        self.logger = logger
        self.handler = handler
        connect()
    }

    func stop() {
        stopped = true
        if let retry { loop.cancel(retry) }
        retry = nil
        disconnect()
    }

    private func connect() {
        guard !stopped else { return }
        do {
            let connection = try LocalMessages.connect(path: path)
            guard LocalMessages.send(role + "\n", on: connection) else { throw SystemError("send", errno: 0) }
            try loop.add(connection.rawValue, label: "bfd events") { [unowned self] in readable() }
            self.connection = connection
            logger.info("Following the BFD process's sessions")
            warned = false
        } catch {
            if !warned {
                logger.info("The BFD process is not answering yet (\(error)); trying every second")
                warned = true
            }
            scheduleRetry()
        }
    }

    private func scheduleRetry() {
        guard !stopped, retry == nil else { return }
        retry = loop.schedule(at: loop.now + 1_000_000_000, label: "bfd follow") { [unowned self] in
            retry = nil
            connect()
        }
    }

    private func disconnect() {
        guard let connection else { return }
        loop.remove(connection.rawValue)
        connection.close()
        self.connection = nil
    }

    private func readable() {
        guard let connection else { return }
        while true {
            switch LocalMessages.receive(on: connection) {
            case .message(let text):
                handler(BFDEvent.parse(text))
            case .nothing:
                return
            case .closed:
                logger.warning("The BFD process closed its event socket; following again when it is back")
                disconnect()
                scheduleRetry()
                return
            }
        }
    }
}

import CLinux
import Glibc

/// A minimal SMTP client for alerts, as keepalived speaks it: HELO, MAIL FROM, one RCPT TO per address, DATA,
/// QUIT. Blocking, with a timeout on the connection and on every reply; run it off the event loop.
public struct SMTPClient: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var stage: String
        public var reason: String
        public var description: String { "\(stage): \(reason)" }
    }

    public var host: String
    public var port: UInt16
    public var timeout: Duration
    public var heloName: String

    public init(host: String, port: UInt16, timeout: Duration, heloName: String) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.heloName = heloName
    }

    /// Sends one message; `data` is the headers and body, without the final dot.
    public func send(from: String, to recipients: [String], data: String) throws(Failure) {
        let fd = try connect()
        defer { close(fd) }
        var reader = LineReader(fd: fd, timeout: timeout)
        try expect(&reader, 220, "greeting")
        try command(fd, &reader, "HELO \(heloName)", 250)
        try command(fd, &reader, "MAIL FROM:<\(from)>", 250)
        for recipient in recipients { try command(fd, &reader, "RCPT TO:<\(recipient)>", 250) }
        try command(fd, &reader, "DATA", 354)
        // Dot-stuffing: a line that starts with "." gets another.
        let stuffed = data.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasPrefix(".") ? "." + $0 : String($0)
        }.joined(separator: "\r\n")
        try write(fd, stuffed + "\r\n.\r\n", stage: "DATA")
        try expect(&reader, 250, "message")
        try? command(fd, &reader, "QUIT", 221)
    }

    private func connect() throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw Failure(stage: "resolve \(host)", reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(result) }
        var lastError: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            entry = current.pointee.ai_next
            let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            let fd = socket(current.pointee.ai_family, type, 0)
            guard fd >= 0 else { continue }
            if Glibc.connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0
                || vigil_errno() == EINPROGRESS
            {
                var poll = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if Glibc.poll(&poll, 1, milliseconds(timeout)) == 1 {
                    var code: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
                    if code == 0 { return fd }
                    lastError = code
                } else {
                    lastError = ETIMEDOUT
                }
            } else {
                lastError = vigil_errno()
            }
            close(fd)
        }
        throw Failure(stage: "connect to \(host):\(port)", reason: String(cString: strerror(lastError)))
    }

    private func command(_ fd: Int32, _ reader: inout LineReader, _ line: String, _ code: Int) throws(Failure) {
        try write(fd, line + "\r\n", stage: line)
        try expect(&reader, code, line)
    }

    private func expect(_ reader: inout LineReader, _ code: Int, _ stage: String) throws(Failure) {
        // Multi-line replies repeat the code with "-"; the last has a space.
        while true {
            guard let line = reader.readLine() else {
                throw Failure(stage: stage, reason: "no reply within \(timeout) (or the server closed the connection)")
            }
            guard line.count >= 3, let got = Int(line.prefix(3)) else {
                throw Failure(stage: stage, reason: "unreadable reply '\(line.prefix(80))'")
            }
            if line.dropFirst(3).first == "-" { continue }
            guard got == code else { throw Failure(stage: stage, reason: "server said '\(line.prefix(200))'") }
            return
        }
    }

    private func write(_ fd: Int32, _ text: String, stage: String) throws(Failure) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            var poll = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard Glibc.poll(&poll, 1, milliseconds(timeout)) == 1 else {
                throw Failure(stage: stage, reason: "cannot send within \(timeout)")
            }
            let written = bytes.withUnsafeMutableBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if vigil_errno() == EINTR || vigil_errno() == EAGAIN { continue }
                throw Failure(stage: stage, reason: String(cString: strerror(vigil_errno())))
            }
            offset += written
        }
    }
}

func milliseconds(_ duration: Duration) -> Int32 {
    let (seconds, attoseconds) = duration.components
    return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
}

/// Reads CRLF lines from a socket with a timeout per read, never holding more than 64 KiB of one line.
struct LineReader {
    let fd: Int32
    let timeout: Duration
    var buffer = [UInt8]()

    init(fd: Int32, timeout: Duration) {
        self.fd = fd
        self.timeout = timeout
    }

    mutating func readLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0a) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if line.last == 0x0d { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard buffer.count < 65536 else { return nil }
            var poll = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard Glibc.poll(&poll, 1, milliseconds(timeout)) == 1 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 {
                if count < 0 && (vigil_errno() == EINTR || vigil_errno() == EAGAIN) { continue }
                return nil
            }
            buffer += chunk[0..<count]
        }
    }
}

import Checksums
import CLinux
import Glibc
import HealthCheck
import LinuxNet

/// TCP_CHECK: the check passes when the connection is accepted.
public final class TCPProbe: ConnectingProbe {
    public static func start(
        _ target: CheckTarget, loop: EventLoop, completion: @escaping (CheckResult) -> Void
    ) -> Probe {
        let probe = TCPProbe(target: target, loop: loop, completion: completion)
        probe.connect(type: Int32(SOCK_STREAM.rawValue))
        return probe
    }

    override func connected() {
        finish(.ok("TCP connection to \(target.endpoint) success"))
    }
}

/// A TLS session over a probe's socket, through the system's libssl.
public final class TLSContext: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer

    /// nil when libssl cannot be loaded or the files cannot be read.
    public init?(certificateAuthority: String?, certificate: String?, key: String?) {
        guard vigil_tls_available() != 0, let raw = vigil_tls_context(certificateAuthority, certificate, key) else {
            return nil
        }
        self.raw = raw
    }

    deinit { vigil_tls_context_free(raw) }
}

/// A conversation over a stream socket, optionally in TLS: bytes out, bytes in, bounded.
public class StreamConversation: ConnectingProbe {
    let tls: TLSContext?
    let serverName: String?
    private var session: UnsafeMutableRawPointer?
    private var handshaking = false
    private var outgoing = [UInt8]()
    /// One read buffer for every conversation: they all run on the checker's single loop thread, and each read is
    /// handed on before the next.
    nonisolated(unsafe) static let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16)

    init(
        target: CheckTarget, tls: TLSContext?, serverName: String?, loop: EventLoop,
        completion: @escaping (CheckResult) -> Void
    ) {
        self.tls = tls
        self.serverName = serverName
        super.init(target: target, loop: loop, completion: completion)
    }

    override func connected() {
        if let tls {
            session = vigil_tls_session(tls.raw, fd, serverName)
            guard session != nil else {
                finish(.failed("cannot start TLS with \(target.endpoint)"))
                return
            }
            handshaking = true
            handshake()
        } else {
            opened()
        }
    }

    private func handshake() {
        let result = vigil_tls_handshake(session)
        switch result {
        case 1:
            handshaking = false
            opened()
        case -2: watch(EventLoop.readable)
        case -3: watch(EventLoop.writable)
        default: finish(.failed("TLS handshake with \(target.endpoint) failed"))
        }
    }

    /// The connection (and TLS) is up: say something or wait for the server.
    func opened() {}

    /// Queues bytes to send and sends what the socket takes.
    func send(_ bytes: [UInt8]) {
        outgoing += bytes
        flush()
    }

    private func flush() {
        while !outgoing.isEmpty {
            let count: Int = outgoing.withUnsafeBytes { raw in
                if let session {
                    Int(vigil_tls_write(session, raw.baseAddress, Int32(raw.count)))
                } else {
                    Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
                }
            }
            if count > 0 {
                outgoing.removeFirst(count)
                continue
            }
            if session == nil && count < 0 && (vigil_errno() == EAGAIN || vigil_errno() == EWOULDBLOCK) || count == -3 {
                watch(EventLoop.writable)
                return
            }
            if count == -2 {
                watch(EventLoop.readable)
                return
            }
            finish(.failed("cannot send to \(target.endpoint): \(session == nil ? errorText(vigil_errno()) : "TLS error")"))
            return
        }
        watch(EventLoop.readable)
    }

    override func readyAfterConnect() {
        if handshaking {
            handshake()
            return
        }
        if !outgoing.isEmpty {
            flush()
            if !outgoing.isEmpty || finished { return }
        }
        // Read what is there, in bounded pieces; each piece is handed on and forgotten.
        for _ in 0..<16 {
            let raw = Self.buffer
            let count: Int
            if let session {
                count = Int(vigil_tls_read(session, raw.baseAddress, Int32(raw.count)))
            } else {
                count = recv(fd, raw.baseAddress, raw.count, 0)
            }
            if count > 0 {
                received(UnsafeRawBufferPointer(rebasing: raw[0..<count]))
                if finished { return }
                continue
            }
            if count == 0 {
                closedByPeer()
                return
            }
            if session == nil && (vigil_errno() == EAGAIN || vigil_errno() == EWOULDBLOCK) || count == -2 {
                return
            }
            if count == -3 {
                watch(EventLoop.writable)
                return
            }
            let reason = session == nil ? errorText(vigil_errno()) : "TLS error"
            finish(.failed("cannot read from \(target.endpoint): \(reason)"))
            return
        }
    }

    /// Bytes arrived (valid only during the call).
    func received(_ bytes: UnsafeRawBufferPointer) {}

    /// The server closed the connection.
    func closedByPeer() {
        finish(.failed("\(target.endpoint) closed the connection"))
    }

    override func cleanUp() {
        if let session { vigil_tls_session_free(session) }
        session = nil
    }
}

/// HTTP_GET and SSL_GET: `GET path HTTP/1.0` for one URL; the status must be one of the accepted codes and, with a
/// digest, the MD5 of the body must match. The response is read through a bounded parser: a hostile head fails
/// the check; a body is streamed through MD5 and never kept.
public final class HTTPProbe: StreamConversation {
    public struct Request: Sendable, Equatable {
        public var path: String
        public var host: String
        public var statusCodes: [ClosedRange<Int>]
        public var digest: String?

        public init(path: String, host: String, statusCodes: [ClosedRange<Int>], digest: String?) {
            self.path = path
            self.host = host
            self.statusCodes = statusCodes
            self.digest = digest
        }
    }

    let request: Request
    private var status: Int?
    private var parser = HTTPResponseParser()
    private var md5 = MD5()

    public static func start(
        _ target: CheckTarget, request: Request, tls: TLSContext?, serverName: String?, loop: EventLoop,
        completion: @escaping (CheckResult) -> Void
    ) -> Probe {
        let probe = HTTPProbe(target: target, request: request, tls: tls, serverName: serverName, loop: loop,
            completion: completion)
        probe.connect(type: Int32(SOCK_STREAM.rawValue))
        return probe
    }

    init(
        target: CheckTarget, request: Request, tls: TLSContext?, serverName: String?, loop: EventLoop,
        completion: @escaping (CheckResult) -> Void
    ) {
        self.request = request
        super.init(target: target, tls: tls, serverName: serverName, loop: loop, completion: completion)
    }

    /// keepalived's request: HTTP/1.0, its User-Agent, and a Host header.
    public static func requestText(path: String, host: String) -> String {
        "GET \(path) HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: \(host)\r\n\r\n"
    }

    override func opened() {
        send(Array(Self.requestText(path: request.path, host: request.host).utf8))
    }

    override func received(_ bytes: UnsafeRawBufferPointer) {
        do {
            handle(try parser.feed(bytes))
        } catch {
            finish(.failed("HTTP response from \(target.endpoint) for \(request.path): \(error)"))
        }
    }

    override func closedByPeer() {
        do {
            handle(try parser.finish())
            if !finished { finish(.failed("HTTP response from \(target.endpoint) ended early")) }
        } catch {
            finish(.failed("HTTP response from \(target.endpoint) for \(request.path): \(error)"))
        }
    }

    private func handle(_ events: [HTTPResponseParser.Event]) {
        for event in events {
            switch event {
            case .status(let code):
                status = code
                let accepted = request.statusCodes.isEmpty ? [200...299] : request.statusCodes
                guard accepted.contains(where: { $0.contains(code) }) || request.digest == "" else {
                    finish(.failed("HTTP status code \(code) from \(target.endpoint) for \(request.path)"))
                    return
                }
                if request.digest == nil {
                    finish(.ok("HTTP status code success to \(target.endpoint) url \(request.path)"))
                    return
                }
            case .body(let bytes):
                md5.update(bytes)
            case .end:
                let digest = md5.finish()
                var result =
                    digest == request.digest?.lowercased()
                    ? CheckResult.ok("MD5 digest success to \(target.endpoint) url \(request.path)")
                    : .failed("MD5 digest error to \(target.endpoint) url \(request.path): got \(digest)")
                result.status = status
                result.digest = digest
                finish(result)
                return
            }
        }
    }
}

/// SMTP_CHECK: a 220 greeting, `HELO name` answered with 250, then QUIT. Reply lines are bounded.
public final class SMTPProbe: StreamConversation {
    static let maximumLine = 1024
    let heloName: String
    private var line = [UInt8]()
    private var step = 0

    public static func start(
        _ target: CheckTarget, heloName: String, loop: EventLoop, completion: @escaping (CheckResult) -> Void
    ) -> Probe {
        let probe = SMTPProbe(target: target, heloName: heloName, loop: loop, completion: completion)
        probe.connect(type: Int32(SOCK_STREAM.rawValue))
        return probe
    }

    init(target: CheckTarget, heloName: String, loop: EventLoop, completion: @escaping (CheckResult) -> Void) {
        self.heloName = heloName
        super.init(target: target, tls: nil, serverName: nil, loop: loop, completion: completion)
    }

    override func opened() { watch(EventLoop.readable) }

    override func received(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                let text = String(decoding: line, as: UTF8.self).trimmingSuffix("\r")
                line.removeAll(keepingCapacity: true)
                reply(text)
                if finished { return }
            } else {
                line.append(byte)
                if line.count > Self.maximumLine {
                    finish(.failed("SMTP reply line from \(target.endpoint) longer than \(Self.maximumLine) bytes"))
                    return
                }
            }
        }
    }

    private func reply(_ text: String) {
        // A multi-line reply ("250-...") goes on; its last line ("250 ...") counts.
        let bytes = Array(text.utf8)
        guard bytes.count >= 3, let code = Int(String(decoding: bytes.prefix(3), as: UTF8.self)) else {
            finish(.failed("malformed SMTP reply from \(target.endpoint): '\(text.prefix(80))'"))
            return
        }
        if bytes.count > 3 && bytes[3] == UInt8(ascii: "-") { return }
        switch step {
        case 0:
            guard code == 220 else {
                finish(.failed("SMTP greeting \(code) from \(target.endpoint)"))
                return
            }
            step = 1
            send(Array("HELO \(heloName)\r\n".utf8))
        default:
            guard code == 250 else {
                finish(.failed("SMTP HELO answered \(code) by \(target.endpoint)"))
                return
            }
            send(Array("QUIT\r\n".utf8))
            finish(.ok("SMTP connection to \(target.endpoint) success"))
        }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

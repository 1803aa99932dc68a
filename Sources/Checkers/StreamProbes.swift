import Checksums
import CLinux
import Glibc
import HealthCheck
import LinuxNet
import VigilConfig

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

    /// nil when libssl cannot be loaded or the files cannot be read (or the key's password is wrong).
    public init?(certificateAuthority: String?, certificate: String?, key: String?, password: String? = nil) {
        guard vigil_tls_available() != 0,
            let raw = vigil_tls_context(certificateAuthority, certificate, key, password)
        else {
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

/// HTTP_GET and SSL_GET: `GET path HTTP/1.x` for one URL; the status must be one of the accepted codes, with a
/// digest the MD5 of the body must match, and with a `regex` the body must match it (or not, with
/// `regex_no_match`). The response is read through a bounded parser: a hostile head fails the check; a body is
/// streamed through MD5 and the pattern and never kept.
public final class HTTPProbe: StreamConversation {
    public struct Request: Sendable, Equatable {
        public var path: String
        public var host: String
        public var statusCodes: [ClosedRange<Int>]
        public var digest: String?
        public var version: HTTPCheck.HTTPVersion
        public var regex: RegexCheck?

        public init(
            path: String, host: String, statusCodes: [ClosedRange<Int>], digest: String?,
            version: HTTPCheck.HTTPVersion = .http10, regex: RegexCheck? = nil
        ) {
            self.path = path
            self.host = host
            self.statusCodes = statusCodes
            self.digest = digest
            self.version = version
            self.regex = regex
        }
    }

    /// A URL's `regex` and its settings, described (the executor compiles the pattern once).
    public struct RegexCheck: Sendable, Hashable {
        public var pattern: String
        public var options: UInt32
        public var noMatch: Bool
        public var minimumOffset: Int
        public var maximumOffset: Int?

        public init(pattern: String, options: UInt32, noMatch: Bool, minimumOffset: Int, maximumOffset: Int?) {
            self.pattern = pattern
            self.options = options
            self.noMatch = noMatch
            self.minimumOffset = minimumOffset
            self.maximumOffset = maximumOffset
        }
    }

    let request: Request
    private var status: Int?
    private var parser = HTTPResponseParser()
    private var md5 = MD5()
    private var matcher: BodyMatcher?

    public static func start(
        _ target: CheckTarget, request: Request, pattern: BodyPattern? = nil, tls: TLSContext?, serverName: String?,
        loop: EventLoop, completion: @escaping (CheckResult) -> Void
    ) -> Probe {
        let probe = HTTPProbe(target: target, request: request, tls: tls, serverName: serverName, loop: loop,
            completion: completion)
        if let regex = request.regex, let pattern {
            probe.matcher = BodyMatcher(
                pattern: pattern, minimumOffset: regex.minimumOffset, maximumOffset: regex.maximumOffset)
        }
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

    /// keepalived's request: HTTP/1.0 (or 1.1), its User-Agent, `Connection: close` with 1.0C and 1.1, and a Host
    /// header.
    public static func requestText(path: String, host: String, version: HTTPCheck.HTTPVersion = .http10) -> String {
        let close = version == .http10 ? "" : "Connection: close\r\n"
        return
            "GET \(path) HTTP/\(version == .http11 ? "1.1" : "1.0")\r\nUser-Agent: KeepAliveClient\r\n\(close)Host: \(host)\r\n\r\n"
    }

    override func opened() {
        send(Array(Self.requestText(path: request.path, host: request.host, version: request.version).utf8))
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
                if request.digest == nil && matcher == nil {
                    finish(.ok("HTTP status code success to \(target.endpoint) url \(request.path)"))
                    return
                }
            case .body(let bytes):
                if request.digest != nil { md5.update(bytes) }
                if matcher != nil {
                    bytes.withUnsafeBytes { matcher?.feed($0) }
                    // Decided before the end, and nothing else to read the body for: done.
                    if let matcher, matcher.decided, request.digest == nil {
                        finish(regexResult(matched: matcher.matched))
                        return
                    }
                }
            case .end:
                var result = CheckResult.ok("HTTP status code success to \(target.endpoint) url \(request.path)")
                if request.digest != nil {
                    let digest = md5.finish()
                    result =
                        digest == request.digest?.lowercased()
                        ? CheckResult.ok("MD5 digest success to \(target.endpoint) url \(request.path)")
                        : .failed("MD5 digest error to \(target.endpoint) url \(request.path): got \(digest)")
                    result.digest = digest
                }
                if result.success, var matcher {
                    let digest = result.digest
                    result = regexResult(matched: matcher.finish())
                    result.digest = digest
                }
                result.status = status
                finish(result)
                return
            }
        }
    }

    private func regexResult(matched: Bool) -> CheckResult {
        guard let regex = request.regex else { return .ok() }
        return matched != regex.noMatch
            ? .ok("Regex match success to \(target.endpoint) url \(request.path)")
            : .failed(
                "Regex match failed to \(target.endpoint) url \(request.path): the body \(matched ? "matches" : "does not match") '\(regex.pattern)'"
            )
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

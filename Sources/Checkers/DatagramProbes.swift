import Checksums
import CLinux
import Glibc
import HealthCheck
import LinuxNet

/// UDP_CHECK and DNS_CHECK: one datagram out on a connected socket (so that an ICMP port unreachable comes back as
/// ECONNREFUSED), then the reply, if any, judged.
public final class DatagramProbe: ConnectingProbe {
    public enum Expectation: Sendable {
        /// UDP_CHECK: with a pattern, a reply matching it (and within the lengths) is needed; without, silence is
        /// success and only a refusal fails.
        case udp(requireReply: String?, minimumLength: Int, maximumLength: Int)
        /// DNS_CHECK: an answer to this query id, without error, with at least one record.
        case dns(id: UInt16)
    }

    let payload: [UInt8]
    let expectation: Expectation

    public static func start(
        _ target: CheckTarget, payload: [UInt8], expectation: Expectation, loop: EventLoop,
        completion: @escaping (CheckResult) -> Void
    ) -> Probe {
        let probe = DatagramProbe(
            target: target, payload: payload, expectation: expectation, loop: loop, completion: completion)
        probe.connect(type: Int32(SOCK_DGRAM.rawValue))
        return probe
    }

    init(
        target: CheckTarget, payload: [UInt8], expectation: Expectation, loop: EventLoop,
        completion: @escaping (CheckResult) -> Void
    ) {
        self.payload = payload
        self.expectation = expectation
        super.init(target: target, loop: loop, completion: completion)
    }

    override func connected() {
        let sent = payload.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        guard sent >= 0 else {
            finish(.failed("cannot send to \(target.endpoint): \(errorText(vigil_errno()))"))
            return
        }
        watch(EventLoop.readable)
    }

    override func timedOut() {
        if case .udp(nil, _, _) = expectation {
            finish(.ok("UDP check on \(target.endpoint): no refusal"))
        } else {
            finish(.failed("no reply from \(target.endpoint)"))
        }
    }

    override func readyAfterConnect() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else {
            let code = vigil_errno()
            if code == EAGAIN || code == EWOULDBLOCK { return }
            finish(.failed("\(target.endpoint): \(errorText(code))"))
            return
        }
        let reply = Array(buffer.prefix(count))
        switch expectation {
        case .udp(let pattern, let minimum, let maximum):
            guard let pattern else {
                finish(.ok("UDP reply from \(target.endpoint)"))
                return
            }
            if reply.count >= minimum && reply.count <= maximum && ReplyPattern.matches(reply, pattern: pattern) {
                finish(.ok("UDP reply from \(target.endpoint) matches"))
            } else {
                finish(.failed("UDP reply from \(target.endpoint) does not match require_reply"))
            }
        case .dns(let id):
            switch DNSMessage.check(response: reply, id: id) {
            case .healthy: finish(.ok("DNS answer from \(target.endpoint)"))
            case .failed(let reason): finish(.failed("DNS check on \(target.endpoint): \(reason)"))
            case .ignore: break
            }
        }
    }
}

/// PING_CHECK: an ICMP (or ICMPv6) echo request on a raw socket, and the matching echo reply.
public final class PingProbe: Probe {
    let target: CheckTarget
    let identifier: UInt16
    let sequence: UInt16

    public static func start(
        _ target: CheckTarget, identifier: UInt16, sequence: UInt16, loop: EventLoop,
        completion: @escaping (CheckResult) -> Void
    ) -> Probe {
        let probe = PingProbe(
            target: target, identifier: identifier, sequence: sequence, loop: loop, completion: completion)
        probe.send()
        return probe
    }

    init(
        target: CheckTarget, identifier: UInt16, sequence: UInt16, loop: EventLoop,
        completion: @escaping (CheckResult) -> Void
    ) {
        self.target = target
        self.identifier = identifier
        self.sequence = sequence
        super.init(loop: loop, timeout: target.timeout, completion: completion)
    }

    var isIPv6: Bool { target.address.family == .ipv6 }

    private func send() {
        let proto = isIPv6 ? Int32(IPPROTO_ICMPV6) : Int32(IPPROTO_ICMP)
        switch openSocket(target, type: Int32(SOCK_RAW.rawValue), proto: proto) {
        case .failure(let result):
            finish(result)
            return
        case .success(let descriptor):
            fd = descriptor
        }
        // A connected raw socket only hears from its peer.
        let address = InternetSocketAddress(target.address, port: 0)
        guard address.withPointer({ Glibc.connect(fd, $0, $1) }) == 0 else {
            finish(.failed("cannot reach \(target.address): \(errorText(vigil_errno()))"))
            return
        }
        var packet: [UInt8] = [
            isIPv6 ? 128 : 8, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xff), UInt8(sequence >> 8),
            UInt8(sequence & 0xff),
        ]
        packet += Array("vigil PING_CHECK".utf8)
        if !isIPv6 {
            // The kernel computes ICMPv6 checksums; ICMP's is ours.
            let sum = InternetChecksum.of(packet)
            packet[2] = UInt8(sum >> 8)
            packet[3] = UInt8(sum & 0xff)
        }
        let sent = packet.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == packet.count else {
            finish(.failed("cannot send an echo request to \(target.address): \(errorText(vigil_errno()))"))
            return
        }
        watch(EventLoop.readable)
    }

    override func ready() {
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            var message = buffer.prefix(count)
            if !isIPv6 {
                // An IPv4 raw socket hands over the IP header too.
                let headerLength = Int(message[message.startIndex] & 0x0f) * 4
                guard count > headerLength else { continue }
                message = message.dropFirst(headerLength)
            }
            guard message.count >= 8 else { continue }
            let bytes = Array(message)
            let reply: UInt8 = isIPv6 ? 129 : 0
            let id = UInt16(bytes[4]) << 8 | UInt16(bytes[5])
            let seq = UInt16(bytes[6]) << 8 | UInt16(bytes[7])
            if bytes[0] == reply && id == identifier && seq == sequence {
                finish(.ok("ICMP echo reply from \(target.address)"))
                return
            }
        }
    }

}

/// MISC_CHECK: a script; exit 0 is success, 1 failure, and with `misc_dynamic` 2-255 success with weight
/// (status - 2). A script still running at the timeout is killed with its process group: a failure.
public final class ScriptProbe: Probe {
    let process: ChildProcess
    let dynamic: Bool
    let name: String

    public static func start(
        arguments: [String], credentials: ChildProcess.Credentials?, dynamic: Bool, timeout: Duration,
        loop: EventLoop, completion: @escaping (CheckResult) -> Void
    ) -> Probe {
        let process: ChildProcess
        do {
            process = try ChildProcess(arguments, credentials: credentials)
        } catch {
            let probe = Probe(loop: loop, timeout: timeout, completion: completion)
            probe.finish(.failed("cannot start \(arguments[0]): \(error)"))
            return probe
        }
        let probe = ScriptProbe(
            process: process, dynamic: dynamic, name: arguments[0], timeout: timeout, loop: loop,
            completion: completion)
        probe.watch(EventLoop.readable)
        return probe
    }

    init(
        process: ChildProcess, dynamic: Bool, name: String, timeout: Duration, loop: EventLoop,
        completion: @escaping (CheckResult) -> Void
    ) {
        self.process = process
        self.dynamic = dynamic
        self.name = name
        super.init(loop: loop, timeout: timeout, completion: completion)
        // The pidfd turns readable when the process ends; the descriptor belongs to the ChildProcess.
        fd = dup(process.pidfd.rawValue)
    }

    override func ready() {
        guard let ending = process.reap() else { return }
        switch ending {
        case .exited(0):
            finish(.ok("\(name) exited 0"))
        case .exited(let code) where dynamic && code >= 2:
            var result = CheckResult.ok("\(name) exited \(code)")
            result.weight = Int(code) - 2
            finish(result)
        default:
            finish(.failed("\(name) \(ending)"))
        }
    }

    override func timedOut() {
        finish(.failed("\(name) timed out"))
    }

    override func cleanUp() {
        // Timed out or cancelled while running: kill it with its group; a detached thread collects it.
        if process.reap() == nil {
            process.killGroup()
            process.reapInBackground()
        }
    }
}

import CLinux
import Glibc
import VigilConfig

/// Asks the segment who has an IPv4 address (an ARP request from `source`) and returns the hardware address of
/// the first reply: what a client's neighbour table would learn. `vigil lab` shows it before and after a takeover.
public enum ARPProbe {
    public static func request(from mac: [UInt8], source: IPAddress, target: IPAddress) -> [UInt8] {
        let broadcast = [UInt8](repeating: 0xff, count: 6)
        var frame = broadcast + mac + [0x08, 0x06]
        frame += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]
        frame += mac + source.bytes + [UInt8](repeating: 0, count: 6) + target.bytes
        return frame
    }

    /// The sender hardware address of `frame` if it is an ARP reply for `target`.
    public static func replier(_ frame: ArraySlice<UInt8>, target: IPAddress) -> [UInt8]? {
        let base = frame.startIndex
        guard frame.count >= 42, frame[base + 12] == 0x08, frame[base + 13] == 0x06, frame[base + 20] == 0,
            frame[base + 21] == 2, Array(frame[(base + 28)..<(base + 32)]) == target.bytes
        else { return nil }
        return Array(frame[(base + 22)..<(base + 28)])
    }

    /// Sends the request on `interface` and waits up to `timeout` for a reply.
    public static func resolve(
        interface: String, source: IPAddress, target: IPAddress, timeout: Duration
    ) throws(SystemError) -> [UInt8]? {
        let index = Int32(if_nametoindex(interface))
        guard index > 0 else { throw SystemError("no interface \(interface)", errno: ENODEV) }
        let mac = try hardwareAddress(interface)
        let protocolARP = UInt16(0x0806).bigEndian
        let fd = try system("socket(AF_PACKET)") {
            socket(AF_PACKET, Int32(SOCK_RAW.rawValue | SOCK_CLOEXEC.rawValue), Int32(protocolARP))
        }
        defer { close(fd) }
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_protocol = protocolARP
        address.sll_ifindex = index
        _ = try system("bind(AF_PACKET)") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_ll>.size))
                }
            }
        }
        let frame = request(from: mac, source: source, target: target)
        _ = try system("send(ARP)") { frame.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } }
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let end = Int64(deadline.tv_sec) * 1000 + Int64(deadline.tv_nsec) / 1_000_000 + Int64(milliseconds(timeout))
        var buffer = [UInt8](repeating: 0, count: 1500)
        while true {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let left = end - (Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000)
            guard left > 0 else { return nil }
            var wait = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&wait, 1, Int32(left)) > 0 else { continue }
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            if let replier = replier(buffer[0..<count], target: target) { return replier }
        }
    }

    /// An interface's hardware address, from sysfs.
    static func hardwareAddress(_ interface: String) throws(SystemError) -> [UInt8] {
        guard let text = SmallFile.text("/sys/class/net/\(interface)/address", limit: 64) else {
            throw SystemError("cannot read the MAC of \(interface)", errno: vigil_errno())
        }
        let bytes = (text.split(separator: "\n").first ?? "").split(separator: ":").compactMap { UInt8($0, radix: 16) }
        guard bytes.count == 6 else { throw SystemError("\(interface) has no Ethernet address", errno: EINVAL) }
        return bytes
    }

    /// `aa:bb:cc:dd:ee:ff`.
    public static func format(_ mac: [UInt8]) -> String {
        mac.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
    }
}

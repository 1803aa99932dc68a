import Checksums
import CLinux
import Glibc
import VigilConfig

/// Link-layer frames that tell a segment where an address now lives, and the packet socket that sends them.
public enum AnnouncementFrame {
    /// A gratuitous ARP as keepalived sends it: an ARP request from `mac` to broadcast, sender IP and target IP
    /// both the address, target hardware address broadcast.
    public static func gratuitousARP(from mac: [UInt8], address: IPAddress) -> [UInt8] {
        let broadcast = [UInt8](repeating: 0xff, count: 6)
        var frame = broadcast + mac + [0x08, 0x06]
        frame += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]
        frame += mac + address.bytes + broadcast + address.bytes
        return frame
    }

    /// An unsolicited neighbour advertisement (RFC 4861 7.2.6) for `address`: from the address itself to all
    /// nodes (ff02::1), hop limit 255, Override set, Router set when this host forwards, with the target
    /// link-layer address option.
    public static func unsolicitedNeighborAdvertisement(
        from mac: [UInt8], address: IPAddress, router: Bool
    )
        -> [UInt8]
    {
        let allNodes = IPAddress.v6(high: 0xff02_0000_0000_0000, low: 1)
        var icmp: [UInt8] = [136, 0, 0, 0, (router ? 0x80 : 0) | 0x20, 0, 0, 0]
        icmp += address.bytes
        icmp += [2, 1] + mac
        var sum = InternetChecksum()
        sum.add(address.bytes)
        sum.add(allNodes.bytes)
        sum.add([0, 0, UInt8(icmp.count >> 8), UInt8(icmp.count & 0xff), 0, 0, 0, 58])
        sum.add(icmp)
        let checksum = sum.value
        icmp[2] = UInt8(checksum >> 8)
        icmp[3] = UInt8(checksum & 0xff)
        var frame: [UInt8] = [0x33, 0x33, 0, 0, 0, 1] + mac + [0x86, 0xdd]
        frame += [0x60, 0, 0, 0, UInt8(icmp.count >> 8), UInt8(icmp.count & 0xff), 58, 255]
        frame += address.bytes + allNodes.bytes + icmp
        return frame
    }
}

/// An AF_PACKET socket for whole frames on any interface.
public final class PacketSocket: @unchecked Sendable {
    public let descriptor: FileDescriptor

    public init() throws(SystemError) {
        let type = SOCK_RAW.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue
        // Protocol 0: send only, receive nothing.
        descriptor = FileDescriptor(try system("socket(AF_PACKET)") { socket(AF_PACKET, Int32(type), 0) })
    }

    public func send(_ frame: [UInt8], interfaceIndex: Int32) throws(SystemError) {
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_ifindex = interfaceIndex
        address.sll_halen = 6
        withUnsafeMutableBytes(of: &address.sll_addr) { raw in
            for index in 0..<6 { raw[index] = frame[index] }
        }
        let fd = descriptor.rawValue
        _ = try system("sendto(AF_PACKET)") {
            frame.withUnsafeBytes { raw in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_ll>.size))
                    }
                }
            }
        }
    }
}

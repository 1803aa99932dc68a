import CLinux
import Checksums
import Glibc

// vigil-flood INTERFACE RATE SECONDS [VRID]: the lab's flooder for hostile-traffic tests and the flood benchmark.
// Sends VRRPv2 adverts for VRID (default 50) claiming priority 254 with a wrong password, from 198.51.100.3 to
// 224.0.0.18, RATE per second for SECONDS, in sendmmsg batches (scapy is far too slow for this), and prints
// "sent N in S seconds (R per second)".

func fail(_ message: String) -> Never {
    var text = "vigil-flood: \(message)\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(1)
}

let arguments = CommandLine.arguments
guard arguments.count >= 4, let rate = Int(arguments[2]), let seconds = Double(arguments[3]), rate > 0 else {
    fail("usage: vigil-flood INTERFACE RATE SECONDS [VRID]")
}
let interface = arguments[1]
let vrid = arguments.count > 4 ? UInt8(arguments[4]) ?? 50 : 50
let index = if_nametoindex(interface)
guard index != 0 else { fail("no interface \(interface)") }

// The interface's MAC address.
let macText =
    (try? { () throws -> String in
        let fd = open("/sys/class/net/\(interface)/address", O_RDONLY)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &buffer, buffer.count)
        return String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
    }()) ?? ""
let mac =
    macText.split(separator: "\n").first.map { $0.split(separator: ":").compactMap { UInt8($0, radix: 16) } } ?? []
guard mac.count == 6 else { fail("cannot read the MAC address of \(interface)") }

var advert: [UInt8] = [0x21, vrid, 254, 1, 1, 1, 0, 0, 198, 51, 100, 100] + Array("flood!!!".utf8)
let advertSum = InternetChecksum.of(advert)
advert[6] = UInt8(advertSum >> 8)
advert[7] = UInt8(advertSum & 0xff)
var header: [UInt8] = [
    0x45, 0xc0, 0, UInt8(20 + advert.count), 0, 0, 0, 0, 255, 112, 0, 0, 198, 51, 100, 3, 224, 0, 0, 18,
]
let headerSum = InternetChecksum.of(header)
header[10] = UInt8(headerSum >> 8)
header[11] = UInt8(headerSum & 0xff)
let frame: [UInt8] = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x12] + mac + [0x08, 0x00] + header + advert

let fd = socket(AF_PACKET, Int32(SOCK_RAW.rawValue), 0)
guard fd >= 0 else { fail("cannot open a packet socket (root is needed)") }
var address = sockaddr_ll()
address.sll_family = UInt16(AF_PACKET)
address.sll_ifindex = Int32(index)
address.sll_protocol = UInt16(ETH_P_ALL).bigEndian
let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_ll>.size)) }
}
guard bound == 0 else { fail("cannot bind to \(interface)") }

func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

let start = now()
var sent = 0
while true {
    let elapsed = now() - start
    if elapsed >= seconds { break }
    let due = Int(elapsed * Double(rate))
    if due > sent {
        let result = frame.withUnsafeBytes { vigil_send_copies(fd, $0.baseAddress, $0.count, UInt32(due - sent)) }
        sent += Int(max(0, result))
    }
    usleep(200)
}
let elapsed = now() - start
print("sent \(sent) in \(String(Double(Int(elapsed * 100)) / 100)) seconds (\(Int(Double(sent) / elapsed)) per second)")

import Glibc
import Testing
import VigilConfig

@testable import LinuxNet

@Suite("A datagram's time of arrival, from the kernel's stamp")
struct ArrivalTests {
    @Test("a datagram read 5 ms after it came carries its arrival, not the time it was read")
    func stampedArrival() throws {
        // A UDP socket on loopback: the kernel stamps the datagram as it is sent to itself.
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        try setSocketOption(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        try #require(bound)
        // The kernel turns its arrival stamps on a moment after the first socket asks (a deferred static key);
        // until then it stamps a datagram as it is read. Tries until one came stamped on arrival.
        var stampedOnArrival = false
        for _ in 0..<50 where !stampedOnArrival {
            let sent = monotonicNanoseconds()
            let count = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, "advert", 6, 0, $0, length) }
            }
            try #require(count == 6)
            usleep(5_000)
            let beforeReading = monotonicNanoseconds()
            var buffer = [UInt8](repeating: 0, count: 64)
            var control = [UInt8](repeating: 0, count: 256)
            let datagram = try #require(receiveDatagram(fd, buffer: &buffer, control: &control))
            #expect(Array(datagram.bytes) == Array("advert".utf8))
            // No stamp: read more than `arrivalAgeLimit` after it came (a loaded machine); try again.
            guard let arrival = datagram.arrival else { continue }
            #expect(arrival >= sent - 1_000_000, "arrived before it was sent")
            stampedOnArrival = arrival <= beforeReading - 4_000_000
        }
        #expect(stampedOnArrival, "the time it was read, not the time it came")
    }

    @Test("a stamp older than the limit, or in the future, is not trusted (the real-time clock was stepped)")
    func steppedClock() {
        var real = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        var future = real
        future.tv_sec += 1
        var old = real
        old.tv_sec -= 1
        #expect(monotonicArrival(future) == nil)
        #expect(monotonicArrival(old) == nil)
        let now = monotonicNanoseconds()
        let recent = monotonicArrival(real)
        #expect(recent.map { $0 <= now + 1_000_000 && $0 >= now - arrivalAgeLimit } == true, "a fresh stamp is used")
    }
}

import CLinux
import Glibc
import VigilConfig

/// Reads one waiting datagram from `fd` (non-blocking) with its source, and from the control messages its
/// destination (IP_PKTINFO / IPV6_PKTINFO), TTL or hop limit (IP_TTL / IPV6_HOPLIMIT) and the kernel's time of
/// arrival (SO_TIMESTAMPNS), as far as the socket asked for them. nil: nothing waiting (or the socket failed). A
/// datagram larger than `buffer` comes back with no bytes, so that the caller drops and counts it like any other
/// bad packet.
func receiveDatagram(_ fd: Int32, buffer: inout [UInt8], control: inout [UInt8]) -> Datagram? {
    var source = sockaddr_storage()
    var hopLimit: Int?
    var destination: IPAddress?
    var stamp: timespec?
    var truncated = false
    let length: Int = buffer.withUnsafeMutableBytes { raw in
        control.withUnsafeMutableBytes { controlRaw in
            withUnsafeMutablePointer(to: &source) { sourcePointer in
                var vector = iovec(iov_base: raw.baseAddress, iov_len: raw.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var message = msghdr()
                    message.msg_name = UnsafeMutableRawPointer(sourcePointer)
                    message.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = controlRaw.baseAddress
                    message.msg_controllen = controlRaw.count
                    var received = recvmsg(fd, &message, Int32(MSG_DONTWAIT))
                    while received < 0 && vigil_errno() == EINTR {
                        received = recvmsg(fd, &message, Int32(MSG_DONTWAIT))
                    }
                    guard received >= 0 else { return -1 }
                    truncated = message.msg_flags & Int32(MSG_TRUNC) != 0
                    var header = vigil_cmsg_firsthdr(&message)
                    while let current = header {
                        let level = current.pointee.cmsg_level
                        let type = current.pointee.cmsg_type
                        let data = vigil_cmsg_data(current)!
                        if (level == Int32(IPPROTO_IP) && type == IP_TTL)
                            || (level == Int32(IPPROTO_IPV6) && type == IPV6_HOPLIMIT)
                        {
                            hopLimit = Int(data.withMemoryRebound(to: Int32.self, capacity: 1) { $0.pointee })
                        } else if level == Int32(IPPROTO_IP) && type == IP_PKTINFO {
                            let info = data.withMemoryRebound(to: in_pktinfo.self, capacity: 1) { $0.pointee }
                            destination = .v4(UInt32(bigEndian: info.ipi_addr.s_addr))
                        } else if level == SOL_SOCKET && type == SCM_TIMESTAMPNS {
                            stamp = UnsafeRawPointer(data).loadUnaligned(as: timespec.self)
                        } else if level == Int32(IPPROTO_IPV6) && type == IPV6_PKTINFO {
                            let info = data.withMemoryRebound(to: vigil_in6_pktinfo.self, capacity: 1) { $0.pointee }
                            destination = withUnsafeBytes(of: info.ipi6_addr) { IPAddress(bytes: $0) }
                        }
                        header = vigil_cmsg_nxthdr(&message, current)
                    }
                    return received
                }
            }
        }
    }
    guard length >= 0, let sender = VRRPSocket.address(of: source) else { return nil }
    let bytes = truncated ? buffer[0..<0] : buffer[0..<min(length, buffer.count)]
    var datagram = Datagram(bytes: bytes, source: sender, destination: destination, hopLimit: hopLimit)
    datagram.arrival = stamp.flatMap(monotonicArrival)
    return datagram
}

/// The kernel stamps a datagram's arrival on the real-time clock; the daemon's clock is CLOCK_MONOTONIC. The age
/// read on the real-time clock, taken from the monotonic clock now, is the arrival there. An age beyond
/// `arrivalAgeLimit` (or below zero) means the real-time clock was stepped meanwhile: nil, the caller uses now.
func monotonicArrival(_ stamp: timespec) -> Int64? {
    var real = timespec()
    clock_gettime(CLOCK_REALTIME, &real)
    let now = monotonicNanoseconds()
    let age = (Int64(real.tv_sec) - Int64(stamp.tv_sec)) * 1_000_000_000 + Int64(real.tv_nsec) - Int64(stamp.tv_nsec)
    guard age >= 0, age <= arrivalAgeLimit else { return nil }
    return now - age
}

/// 10 ms: far beyond a wake-up's latency, far below what moving a Master_Down_Interval by it could matter.
let arrivalAgeLimit: Int64 = 10_000_000

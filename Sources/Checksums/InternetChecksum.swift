/// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit words. The one
/// implementation for VRRP adverts, neighbour advertisements, ICMP echo requests and the lab's flooder.
public struct InternetChecksum: Sendable {
    private var sum: UInt32 = 0
    /// A byte left over from an odd-length chunk, waiting for its partner.
    private var pending: UInt8? = nil

    public init() {}

    public mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            if let high = pending {
                sum &+= UInt32(high) << 8 | UInt32(byte)
                pending = nil
            } else {
                pending = byte
            }
        }
    }

    public mutating func add(word: UInt16) {
        if let high = pending {
            sum &+= UInt32(high) << 8 | UInt32(word >> 8)
            pending = UInt8(word & 0xff)
        } else {
            sum &+= UInt32(word)
        }
    }

    /// The checksum to write into a header.
    public var value: UInt16 {
        var total = sum
        if let high = pending { total &+= UInt32(high) << 8 }
        while total >> 16 != 0 { total = (total & 0xffff) &+ (total >> 16) }
        return ~UInt16(total)
    }

    public static func of(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var checksum = InternetChecksum()
        checksum.add(bytes)
        return checksum.value
    }
}

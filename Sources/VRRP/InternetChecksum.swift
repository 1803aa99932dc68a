import VigilConfig

/// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit words.
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

    /// An address's bytes in network order, without building them.
    public mutating func add(_ address: IPAddress) {
        switch address {
        case .v4(let value):
            add(word: UInt16(value >> 16))
            add(word: UInt16(value & 0xffff))
        case .v6(let high, let low):
            for half in [high, low] {
                add(word: UInt16(truncatingIfNeeded: half >> 48))
                add(word: UInt16(truncatingIfNeeded: half >> 32))
                add(word: UInt16(truncatingIfNeeded: half >> 16))
                add(word: UInt16(truncatingIfNeeded: half))
            }
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

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An IPv4 or IPv6 address as a value. Parsing uses the C library's `inet_pton`, which is a pure function.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Host byte order.
    case v4(UInt32)
    /// Network byte order: `high` holds bytes 0..7, `low` bytes 8..15.
    case v6(high: UInt64, low: UInt64)

    public enum Family: String, Hashable, Sendable, CustomStringConvertible {
        case ipv4 = "IPv4"
        case ipv6 = "IPv6"
        public var description: String { rawValue }
    }

    public var family: Family {
        switch self {
        case .v4: .ipv4
        case .v6: .ipv6
        }
    }

    /// Parses a dotted quad or an IPv6 literal (no brackets, no zone).
    public init?(_ text: some StringProtocol) {
        if let value = Self.parseDottedQuad(text.utf8) {
            self = .v4(value)
            return
        }
        let string = String(text)
        if string.contains(":") {
            var buffer = in6_addr()
            guard inet_pton(AF_INET6, string, &buffer) == 1 else { return nil }
            self.init(bytes: withUnsafeBytes(of: &buffer) { Array($0) })
        } else {
            // inet_pton accepts only the strict dotted quad, which is what keepalived accepts too.
            var buffer = in_addr()
            guard inet_pton(AF_INET, string, &buffer) == 1 else { return nil }
            self = .v4(UInt32(bigEndian: buffer.s_addr))
        }
    }

    /// A strict dotted quad, as `inet_pton` reads one: four decimal numbers 0-255 without leading zeros.
    static func parseDottedQuad(_ bytes: some Collection<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                if digits > 0 && octet == 0 { return nil }
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                guard octet <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, dots == 3 else { return nil }
        return value << 8 | octet
    }

    /// An address from its 4 or 16 bytes in network order. Inlinable, so that the packet path specializes it
    /// for its slices and reads the bytes in place.
    @inlinable
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4:
            var value: UInt32 = 0
            for byte in bytes { value = value << 8 | UInt32(byte) }
            self = .v4(value)
        case 16:
            var high: UInt64 = 0
            var low: UInt64 = 0
            var index = 0
            for byte in bytes {
                if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
                index += 1
            }
            self = .v6(high: high, low: low)
        default:
            return nil
        }
    }

    /// The address in network byte order: 4 or 16 bytes.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value):
            return [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
        case .v6(let high, let low):
            var out = [UInt8]()
            out.reserveCapacity(16)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(high >> UInt64(shift) & 0xff)) }
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(low >> UInt64(shift) & 0xff)) }
            return out
        }
    }

    public var maximumPrefixLength: Int { family == .ipv4 ? 32 : 128 }

    public var isMulticast: Bool {
        switch self {
        case .v4(let v): v >> 28 == 0xe
        case .v6(let high, _): high >> 56 == 0xff
        }
    }

    public var isLinkLocal: Bool {
        switch self {
        case .v4(let v): v >> 16 == 0xa9fe
        case .v6(let high, _): high >> 54 == 0x3fa  // fe80::/10
        }
    }

    public var isUnspecified: Bool {
        switch self {
        case .v4(let v): v == 0
        case .v6(let high, let low): high == 0 && low == 0
        }
    }

    public var description: String {
        switch self {
        case .v4(let v):
            return "\(v >> 24).\(v >> 16 & 0xff).\(v >> 8 & 0xff).\(v & 0xff)"
        case .v6:
            var raw = in6_addr()
            let b = bytes
            withUnsafeMutableBytes(of: &raw) { buffer in
                for i in 0..<16 { buffer[i] = b[i] }
            }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// Orders IPv4 before IPv6, then numerically: the order VRRP uses to compare primary addresses.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        case (.v6(let ah, let al), .v6(let bh, let bl)): (ah, al) < (bh, bl)
        }
    }
}

/// An address with a prefix length, as in `198.51.100.10/24`.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var length: Int

    public init(address: IPAddress, length: Int) {
        self.address = address
        self.length = length
    }

    /// Parses `ADDR` or `ADDR/LEN`; without a length the prefix is a host prefix (32 or 128).
    public init?(_ text: some StringProtocol) {
        let slash = text.firstIndex(of: "/")
        guard let address = IPAddress(text[..<(slash ?? text.endIndex)]) else { return nil }
        var length = address.maximumPrefixLength
        if let slash {
            guard let value = Int(text[text.index(after: slash)...]), (0...address.maximumPrefixLength).contains(value)
            else { return nil }
            length = value
        }
        self.init(address: address, length: length)
    }

    public var description: String { "\(address)/\(length)" }

    /// True when `other` lies inside this prefix.
    public func contains(_ other: IPAddress) -> Bool {
        switch (address, other) {
        case (.v4(let a), .v4(let b)):
            guard length > 0 else { return true }
            let mask: UInt32 = length >= 32 ? .max : ~(UInt32.max >> UInt32(length))
            return a & mask == b & mask
        case (.v6(let ah, let al), .v6(let bh, let bl)):
            if length <= 64 {
                let mask: UInt64 = length == 0 ? 0 : (length >= 64 ? .max : ~(UInt64.max >> UInt64(length)))
                return ah & mask == bh & mask
            }
            let lowLength = length - 64
            let mask: UInt64 = lowLength >= 64 ? .max : ~(UInt64.max >> UInt64(lowLength))
            return ah == bh && al & mask == bl & mask
        default:
            return false
        }
    }
}

import Checksums
import VigilConfig

/// A VRRP advertisement (RFC 3768 version 2, RFC 5798/9568 version 3), the part after the IP header.
///
/// ```
///  v2: | 0x21 | VRID | priority | count | auth type | interval (s)  | checksum | addresses | auth data (8) |
///  v3: | 0x31 | VRID | priority | count | 0 + interval (12 bits, cs)  | checksum | addresses |
/// ```
public struct Advertisement: Hashable, Sendable {
    public enum Version: UInt8, Hashable, Sendable {
        case v2 = 2
        case v3 = 3
    }

    /// The authentication a version 2 advert carries in its last 8 bytes.
    public enum Authentication: Hashable, Sendable {
        case none
        /// Simple text password, zero-padded to 8 bytes.
        case password([UInt8])
        /// IPsec AH (the AH header precedes the advert; the 8 bytes are zero).
        case ah

        var type: UInt8 {
            switch self {
            case .none: 0
            case .password: 1
            case .ah: 2
            }
        }
    }

    public static let type: UInt8 = 1
    public static let headerLength = 8
    public static let authenticationLength = 8
    /// 224.0.0.18.
    public static let multicastGroup4 = IPAddress.v4(0xe000_0012)
    /// ff02::12.
    public static let multicastGroup6 = IPAddress.v6(high: 0xff02_0000_0000_0000, low: 0x12)

    public var version: Version
    public var virtualRouterID: UInt8
    public var priority: UInt8
    /// v2: whole seconds (1-255); v3: centiseconds (1-4095).
    public var interval: Duration
    public var addresses: [IPAddress]
    /// Version 2 only; version 3 has none.
    public var authentication: Authentication

    public init(
        version: Version, virtualRouterID: UInt8, priority: UInt8, interval: Duration, addresses: [IPAddress],
        authentication: Authentication = .none
    ) {
        self.version = version
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.interval = interval
        self.addresses = addresses
        self.authentication = authentication
    }

    /// The interval as the wire carries it: seconds in v2, centiseconds in v3.
    var intervalField: UInt16 {
        switch version {
        case .v2: UInt16(clamping: max(1, interval.microseconds / 1_000_000))
        case .v3: UInt16(clamping: max(1, min(4095, interval.centiseconds)))
        }
    }

    /// The advert's bytes with its checksum. Version 3 over IPv4 sums a pseudo-header of `source` and
    /// `destination` (RFC 5798 5.2.8); over IPv6 the kernel fills the checksum (IPV6_CHECKSUM), but it is computed
    /// here too so that the bytes are complete. Version 2 sums the advert alone (RFC 3768 5.3.8).
    public func encoded(source: IPAddress, destination: IPAddress) -> [UInt8] {
        var bytes = [UInt8]()
        let family = addresses.first?.family ?? source.family
        let addressLength = family == .ipv4 ? 4 : 16
        let carriesAuthentication = version == .v2 && family == .ipv4
        bytes.reserveCapacity(
            Self.headerLength + addresses.count * addressLength + (carriesAuthentication ? 8 : 0))
        bytes.append(version.rawValue << 4 | Self.type)
        bytes.append(virtualRouterID)
        bytes.append(priority)
        bytes.append(UInt8(clamping: addresses.count))
        switch version {
        case .v2:
            bytes.append(carriesAuthentication ? authentication.type : 0)
            bytes.append(UInt8(clamping: intervalField))
        case .v3:
            let field = intervalField & 0x0fff
            bytes.append(UInt8(field >> 8))
            bytes.append(UInt8(field & 0xff))
        }
        bytes.append(0)
        bytes.append(0)
        for address in addresses.prefix(255) { bytes.append(contentsOf: address.bytes) }
        if carriesAuthentication {
            var data = [UInt8](repeating: 0, count: 8)
            if case .password(let password) = authentication {
                for (index, byte) in password.prefix(8).enumerated() { data[index] = byte }
            }
            bytes.append(contentsOf: data)
        }
        let checksum = Self.checksum(of: bytes, version: version, source: source, destination: destination)
        bytes[6] = UInt8(checksum >> 8)
        bytes[7] = UInt8(checksum & 0xff)
        return bytes
    }

    /// The checksum of `bytes` (with its checksum field zero) as the version computes it.
    static func checksum(
        of bytes: some Collection<UInt8>, version: Version, source: IPAddress, destination: IPAddress
    ) -> UInt16 {
        var sum = InternetChecksum()
        if version == .v3 {
            switch (source, destination) {
            case (.v4, .v4):
                sum.add(source)
                sum.add(destination)
                sum.add(word: 112)
                sum.add(word: UInt16(bytes.count))
            case (.v6, .v6):
                sum.add(source)
                sum.add(destination)
                sum.add(word: 0)
                sum.add(word: UInt16(bytes.count))
                sum.add(word: 0)
                sum.add(word: 112)
            default:
                break
            }
        }
        sum.add(bytes)
        return sum.value
    }
}

extension InternetChecksum {
    /// An address's bytes in network order, without building them.
    mutating func add(_ address: IPAddress) {
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
}

import VigilConfig

/// A packet as the socket layer hands it up: the VRRP bytes and what the IP layer said about them.
public struct ReceivedPacket: Sendable {
    /// The VRRP part, after the IP header (and the AH header, if any).
    public var payload: ArraySlice<UInt8>
    public var source: IPAddress
    public var destination: IPAddress
    /// IPv4 TTL or IPv6 hop limit, when known.
    public var hopLimit: Int?
    /// Whether an IPsec AH header preceded the advert (IPv4 protocol 51).
    public var hasAuthenticationHeader: Bool

    public init(
        payload: ArraySlice<UInt8>, source: IPAddress, destination: IPAddress, hopLimit: Int?,
        hasAuthenticationHeader: Bool = false
    ) {
        self.payload = payload
        self.source = source
        self.destination = destination
        self.hopLimit = hopLimit
        self.hasAuthenticationHeader = hasAuthenticationHeader
    }

    /// Reads an IPv4 datagram as a raw socket delivers it: the IP header, optionally AH, then VRRP.
    public static func parseIPv4(_ datagram: ArraySlice<UInt8>) -> Result<ReceivedPacket, Rejection> {
        let base = datagram.startIndex
        guard datagram.count >= 20, datagram[base] >> 4 == 4 else { return .failure(.packetLength) }
        let headerLength = Int(datagram[base] & 0x0f) * 4
        guard headerLength >= 20, datagram.count >= headerLength else { return .failure(.packetLength) }
        let totalLength = Int(datagram[base + 2]) << 8 | Int(datagram[base + 3])
        // The kernel reassembles fragments before a raw socket sees them; the length must match what arrived.
        guard totalLength == datagram.count else { return .failure(.packetLength) }
        let ttl = Int(datagram[base + 8])
        let proto = datagram[base + 9]
        let source = IPAddress(bytes: datagram[(base + 12)..<(base + 16)])!
        let destination = IPAddress(bytes: datagram[(base + 16)..<(base + 20)])!
        var start = base + headerLength
        var hasAH = false
        if proto == 51 {
            // AH: next header, payload length (in 4-byte words, minus 2), reserved, SPI, sequence, ICV.
            guard datagram.count >= start + 24 else { return .failure(.packetLength) }
            guard datagram[start] == 112 else { return .failure(.authenticationFailure) }
            let ahLength = (Int(datagram[start + 1]) + 2) * 4
            guard ahLength == 24, datagram.count >= start + ahLength else { return .failure(.packetLength) }
            start += ahLength
            hasAH = true
        } else if proto != 112 {
            return .failure(.invalidType)
        }
        return .success(
            ReceivedPacket(
                payload: datagram[start...], source: source, destination: destination, hopLimit: ttl,
                hasAuthenticationHeader: hasAH))
    }
}

extension Advertisement {
    /// Checks what every advert must be, whoever it is for: length, version, type, checksum and a defined
    /// authentication type. What a particular router expects is checked by `ReceivePolicy`.
    public static func decode(_ packet: ReceivedPacket) -> Result<Advertisement, Rejection> {
        let bytes = packet.payload
        let base = bytes.startIndex
        guard bytes.count >= headerLength else { return .failure(.packetLength) }
        guard let version = Version(rawValue: bytes[base] >> 4) else { return .failure(.version) }
        guard bytes[base] & 0x0f == type else { return .failure(.invalidType) }
        let family = packet.source.family
        let addressLength = family == .ipv4 ? 4 : 16
        let count = Int(bytes[base + 3])
        let carriesAuthentication = version == .v2 && family == .ipv4
        let expectedLength = headerLength + count * addressLength + (carriesAuthentication ? authenticationLength : 0)
        guard bytes.count == expectedLength else { return .failure(.packetLength) }

        // Summed with its checksum field as received, a correct packet comes to zero (no copy, no allocation).
        var valid = checksum(of: bytes, version: version, source: packet.source, destination: packet.destination) == 0
        if !valid && version == .v3 && family == .ipv4 && !packet.destination.isMulticast {
            // keepalived before 1.3.6 summed unicast v3 adverts with the multicast group as destination
            // (`old_unicast_checksum`); keepalived accepts both, and so does Vigil.
            valid = checksum(of: bytes, version: version, source: packet.source, destination: multicastGroup4) == 0
        }
        guard valid else { return .failure(.checksum) }

        var interval: Duration
        var authentication = Authentication.none
        switch version {
        case .v2:
            interval = .seconds(Int(bytes[base + 5]))
            if carriesAuthentication {
                let authStart = base + headerLength + count * addressLength
                switch bytes[base + 4] {
                case 0: authentication = .none
                case 1: authentication = .password(Array(bytes[authStart..<(authStart + authenticationLength)]))
                case 2: authentication = .ah
                default: return .failure(.invalidAuthenticationType)
                }
            }
        case .v3:
            let field = (UInt16(bytes[base + 4]) << 8 | UInt16(bytes[base + 5])) & 0x0fff
            interval = .milliseconds(Int(field) * 10)
        }
        var addresses = [IPAddress]()
        addresses.reserveCapacity(count)
        var cursor = base + headerLength
        for _ in 0..<count {
            addresses.append(IPAddress(bytes: bytes[cursor..<(cursor + addressLength)])!)
            cursor += addressLength
        }
        return .success(
            Advertisement(
                version: version, virtualRouterID: bytes[base + 1], priority: bytes[base + 2], interval: interval,
                addresses: addresses, authentication: authentication))
    }
}

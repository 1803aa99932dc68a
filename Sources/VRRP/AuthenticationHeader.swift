import Checksums
import VigilConfig

/// VRRPv2's IPsec AH authentication as keepalived 2.2.7 puts it on the wire (no kernel IPsec: both ends build and
/// check it themselves). Between the IPv4 header (protocol 51) and the advert sits an AH header: next header 112,
/// payload length 4, the SPI (the sender's IPv4 address), a sequence number and a 12-byte ICV, the first 12 bytes of
/// HMAC-MD5 keyed with `auth_pass` (RFC 2403's HMAC-MD5-96). The HMAC covers the IPv4 header with TOS, the fragment
/// field and the checksum zeroed (and the TTL in unicast mode: keepalived keeps it in multicast), the AH header with
/// its ICV zeroed, and the advert (whose auth type is 2 and auth data 8 zero bytes).
public enum AuthenticationHeader {
    public static let protocolNumber: UInt8 = 51
    public static let length = 24
    static let icvOffset = 12
    static let icvLength = 12

    /// The key as keepalived uses it: `auth_pass`, at most 8 bytes.
    public static func key(_ password: [UInt8]) -> HMACMD5 { HMACMD5(key: Array(password.prefix(8))) }

    /// The whole IPv4 packet carrying `advert` under AH: header, AH, advert.
    public static func packet(
        advert: [UInt8], source: IPAddress, destination: IPAddress, ttl: UInt8, identification: UInt16,
        sequence: UInt32, unicast: Bool, key: HMACMD5
    ) -> [UInt8] {
        var packet = IPv4Packet.header(
            payloadLength: length + advert.count, source: source, destination: destination, ttl: ttl,
            identification: identification, protocol: protocolNumber)
        packet += [112, 4, 0, 0]
        packet += source.bytes
        packet += [UInt8(sequence >> 24), UInt8(sequence >> 16 & 0xff), UInt8(sequence >> 8 & 0xff), UInt8(sequence & 0xff)]
        packet += [UInt8](repeating: 0, count: icvLength)
        packet += advert
        let icv = code(packet, headerLength: IPv4Packet.headerLength, unicast: unicast, key: key)
        let start = IPv4Packet.headerLength + icvOffset
        packet.replaceSubrange(start..<(start + icvLength), with: icv)
        return packet
    }

    /// Checks the AH of a received IPv4 datagram (IP header, AH, advert): the ICV, then the SPI. Returns the
    /// sequence number, which the caller holds against replays (`AuthenticationSequence`).
    public static func verify(_ datagram: ArraySlice<UInt8>, unicast: Bool, key: HMACMD5) -> Result<UInt32, Rejection> {
        let base = datagram.startIndex
        guard datagram.count >= 20 else { return .failure(.packetLength) }
        let headerLength = Int(datagram[base] & 0x0f) * 4
        guard headerLength >= 20, datagram.count >= headerLength + length else { return .failure(.packetLength) }
        let ah = base + headerLength
        var copy = Array(datagram)
        for index in 0..<icvLength { copy[headerLength + icvOffset + index] = 0 }
        let expected = code(copy, headerLength: headerLength, unicast: unicast, key: key)
        var difference: UInt8 = 0
        for index in 0..<icvLength { difference |= expected[index] ^ datagram[ah + icvOffset + index] }
        guard difference == 0 else { return .failure(.authenticationFailure) }
        // The SPI must be the sender's address (keepalived's check).
        guard datagram[(ah + 4)..<(ah + 8)].elementsEqual(datagram[(base + 12)..<(base + 16)]) else {
            return .failure(.authenticationFailure)
        }
        let sequence =
            UInt32(datagram[ah + 8]) << 24 | UInt32(datagram[ah + 9]) << 16 | UInt32(datagram[ah + 10]) << 8
            | UInt32(datagram[ah + 11])
        return .success(sequence)
    }

    /// The ICV of a packet whose ICV field is zero: HMAC-MD5 over the header with its mutable fields zeroed, then
    /// the rest, cut to 12 bytes.
    static func code(_ packet: [UInt8], headerLength: Int, unicast: Bool, key: HMACMD5) -> [UInt8] {
        var header = Array(packet[0..<headerLength])
        header[1] = 0  // TOS
        header[6] = 0  // flags and fragment offset
        header[7] = 0
        header[10] = 0  // checksum
        header[11] = 0
        if unicast { header[8] = 0 }  // TTL
        return Array(key.code(header, Array(packet[headerLength...])).prefix(icvLength))
    }
}

/// An instance's AH sequence number, as keepalived keeps it: one counter that numbers the adverts it sends and is
/// the high-water mark of those it accepts, so whoever becomes master carries on above what every peer has seen.
public struct AuthenticationSequence: Sendable, Equatable {
    public private(set) var value: UInt32 = 0
    /// The counter reached its end: it stays there until this router becomes master again, then starts over.
    private var exhausted = false

    public init() {}

    /// The number for the next advert sent.
    public mutating func next() -> UInt32 {
        if value > 0xffff_fffd {
            exhausted = true
        } else {
            value += 1
        }
        return value
    }

    /// A received advert's number: accepted only above every number seen or sent; false is a replay.
    public mutating func accept(_ received: UInt32) -> Bool {
        guard received > value else { return false }
        value = received
        exhausted = false
        return true
    }

    public mutating func becameMaster() {
        if exhausted {
            exhausted = false
            value = 0
        }
    }
}

/// The IPv4 packets VRRP sends: version 4, IHL 5, TOS 0xC0, no DF, our TTL and identification. The kernel fills the
/// checksum (IP_HDRINCL).
public enum IPv4Packet {
    public static let headerLength = 20

    public static func header(
        payloadLength: Int, source: IPAddress, destination: IPAddress, ttl: UInt8, identification: UInt16,
        protocol: UInt8 = 112
    ) -> [UInt8] {
        let total = headerLength + payloadLength
        var header: [UInt8] = [
            0x45, 0xc0, UInt8(total >> 8), UInt8(total & 0xff), UInt8(identification >> 8),
            UInt8(identification & 0xff), 0, 0, ttl, `protocol`, 0, 0,
        ]
        header += source.bytes
        header += destination.bytes
        return header
    }

    /// A plain (not AH) advert: the header and the advert.
    public static func advert(
        _ advert: [UInt8], source: IPAddress, destination: IPAddress, ttl: UInt8, identification: UInt16
    ) -> [UInt8] {
        header(
            payloadLength: advert.count, source: source, destination: destination, ttl: ttl,
            identification: identification) + advert
    }
}

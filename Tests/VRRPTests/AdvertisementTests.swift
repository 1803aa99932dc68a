import Checksums
import Testing
import VigilConfig

@testable import VRRP

func hex(_ text: String) -> [UInt8] {
    var bytes = [UInt8]()
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

func ip(_ text: String) -> IPAddress { IPAddress(text)! }

/// Adverts keepalived 2.2.7 sent in the lab (captured with tshark on the bridge), with what they say.
struct Vector: Sendable, CustomStringConvertible {
    var name: String
    var payload: String
    var source: String
    var destination: String
    var advert: Advertisement

    var description: String { name }
}

let vectors: [Vector] = [
    Vector(
        name: "v2 PASS master", payload: "213296010101bad0c63364643131313100000000", source: "198.51.100.1",
        destination: "224.0.0.18",
        advert: Advertisement(
            version: .v2, virtualRouterID: 50, priority: 150, interval: .seconds(1),
            addresses: [ip("198.51.100.100")], authentication: .password(Array("1111".utf8) + [0, 0, 0, 0]))),
    Vector(
        name: "v2 PASS priority 0", payload: "21320001010150d1c63364643131313100000000", source: "198.51.100.1",
        destination: "224.0.0.18",
        advert: Advertisement(
            version: .v2, virtualRouterID: 50, priority: 0, interval: .seconds(1), addresses: [ip("198.51.100.100")],
            authentication: .password(Array("1111".utf8) + [0, 0, 0, 0]))),
    Vector(
        name: "v2 PASS backup taking over", payload: "213264010101ecd0c63364643131313100000000",
        source: "198.51.100.2", destination: "224.0.0.18",
        advert: Advertisement(
            version: .v2, virtualRouterID: 50, priority: 100, interval: .seconds(1),
            addresses: [ip("198.51.100.100")], authentication: .password(Array("1111".utf8) + [0, 0, 0, 0]))),
    Vector(
        name: "v2 no auth, two addresses", payload: "213c96020001f38ec6336464c63364650000000000000000",
        source: "198.51.100.1", destination: "224.0.0.18",
        advert: Advertisement(
            version: .v2, virtualRouterID: 60, priority: 150, interval: .seconds(1),
            addresses: [ip("198.51.100.100"), ip("198.51.100.101")])),
    Vector(
        name: "v3 IPv4 0.1 s", payload: "31339601000a0365c6336464", source: "198.51.100.1", destination: "224.0.0.18",
        advert: Advertisement(
            version: .v3, virtualRouterID: 51, priority: 150, interval: .milliseconds(100),
            addresses: [ip("198.51.100.100")])),
    Vector(
        name: "v3 IPv4 priority 0", payload: "31330001000a9965c6336464", source: "198.51.100.1",
        destination: "224.0.0.18",
        advert: Advertisement(
            version: .v3, virtualRouterID: 51, priority: 0, interval: .milliseconds(100),
            addresses: [ip("198.51.100.100")])),
    Vector(
        name: "v3 IPv6", payload: "313496010064ade320010db8000000000000000000000100", source: "fe80::5eff:feaa:1",
        destination: "ff02::12",
        advert: Advertisement(
            version: .v3, virtualRouterID: 52, priority: 150, interval: .seconds(1), addresses: [ip("2001:db8::100")])),
    Vector(
        name: "v3 IPv6 backup", payload: "313464010064dfd120010db8000000000000000000000100",
        source: "fe80::5eff:febb:2",
        destination: "ff02::12",
        advert: Advertisement(
            version: .v3, virtualRouterID: 52, priority: 100, interval: .seconds(1), addresses: [ip("2001:db8::100")])),
    Vector(
        name: "v3 IPv6 two addresses",
        payload: "313696020064ae4ffe80000000000000000000000000010020010db8000000000000000000000100",
        source: "fe80::5eff:feaa:1", destination: "ff02::12",
        advert: Advertisement(
            version: .v3, virtualRouterID: 54, priority: 150, interval: .seconds(1),
            addresses: [ip("fe80::100"), ip("2001:db8::100")])),
    Vector(
        name: "v3 IPv4 unicast", payload: "313596010064b8e5c6336464", source: "198.51.100.1",
        destination: "198.51.100.2",
        advert: Advertisement(
            version: .v3, virtualRouterID: 53, priority: 150, interval: .seconds(1), addresses: [ip("198.51.100.100")])),
    Vector(
        name: "v3 IPv4 unicast, other direction", payload: "313564010064eae5c6336464", source: "198.51.100.2",
        destination: "198.51.100.1",
        advert: Advertisement(
            version: .v3, virtualRouterID: 53, priority: 100, interval: .seconds(1), addresses: [ip("198.51.100.100")])),
    Vector(
        name: "v2 PASS unicast", payload: "213896010101bacac63364643131313100000000", source: "198.51.100.1",
        destination: "198.51.100.2",
        advert: Advertisement(
            version: .v2, virtualRouterID: 56, priority: 150, interval: .seconds(1),
            addresses: [ip("198.51.100.100")], authentication: .password(Array("1111".utf8) + [0, 0, 0, 0]))),
]

@Suite("Advertisement codec against keepalived's packets")
struct AdvertisementTests {
    func packet(_ vector: Vector) -> ReceivedPacket {
        ReceivedPacket(
            payload: hex(vector.payload)[...], source: ip(vector.source), destination: ip(vector.destination),
            hopLimit: 255)
    }

    @Test("keepalived's adverts decode to what they say", arguments: vectors)
    func decodes(vector: Vector) throws {
        let decoded = try Advertisement.decode(packet(vector)).get()
        #expect(decoded == vector.advert)
    }

    @Test("re-encoding gives keepalived's bytes, checksum included", arguments: vectors)
    func encodesByteForByte(vector: Vector) {
        let bytes = vector.advert.encoded(source: ip(vector.source), destination: ip(vector.destination))
        #expect(bytes == hex(vector.payload))
    }

    @Test("a flipped bit anywhere fails the checksum (or a structural check)", arguments: vectors)
    func corruptionIsRejected(vector: Vector) {
        let original = hex(vector.payload)
        for index in original.indices {
            var corrupted = original
            corrupted[index] ^= 0x10
            var mutated = packet(vector)
            mutated.payload = corrupted[...]
            if case .success = Advertisement.decode(mutated) {
                Issue.record("byte \(index) of \(vector.name) corrupted but accepted")
            }
        }
    }

    @Test("the old unicast checksum (multicast group in the pseudo-header) is accepted")
    func oldUnicastChecksum() throws {
        let advert = vectors[9].advert
        let oldStyle = advert.encoded(source: ip("198.51.100.1"), destination: Advertisement.multicastGroup4)
        let received = ReceivedPacket(
            payload: oldStyle[...], source: ip("198.51.100.1"), destination: ip("198.51.100.2"), hopLimit: 255)
        #expect(try Advertisement.decode(received).get() == advert)
    }

    @Test("each structural defect gets its own rejection")
    func structuralRejections() {
        let good = hex(vectors[0].payload)
        func decode(_ bytes: [UInt8]) -> Rejection? {
            let packet = ReceivedPacket(
                payload: bytes[...], source: ip("198.51.100.1"), destination: ip("224.0.0.18"), hopLimit: 255)
            if case .failure(let rejection) = Advertisement.decode(packet) { return rejection }
            return nil
        }
        #expect(decode(Array(good.prefix(7))) == .packetLength)
        #expect(decode(good + [0]) == .packetLength)
        #expect(decode(Array(good.dropLast(4))) == .packetLength)
        var version = good
        version[0] = 0x41
        #expect(decode(version) == .version)
        var type = good
        type[0] = 0x22
        #expect(decode(type) == .invalidType)
        var checksum = good
        checksum[7] ^= 0xff
        #expect(decode(checksum) == .checksum)
        var authType = vectors[0].advert
        authType.authentication = .password([])
        var bytes = authType.encoded(source: ip("198.51.100.1"), destination: ip("224.0.0.18"))
        bytes[4] = 7
        bytes[6] = 0
        bytes[7] = 0
        let sum = InternetChecksum.of(bytes)
        bytes[6] = UInt8(sum >> 8)
        bytes[7] = UInt8(sum & 0xff)
        #expect(decode(bytes) == .invalidAuthenticationType)
    }

    @Test("IPv4 datagrams: header parsed, lengths checked, AH recognised")
    func ipv4Datagrams() throws {
        let frame = hex("45c0002800010000ff70b05dc6336401e0000012213296010101bad0c63364643131313100000000")
        let packet = try ReceivedPacket.parseIPv4(frame[...]).get()
        #expect(packet.source == ip("198.51.100.1"))
        #expect(packet.destination == ip("224.0.0.18"))
        #expect(packet.hopLimit == 255)
        #expect(Array(packet.payload) == hex(vectors[0].payload))
        #expect(throws: Rejection.packetLength) { try ReceivedPacket.parseIPv4(frame.dropLast()).get() }
        #expect(throws: Rejection.packetLength) { try ReceivedPacket.parseIPv4(frame.prefix(12)).get() }
    }
}

@Suite("Receive policy: what one router accepts")
struct ReceivePolicyTests {
    let advert = vectors[0].advert
    let policy = ReceivePolicy(
        version: .v2, authentication: .password(Array("1111".utf8)), interval: .seconds(1),
        virtualAddresses: [ip("198.51.100.100")])

    func packet(
        ttl: Int = 255, destination: String = "224.0.0.18", source: String = "198.51.100.1"
    )
        -> ReceivedPacket
    {
        ReceivedPacket(payload: [], source: ip(source), destination: ip(destination), hopLimit: ttl)
    }

    @Test("an advert with interval 0 (found by fuzzing) decodes, and the router refuses it as an interval error")
    func zeroInterval() throws {
        let datagram = hex("45c0002800330000ff70b05dc62c6401e000001221330001010050d1c63364643131313100000000")
        let parsed = try ReceivedPacket.parseIPv4(datagram[...]).get()
        let decoded = try Advertisement.decode(parsed).get()
        #expect(decoded.interval == .zero)
        #expect(policy.check(decoded, parsed) == .reject(.advertisementInterval))
    }

    @Test("the seed's advert is accepted")
    func accepts() {
        #expect(policy.check(advert, packet()) == .accept(addressListMismatch: false))
    }

    @Test("TTL 254 on multicast is a TTL error; unicast has no 255 rule")
    func ttl() {
        #expect(policy.check(advert, packet(ttl: 254)) == .reject(.ttl))
        var unicast = policy
        unicast.unicastPeers = [.init(address: ip("198.51.100.1"))]
        #expect(
            unicast.check(advert, packet(ttl: 64, destination: "198.51.100.2")) == .accept(addressListMismatch: false))
    }

    @Test("wrong password fails authentication; other auth type is a mismatch")
    func authentication() {
        var wrong = advert
        wrong.authentication = .password(Array("2222".utf8) + [0, 0, 0, 0])
        #expect(policy.check(wrong, packet()) == .reject(.authenticationFailure))
        var none = advert
        none.authentication = .none
        #expect(policy.check(none, packet()) == .reject(.authenticationTypeMismatch))
    }

    @Test("v2 interval mismatch and version mismatch are rejected")
    func intervalAndVersion() {
        var slow = advert
        slow.interval = .seconds(2)
        #expect(policy.check(slow, packet()) == .reject(.advertisementInterval))
        var v3 = advert
        v3.version = .v3
        #expect(policy.check(v3, packet()) == .reject(.version))
    }

    @Test("other addresses are accepted and reported; under strict they are dropped")
    func addressList() {
        var other = advert
        other.addresses = [ip("198.51.100.99")]
        #expect(policy.check(other, packet()) == .accept(addressListMismatch: true))
        var strict = policy
        strict.strict = true
        #expect(strict.check(other, packet()) == .reject(.addressList))
    }

    @Test("unicast: multicast adverts and strangers are refused; peer TTL bounds apply")
    func unicast() {
        var unicast = policy
        unicast.unicastPeers = [.init(address: ip("198.51.100.2"), minimumTTL: 250, maximumTTL: 255)]
        unicast.checkUnicastSource = true
        #expect(unicast.check(advert, packet()) == .reject(.addressList))
        #expect(
            unicast.check(advert, packet(destination: "198.51.100.1", source: "198.51.100.9")) == .reject(.unknownPeer))
        #expect(
            unicast.check(advert, packet(ttl: 200, destination: "198.51.100.1", source: "198.51.100.2"))
                == .reject(.ttl))
        #expect(
            unicast.check(advert, packet(ttl: 255, destination: "198.51.100.1", source: "198.51.100.2"))
                == .accept(addressListMismatch: false))
    }
}

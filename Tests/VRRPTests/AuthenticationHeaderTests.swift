import Checksums
import Testing
import VRRP
import VigilConfig

/// AH as keepalived 2.2.7 puts it on the wire; the vectors are adverts captured from keepalived in the lab
/// (`auth_type AH`, `auth_pass secret1`, VRID 51, priority 200, source 198.51.100.1, VIP 198.51.100.100).
@Suite("AH authentication (VRRPv2)")
struct AuthenticationHeaderTests {
    /// keepalived's first two adverts as MASTER, IP header included (sequence 1 and 2, identification 1 and 2).
    static let first = hex(
        "45c0004000010000ff33b082c6336401e000001270040000c633640100000001"
            + "2e2e92454de3be20efbe8b062133c8010201ea31c63364640000000000000000")
    static let second = hex(
        "45c0004000020000ff33b081c6336401e000001270040000c633640100000002d7e1c192191dbce516a27aca2133c8010201ea31c63364640000000000000000")
    let key = AuthenticationHeader.key(Array("secret1".utf8))
    let source = IPAddress("198.51.100.1")!
    let group = IPAddress("224.0.0.18")!

    var advert: [UInt8] {
        Advertisement(
            version: .v2, virtualRouterID: 51, priority: 200, interval: .seconds(1),
            addresses: [IPAddress("198.51.100.100")!], authentication: .ah
        ).encoded(source: source, destination: group)
    }

    @Test("keepalived's adverts verify, with their sequence numbers")
    func keepalivedVerifies() {
        #expect(AuthenticationHeader.verify(Self.first[...], unicast: false, key: key) == .success(1))
        #expect(AuthenticationHeader.verify(Self.second[...], unicast: false, key: key) == .success(2))
    }

    @Test("Vigil builds keepalived's packet byte for byte (the kernel fills the IP checksum)")
    func sameBytes() throws {
        let packet = AuthenticationHeader.packet(
            advert: advert, source: source, destination: group, ttl: 255, identification: 2, sequence: 2,
            unicast: false, key: key)
        var expected = Self.second
        expected[10] = 0
        expected[11] = 0
        #expect(packet == expected)
        let decoded = ReceivedPacket.parseIPv4(Self.second[...])
        guard case .success(let received) = decoded else {
            Issue.record("parse: \(decoded)")
            return
        }
        #expect(received.hasAuthenticationHeader)
        #expect(try Advertisement.decode(received).get().authentication == .ah)
    }

    @Test("a wrong ICV, key, SPI or length is an authentication failure or a length error")
    func hostile() {
        var badICV = Self.first
        badICV[35] ^= 1
        #expect(AuthenticationHeader.verify(badICV[...], unicast: false, key: key) == .failure(.authenticationFailure))
        #expect(
            AuthenticationHeader.verify(Self.first[...], unicast: false, key: AuthenticationHeader.key(Array("other".utf8)))
                == .failure(.authenticationFailure))
        // Another SPI with a correct ICV for it: still refused, the SPI must be the source address.
        let spoofed = AuthenticationHeader.packet(
            advert: advert, source: source, destination: group, ttl: 255, identification: 1, sequence: 1,
            unicast: false, key: key)
        var wrongSPI = spoofed
        wrongSPI[27] ^= 1
        #expect(AuthenticationHeader.verify(wrongSPI[...], unicast: false, key: key) == .failure(.authenticationFailure))
        #expect(AuthenticationHeader.verify(Self.first[0..<40], unicast: false, key: key) == .failure(.packetLength))
        // A changed advert under a kept ICV.
        var changed = Self.first
        changed[46] = 254
        #expect(AuthenticationHeader.verify(changed[...], unicast: false, key: key) == .failure(.authenticationFailure))
    }

    @Test("the TTL is covered in multicast, not in unicast (keepalived's rule)")
    func ttl() {
        let peer = IPAddress("198.51.100.2")!
        var unicast = AuthenticationHeader.packet(
            advert: advert, source: source, destination: peer, ttl: 64, identification: 1, sequence: 1, unicast: true,
            key: key)
        unicast[8] = 60  // four routers later
        #expect(AuthenticationHeader.verify(unicast[...], unicast: true, key: key) == .success(1))
        var multicast = Self.first
        multicast[8] = 254
        #expect(AuthenticationHeader.verify(multicast[...], unicast: false, key: key) == .failure(.authenticationFailure))
    }

    @Test("one counter numbers what is sent and refuses what is not above it")
    func sequence() {
        var sequence = AuthenticationSequence()
        let sent = [sequence.next(), sequence.next()]
        #expect(sent == [1, 2])
        let replays = [sequence.accept(2), sequence.accept(1)]
        #expect(replays == [false, false], "a replay and an old one")
        let newer = sequence.accept(10)
        #expect(newer)
        let afterHearing = sequence.next()
        #expect(afterHearing == 11, "a new master carries on above what it heard")
        var exhausted = AuthenticationSequence()
        let last = exhausted.accept(0xffff_fffe)
        #expect(last)
        let atEnd = exhausted.next()
        #expect(atEnd == 0xffff_fffe, "at the end it stays")
        exhausted.becameMaster()
        let restarted = exhausted.next()
        #expect(restarted == 1, "and starts over when it next becomes master")
    }
}

import Testing
import VRRP
import VigilConfig

@Suite("IPv4 packets")
struct IPv4PacketTests {
    @Test("the IPv4 header VRRP sends: TOS 0xC0, TTL 255, no DF, our identification")
    func ipv4Header() {
        let header = IPv4Packet.header(
            payloadLength: 20, source: IPAddress("198.51.100.1")!, destination: IPAddress("224.0.0.18")!, ttl: 255,
            identification: 1)
        #expect(header == hex("45c0002800010000ff700000c6336401e0000012"))
    }
}

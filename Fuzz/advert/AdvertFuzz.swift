import VRRP
import VigilConfig

/// libFuzzer target: any bytes as a received IPv4 datagram and as an IPv6 VRRP payload, through the parser, the
/// decoder and a router's receive checks. A decoded advert must survive encoding and decoding again unchanged.
let policy = ReceivePolicy(
    version: .v2, authentication: .password(Array("1111".utf8)), interval: .seconds(1),
    virtualAddresses: [IPAddress("198.51.100.100")!])
let policy3 = ReceivePolicy(version: .v3, interval: .milliseconds(100), virtualAddresses: [IPAddress("2001:db8::100")!])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = pointer else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if case .success(let packet) = ReceivedPacket.parseIPv4(bytes[...]) { check(packet, policy) }
    let packet6 = ReceivedPacket(
        payload: bytes[...], source: IPAddress("fe80::1")!, destination: Advertisement.multicastGroup6, hopLimit: 255)
    check(packet6, policy3)
    return 0
}

func check(_ packet: ReceivedPacket, _ policy: ReceivePolicy) {
    guard case .success(let advert) = Advertisement.decode(packet) else { return }
    _ = policy.check(advert, packet)
    let again = ReceivedPacket(
        payload: advert.encoded(source: packet.source, destination: packet.destination)[...], source: packet.source,
        destination: packet.destination, hopLimit: packet.hopLimit,
        hasAuthenticationHeader: packet.hasAuthenticationHeader)
    // The encoder writes an interval of at least 1 (seconds in v2, centiseconds in v3); 0 is the one value that
    // cannot come back unchanged (the receive checks refuse it as an interval mismatch).
    var expected = advert
    if expected.interval == .zero { expected.interval = advert.version == .v2 ? .seconds(1) : .milliseconds(10) }
    guard case .success(let decoded) = Advertisement.decode(again), decoded == expected else {
        fatalError("an advert that decodes does not survive encode and decode: \(advert)")
    }
}

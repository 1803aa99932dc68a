import Testing
import VigilConfig

@testable import LinuxNet

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

let mac: [UInt8] = [0x02, 0x00, 0x5e, 0xaa, 0x00, 0x01]

@Suite("Announcement frames, byte for byte as keepalived sends them")
struct FrameTests {
    @Test("gratuitous ARP: request to broadcast, sender and target IP the VIP")
    func gratuitousARP() {
        let frame = AnnouncementFrame.gratuitousARP(from: mac, address: IPAddress("198.51.100.100")!)
        #expect(frame == hex("ffffffffffff02005eaa00010806000108000604000102005eaa0001c6336464ffffffffffffc6336464"))
    }

    @Test("unsolicited NA: from the VIP to ff02::1, hop limit 255, Override, target link-layer option")
    func neighborAdvertisement() {
        let frame = AnnouncementFrame.unsolicitedNeighborAdvertisement(
            from: mac, address: IPAddress("2001:db8::100")!, router: false)
        #expect(
            frame
                == hex(
                    "33330000000102005eaa000186dd6000000000203aff20010db8000000000000000000000100ff020000000000000000000000000001880098822000000020010db8000000000000000000000100020102005eaa0001"
                ))
        let routerFrame = AnnouncementFrame.unsolicitedNeighborAdvertisement(
            from: mac, address: IPAddress("2001:db8::100")!, router: true)
        #expect(routerFrame[58] == 0xa0, "Router and Override flags")
    }
}

@Suite("rtnetlink messages")
struct NetlinkMessageTests {
    @Test("an address request parses back to the address it asked for")
    func addressRoundTrip() {
        var address = InterfaceAddress(index: 7, prefix: IPPrefix("198.51.100.100/24")!)
        address.broadcast = IPAddress("198.51.100.255")
        address.label = "eth0:vip"
        let bytes = NetlinkMessage.address(add: true, address, sequence: 42, protocol: 86)
        #expect(bytes.count % 4 == 0)
        #expect(NetlinkMessage.readUInt32(bytes[...], 0) == UInt32(bytes.count))
        #expect(NetlinkMessage.readUInt16(bytes[...], 4) == NetlinkMessage.newAddress)
        #expect(NetlinkMessage.readUInt16(bytes[...], 6) == 0x1 | 0x4 | 0x400 | 0x200)
        let events = NetlinkMessage.parse(bytes[...])
        var expected = address
        expected.protocol = 86
        #expect(events == [.address(expected, removed: false)])
    }

    @Test("an acknowledgement carries the request's sequence and errno")
    func acknowledgement() {
        // struct nlmsgerr: error (negative errno), then the original header.
        var body = NetlinkMessage.uint32(UInt32(bitPattern: -17))
        body += [UInt8](repeating: 0, count: 16)
        let bytes = NetlinkMessage.message(type: NetlinkMessage.error, flags: 0, sequence: 9, body: body)
        #expect(NetlinkMessage.parse(bytes[...]) == [.acknowledgement(sequence: 9, errno: 17, message: nil)])
    }

    @Test("truncated and lying messages end the walk without a crash")
    func hostile() {
        var address = InterfaceAddress(index: 1, prefix: IPPrefix("2001:db8::1/64")!)
        address.label = nil
        let good = NetlinkMessage.address(add: true, address, sequence: 1, protocol: nil)
        for length in 0..<good.count { _ = NetlinkMessage.parse(good[0..<length]) }
        var lying = good
        lying[0] = 0xff
        lying[1] = 0xff
        #expect(NetlinkMessage.parse(lying[...]).isEmpty)
        var badAttribute = good
        badAttribute[24] = 200
        _ = NetlinkMessage.parse(badAttribute[...])
    }

    /// Inputs libFuzzer found (scripts/fuzz); each once crashed the parser.
    @Test(
        "fuzzer findings parse without a crash",
        arguments: [
            "500000000200c62364641bf90000000000000080006576696365206e6f74200f0000000000000020c633640108026433c6000200c633640109000300c633640108000200c60109001f030065000008000800006b00c000"
        ])
    func fuzzerFindings(_ input: String) {
        _ = NetlinkMessage.parse(hex(input)[...])
    }
}

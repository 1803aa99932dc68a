import Foundation
import Testing
import VigilTestSupport

/// Bad adverts from a third host (scapy): each is dropped, counted under its own counter, and changes nothing.
@Suite("Hostile adverts", .serialized, .enabled(if: TestLab.shouldRun))
struct HostilePacketTests {
    /// Sends one crafted VRRPv2 advert from the node it runs on. Every advert claims priority 254 for VRID 50 and
    /// the VIP, so that any that were accepted would take the VIP away from the master.
    static let script = #"""
        import struct, sys
        from scapy.all import Ether, IP, Raw, sendp, conf, get_if_hwaddr
        conf.verb = 0
        kind = sys.argv[1]
        def checksum(data):
            if len(data) % 2: data += b"\0"
            total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
            while total >> 16: total = (total & 0xffff) + (total >> 16)
            return ~total & 0xffff
        vrid = 99 if kind == "vrid" else 50
        password = b"2222" if kind == "password" else b"1111"
        advert = struct.pack("!BBBBBBH", 0x21, vrid, 254, 1, 1, 1, 0) + bytes([198, 51, 100, 100]) + password.ljust(8, b"\0")
        value = checksum(advert)
        if kind == "checksum": value ^= 0x5555
        advert = advert[:6] + struct.pack("!H", value) + advert[8:]
        ttl = 254 if kind == "ttl" else 255
        frame = Ether(src=get_if_hwaddr("eth0"), dst="01:00:5e:00:00:12") / IP(src="198.51.100.3", dst="224.0.0.18", ttl=ttl, proto=112, tos=0xc0)
        sendp(frame / Raw(load=advert), iface="eth0", count=3)
        """#

    @Test("wrong password, TTL 254, bad checksum and wrong VRID change nothing and bump their counters")
    func hostileAdverts() throws {
        guard Command.exists("/usr/bin/python3") else {
            Issue.record("Debian's python3 with scapy is needed; scripts/test installs python3-scapy")
            return
        }
        let lab = try VRRPLab("hostile", nodes: 3)
        defer { lab.close() }
        try lab.startVigil("n1", config: vrrpConfig(state: "MASTER", priority: 150, password: "1111"))
        try lab.startVigil("n2", config: vrrpConfig(priority: 100, password: "1111"))
        #expect(lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(6)) != nil, "\(lab.log("n1"))")
        sleep(1)
        let before = try lab.vigilStats("n2")
        let script = try lab.lab.write("hostile.py", Self.script)
        for kind in ["password", "ttl", "checksum", "vrid"] {
            try lab.lab.run(lab.namespace("n3"), ["/usr/bin/python3", script, kind])
        }
        sleep(1)
        let after = try lab.vigilStats("n2")
        func delta(_ key: String) -> Int { (after[key] ?? 0) - (before[key] ?? 0) }
        #expect(delta("Authentication Errors/Failure") == 3, "\(after)")
        #expect(delta("Packet Errors/TTL") == 3, "\(after)")
        #expect(delta("Vigil/Checksum Errors") == 3, "\(after)")
        #expect(delta("Unknown VRID") == 3, "\(after)")
        // Nothing moved: n1 still holds the VIP, n2 never became master, n1 never released it.
        #expect(lab.holders("198.51.100.100") == ["n1"])
        #expect(after["Became master"] == 0)
        let master = try lab.vigilStats("n1")
        #expect(master["Released master"] == 0)
        #expect(master["Authentication Errors/Failure"] == 3, "the master drops them too: \(master)")
    }
}

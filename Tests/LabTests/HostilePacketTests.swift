import Foundation
import Testing
import VigilTestSupport

/// Bad adverts from a third host (scapy): each class is dropped, counted under its own counter (Vigil's, or the
/// kernel's for what never reaches a raw socket), logged at most once per 10 s, and changes nothing; a legitimate
/// advert right after is accepted.
@Suite("Hostile adverts", .serialized, .enabled(if: TestLab.shouldRun))
struct HostilePacketTests {
    /// Sends three crafted adverts of one class from the node it runs on (n3, 198.51.100.3). Every advert claims
    /// priority 254 for VRID 50 and the VIP, so that any that were accepted would take the VIP from the master.
    static let script = #"""
        import struct, sys, socket
        from scapy.all import Ether, IP, IPOption_Router_Alert, Raw, sendp, conf, get_if_hwaddr, fragment
        conf.verb = 0
        kind = sys.argv[1]
        password = sys.argv[2].encode() if len(sys.argv) > 2 else b"1111"
        destination = sys.argv[3] if len(sys.argv) > 3 else "224.0.0.18"
        source = "198.51.100.3"
        def checksum(data):
            if len(data) % 2: data += b"\0"
            total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
            while total >> 16: total = (total & 0xffff) + (total >> 16)
            return ~total & 0xffff
        vrid = 99 if kind == "vrid" else 50
        priority = 255 if kind == "owner" else 254
        address = bytes([198, 51, 100, 77]) if kind == "addresses" else bytes([198, 51, 100, 100])
        if kind == "version":
            # A well-formed VRRPv3 advert (its checksum over the IPv4 pseudo-header) sent to v2 routers.
            advert = struct.pack("!BBBBHH", 0x31, vrid, priority, 1, 100, 0) + address
            pseudo = socket.inet_aton(source) + socket.inet_aton(destination) + struct.pack("!BBH", 0, 112, len(advert))
            value = checksum(pseudo + advert)
        else:
            version_type = 0x22 if kind == "type" else 0x21
            auth_type = {"authtype": 3, "authmismatch": 0}.get(kind, 1 if password else 0)
            interval = 2 if kind == "interval" else 1
            secret = b"2222" if kind == "password" else password
            advert = struct.pack("!BBBBBBH", version_type, vrid, priority, 1, auth_type, interval, 0) + address + secret.ljust(8, b"\0")
            value = checksum(advert)
        if kind in ("checksum", "options", "fragments"): value ^= 0x5555
        advert = advert[:6] + struct.pack("!H", value) + advert[8:]
        if kind == "length": advert = advert[:10]
        ttl = 254 if kind == "ttl" else 255
        ether = Ether(src=get_if_hwaddr("eth0"), dst="01:00:5e:00:00:12" if destination.startswith("224.") else None)
        for copy in range(3):
            ip = IP(src=source, dst=destination, ttl=ttl, proto=112, tos=0xc0, id=4000 + copy)
            if kind == "options":
                ip.options = [IPOption_Router_Alert()]
            if kind == "fragments":
                frames = [ether / f for f in fragment(ip / Raw(load=advert), fragsize=8)]
            elif kind == "orphan":
                # The first fragment of an advert whose rest never comes.
                frames = [ether / fragment(ip / Raw(load=advert), fragsize=8)[0]]
            elif kind == "truncated":
                # An IP header that claims 24 bytes of header and a total length shorter than that.
                raw = bytes(ip / Raw(load=advert))
                raw = bytes([0x46]) + raw[1:2] + struct.pack("!H", 22) + raw[4:]
                frames = [Ether(src=get_if_hwaddr("eth0"), dst="01:00:5e:00:00:12", type=0x0800) / Raw(load=raw)]
            else:
                frames = [ether / ip / Raw(load=advert)]
            sendp(frames, iface="eth0")
        """#

    /// Each class, the counters it must move (on the backup, per advert sent) and the log line Vigil writes.
    static let classes: [(kind: String, counters: [String], log: String?)] = [
        ("length", ["Packet Errors/Length"], "bad length"),
        ("ttl", ["Packet Errors/TTL"], "bad TTL/hop limit"),
        ("version", ["Vigil/Version Errors"], "wrong VRRP version"),
        ("type", ["Packet Errors/Invalid Type"], "not an advertisement"),
        ("checksum", ["Vigil/Checksum Errors"], "bad checksum"),
        ("authtype", ["Authentication Errors/Invalid Type"], "unknown authentication type"),
        ("authmismatch", ["Authentication Errors/Type Mismatch"], "authentication type mismatch"),
        ("password", ["Authentication Errors/Failure"], "authentication failure"),
        ("interval", ["Packet Errors/Advertisement Interval"], "advertisement interval mismatch"),
        ("vrid", ["Unknown VRID"], nil),
        // The header length is read from the packet: an advert behind IP options is found (and its bad checksum
        // counted); fragments are reassembled by the kernel first.
        ("options", ["Vigil/Checksum Errors"], "bad checksum"),
        ("fragments", ["Vigil/Checksum Errors"], "bad checksum"),
        // These never reach a raw socket: the kernel drops them (and counts them in its own statistics).
        ("truncated", [], nil),
        ("orphan", [], nil),
    ]

    func runScript(_ lab: VRRPLab, _ arguments: [String]) throws {
        let script = try lab.lab.write("hostile.py", Self.script)
        try lab.lab.run(lab.namespace("n3"), ["/usr/bin/python3", script] + arguments)
    }

    /// The kernel's IP statistics in a namespace (`Ip: InHdrErrors ...`), by name.
    func kernelIPStatistics(_ lab: VRRPLab, _ node: String) throws -> [String: Int] {
        let namespace = node == "hub" ? lab.hub : lab.namespace(node)
        let lines = try lab.lab.run(namespace, ["cat", "/proc/net/snmp"]).output.split(separator: "\n")
        let ip = lines.filter { $0.hasPrefix("Ip:") }
        guard ip.count == 2 else { return [:] }
        let names = ip[0].split(separator: " ").dropFirst().map(String.init)
        let values = ip[1].split(separator: " ").dropFirst().compactMap { Int($0) }
        return Dictionary(zip(names, values), uniquingKeysWith: { first, _ in first })
    }

    @Test("every malformed class is dropped, counted under its own counter, logged once, and changes nothing")
    func everyClass() throws {
        let lab = try VRRPLab("hostile", nodes: 3)
        defer { lab.close() }
        try lab.startVigil("n1", config: vrrpConfig(state: "MASTER", priority: 150, password: "1111"))
        try lab.startVigil("n2", config: vrrpConfig(priority: 100, password: "1111"))
        #expect(lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(6)) != nil, "\(lab.log("n1"))")
        sleep(1)
        let before = try lab.vigilStats("n2")
        // A truncated IP header is dropped by the kernel: by the bridge when it checks IP headers (br_netfilter),
        // else by the receiver; either counts it in its namespace's IP statistics.
        let kernelBefore = try kernelIPStatistics(lab, "n2").merging(
            try kernelIPStatistics(lab, "hub"), uniquingKeysWith: +)
        for entry in Self.classes { try runScript(lab, [entry.kind]) }
        sleep(1)
        let after = try lab.vigilStats("n2")
        let kernelAfter = try kernelIPStatistics(lab, "n2").merging(
            try kernelIPStatistics(lab, "hub"), uniquingKeysWith: +)
        func delta(_ key: String) -> Int { (after[key] ?? 0) - (before[key] ?? 0) }
        var expected = [String: Int]()
        for entry in Self.classes {
            for counter in entry.counters { expected[counter, default: 0] += 3 }
        }
        for (counter, count) in expected {
            #expect(delta(counter) == count, "\(counter): \(delta(counter)) instead of \(count)\n\(after)")
        }
        // Nothing reached the state machine: no advert counted as received beyond the master's, no state change.
        #expect(lab.holders("198.51.100.100") == ["n1"])
        #expect(after["Became master"] == 0)
        #expect(try lab.vigilStats("n1")["Released master"] == 0)
        // The kernel dropped the truncated header itself.
        let headerErrors = (kernelAfter["InHdrErrors"] ?? 0) - (kernelBefore["InHdrErrors"] ?? 0)
        #expect(headerErrors >= 3, "kernel header errors: \(headerErrors)")
        // One log line per kind of problem (they all came within 10 s of each other).
        let log = lab.log("n2")
        for message in Set(Self.classes.compactMap(\.log)) {
            let lines = log.split(separator: "\n").filter {
                $0.contains("dropped an advert from 198.51.100.3: \(message)")
            }
            #expect(lines.count == 1, "\(message): \(lines.count) lines\n\(log)")
        }

        // A legitimate advert right after is accepted: priority 254 with the right password takes the master
        // role from n1.
        try runScript(lab, ["legitimate"])
        #expect(
            Lab.wait(timeout: .seconds(2)) {
                lab.log("n1").contains("(VI_1) MASTER -> BACKUP: advert from 198.51.100.3 with higher priority 254")
            } != nil, "\(lab.log("n1"))")
    }

    /// Crafts AH adverts (priority 254, VRID 50) from n3 as keepalived builds them, then spoils one part per kind:
    /// `icv` (a wrong key), `spi` (the SPI is not the source, the ICV right for it), `truncated` (the AH header cut),
    /// `old` (right key and SPI, sequence number 1, long since seen); `replay` resends the master's last advert from
    /// a capture, byte for byte.
    static let ahScript = #"""
        import hmac, hashlib, struct, socket, sys
        from scapy.all import Ether, Raw, sendp, conf, get_if_hwaddr, rdpcap
        conf.verb = 0
        kind = sys.argv[1]
        def checksum(data):
            if len(data) % 2: data += b"\0"
            total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
            while total >> 16: total = (total & 0xffff) + (total >> 16)
            return ~total & 0xffff
        def packet(source, spi, sequence, key):
            advert = struct.pack("!BBBBBBH", 0x21, 50, 254, 1, 2, 1, 0) + bytes([198, 51, 100, 100]) + bytes(8)
            advert = advert[:6] + struct.pack("!H", checksum(advert)) + advert[8:]
            header = struct.pack("!BBHHHBBH", 0x45, 0xc0, 20 + 24 + len(advert), 7000, 0, 255, 51, 0)
            header += socket.inet_aton(source) + socket.inet_aton("224.0.0.18")
            ah = struct.pack("!BBH", 112, 4, 0) + socket.inet_aton(spi) + struct.pack("!I", sequence)
            covered = bytearray(header); covered[1] = 0
            icv = hmac.new(key, bytes(covered) + ah + bytes(12) + advert, hashlib.md5).digest()[:12]
            # The kernel drops an IPv4 header with a bad checksum before any socket sees it.
            header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
            return header + ah + icv + advert
        frames = []
        if kind == "replay":
            for frame in rdpcap(sys.argv[2]):
                raw = bytes(frame)
                if raw[12:14] == b"\x08\x00" and raw[23] == 51 and raw[26:30] == socket.inet_aton("198.51.100.1"):
                    last = raw[14:]
            frames = [last] * 3
        else:
            key = b"wrong" if kind == "icv" else b"secret1"
            spi = "198.51.100.9" if kind == "spi" else "198.51.100.3"
            raw = packet("198.51.100.3", spi, 1, key)
            if kind == "truncated":
                raw = raw[:2] + struct.pack("!H", 30) + raw[4:10] + bytes(2) + raw[12:30]
                raw = raw[:10] + struct.pack("!H", checksum(raw[:20])) + raw[12:]
            frames = [raw] * 3
        sendp([Ether(src=get_if_hwaddr("eth0"), dst="01:00:5e:00:00:12", type=0x0800) / Raw(load=f) for f in frames],
              iface="eth0")
        """#

    @Test("AH: a bad ICV, a wrong SPI, a truncated header, an old sequence number and a replay are dropped and counted")
    func authenticationHeader() throws {
        let lab = try VRRPLab("hostile-ah", nodes: 3)
        defer { lab.close() }
        let capture = try Capture(lab: lab.lab, namespace: lab.hub, interface: "br0", filter: "ip proto 51", name: "wire")
        try lab.startVigil("n1", config: vrrpConfig(state: "MASTER", priority: 150, password: "secret1", authType: "AH"))
        try lab.startVigil("n2", config: vrrpConfig(priority: 100, password: "secret1", authType: "AH"))
        #expect(lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(8)) != nil, "\(lab.log("n1"))")
        sleep(2)
        let before = try lab.vigilStats("n2")
        let script = try lab.lab.write("hostile-ah.py", Self.ahScript)
        for kind in ["icv", "spi", "truncated", "old"] {
            try lab.lab.run(lab.namespace("n3"), ["/usr/bin/python3", script, kind])
        }
        // The capture so far holds the master's adverts; the last one is replayed.
        let replaySource = lab.lab.path("replay.pcap")
        try lab.lab.run(lab.hub, ["tshark", "-n", "-r", capture.file, "-w", replaySource, "-F", "pcap"])
        try lab.lab.run(lab.namespace("n3"), ["/usr/bin/python3", script, "replay", replaySource])
        sleep(2)
        let after = try lab.vigilStats("n2")
        capture.stop()
        func delta(_ key: String) -> Int { (after[key] ?? 0) - (before[key] ?? 0) }
        // icv, spi, old and replay: 3 each. A truncated AH header is too broken to tell whose it is: Vigil counts it
        // as malformed (keepalived only logs it).
        #expect(delta("Authentication Errors/Failure") == 12, "\(after)")
        #expect(delta("Malformed") == 3, "\(after)")
        #expect(lab.holders("198.51.100.100") == ["n1"])
        #expect(after["Became master"] == 0)
        #expect(try lab.vigilStats("n1")["Released master"] == 0)
        // The master kept its interval through it all: no gap between its adverts beyond the interval and a margin.
        let times = try capture.fields(["frame.time_epoch"], filter: "ip.src == 198.51.100.1").compactMap {
            Double($0[0])
        }
        #expect(times.count >= 4, "the master's adverts on the wire")
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 < 1.25 }, "gaps between the master's adverts: \(gaps)")
    }

    @Test("vrrp_strict drops an advert whose address list is not ours; unicast drops priority 255 from a stranger")
    func strictAndUnicast() throws {
        let lab = try VRRPLab("strict", nodes: 3)
        defer { lab.close() }
        func strict(_ config: String) -> String {
            config.replacingOccurrences(of: "global_defs {", with: "global_defs {\n    vrrp_strict")
        }
        try lab.startVigil("n1", config: strict(vrrpConfig(state: "MASTER", priority: 150)))
        try lab.startVigil("n2", config: strict(vrrpConfig(priority: 100)))
        #expect(lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(6)) != nil, "\(lab.log("n1"))")
        sleep(1)
        let before = try lab.vigilStats("n2")
        try runScript(lab, ["addresses", ""])
        sleep(1)
        let after = try lab.vigilStats("n2")
        #expect(
            (after["Packet Errors/Address List"] ?? 0) - (before["Packet Errors/Address List"] ?? 0) == 3, "\(after)")
        #expect(lab.holders("198.51.100.100") == ["n1"])
        lab.stop("n1")
        lab.stop("n2")

        // Unicast with vrrp_check_unicast_src: an advert claiming to own the VIP (priority 255, right password)
        // from an address that is not a peer. (Without the option keepalived, and Vigil, accept any source.)
        func checked(_ config: String) -> String {
            config.replacingOccurrences(of: "global_defs {", with: "global_defs {\n    vrrp_check_unicast_src")
        }
        try lab.startVigil(
            "n1",
            config: checked(
                vrrpConfig(
                    state: "MASTER", priority: 150, password: "1111", unicastSource: "198.51.100.1",
                    peers: ["198.51.100.2"])))
        try lab.startVigil(
            "n2",
            config: checked(
                vrrpConfig(priority: 100, password: "1111", unicastSource: "198.51.100.2", peers: ["198.51.100.1"])))
        #expect(lab.waitForHolder("n1", of: "198.51.100.100", timeout: .seconds(6)) != nil, "\(lab.log("n1"))")
        sleep(1)
        let unicastBefore = try lab.vigilStats("n1")
        try runScript(lab, ["owner", "1111", "198.51.100.1"])
        sleep(1)
        let unicastAfter = try lab.vigilStats("n1")
        #expect((unicastAfter["Vigil/Unknown Peer"] ?? 0) - (unicastBefore["Vigil/Unknown Peer"] ?? 0) == 3)
        #expect(unicastAfter["Released master"] == 0)
        #expect(lab.holders("198.51.100.100") == ["n1"])
    }
}

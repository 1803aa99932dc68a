import Foundation
import HealthCheck
import Testing
import VigilConfig
import VigilTestSupport

/// Vigil's IPVS messages against pyroute2's (from PyPI, installed by the test command into .build-pyroute2), an
/// encoder written independently of Vigil and of keepalived: the same operations must give the same netlink
/// headers and, attribute for attribute, the same payloads.
@Suite("IPVS generic netlink: Vigil's messages equal pyroute2's", .enabled(if: TestLab.shouldRun))
struct IPVSMessageTests {
    struct Parsed: Equatable, CustomStringConvertible {
        var type: UInt16
        var flags: UInt16
        var sequence: UInt32
        var command: UInt8
        var version: UInt8
        /// Top-level attribute type -> its nested attributes, sorted by type.
        var attributes: [UInt16: [Attribute]]

        struct Attribute: Equatable, Comparable, CustomStringConvertible {
            var type: UInt16
            var payload: [UInt8]
            static func < (a: Attribute, b: Attribute) -> Bool { a.type < b.type }
            var description: String { "\(type)=\(payload.map { String(format: "%02x", $0) }.joined())" }
        }

        var description: String {
            "type \(type) flags \(flags) seq \(sequence) cmd \(command) v\(version) \(attributes.sorted { $0.key < $1.key })"
        }
    }

    static func attributes(_ bytes: ArraySlice<UInt8>) -> [Parsed.Attribute] {
        var result = [Parsed.Attribute]()
        var offset = bytes.startIndex
        while offset + 4 <= bytes.endIndex {
            let length = Int(UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8)
            let type = UInt16(bytes[offset + 2]) | UInt16(bytes[offset + 3]) << 8
            guard length >= 4, offset + length <= bytes.endIndex else { break }
            result.append(Parsed.Attribute(type: type, payload: Array(bytes[(offset + 4)..<(offset + length)])))
            offset += (length + 3) & ~3
        }
        return result.sorted()
    }

    static func parse(_ bytes: [UInt8]) -> Parsed {
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        let sequence = UInt32(u16(8)) | UInt32(u16(10)) << 16
        var nested = [UInt16: [Parsed.Attribute]]()
        for top in attributes(bytes[20...]) { nested[top.type] = attributes(top.payload[...]) }
        #expect(Int(UInt32(u16(0)) | UInt32(u16(2)) << 16) == bytes.count, "the length field covers the message")
        return Parsed(
            type: u16(4), flags: u16(6), sequence: sequence, command: bytes[16], version: bytes[17],
            attributes: nested)
    }

    @Test("add, change and delete services and destinations: IPv4 and IPv6, TCP and UDP, NAT, DR and TUN, firewall marks, persistence granularity and engine, scheduler flags, thresholds, gue tunnels")
    func sameAsPyroute2() throws {
        let script = "\(Package.root)/Tests/LabTests/Fixtures/ipvs_pyroute2.py"
        let result = try Command.run(
            ["env", "PYTHONPATH=\(Package.root)/.build-pyroute2", "/usr/bin/python3", script])
        let theirs = result.output.split(separator: "\n").map { line in
            stride(from: 0, to: line.count, by: 2).map { index -> UInt8 in
                let start = line.index(line.startIndex, offsetBy: index)
                return UInt8(line[start..<line.index(start, offsetBy: 2)], radix: 16)!
            }
        }
        let web = Service(address: IPAddress("203.0.113.100")!, port: 80, scheduler: "rr")
        let sticky = Service(
            address: IPAddress("2001:db8::100")!, port: 443, scheduler: "wlc", persistence: .seconds(300))
        var dns = Service(address: IPAddress("203.0.113.53")!, port: 53, transportProtocol: .udp, scheduler: "sh")
        dns.flags = 0x4 | 0x8 | 0x10  // ops, sh-fallback, sh-port
        var marked = Service(firewallMark: 5, family: .ipv4, scheduler: "wlc", persistence: .seconds(100))
        marked.netmask = 0xffff_ffff
        var sip = Service(
            address: IPAddress("203.0.113.60")!, port: 5060, transportProtocol: .udp, scheduler: "rr",
            persistence: .seconds(60))
        sip.netmask = 0xffff_ff00
        sip.persistenceEngine = "sip"
        var wide6 = Service(
            address: IPAddress("2001:db8::101")!, port: 80, scheduler: "rr", persistence: .seconds(30))
        wide6.netmask = 64
        var gue = Destination(address: IPAddress("198.51.100.13")!, port: 0, weight: 1, forwardingMethod: .tunnel)
        var tunnel = VirtualServer.Tunnel()
        tunnel.kind = .gue
        tunnel.port = 6080
        tunnel.checksum = .checksum
        gue.tunnel = tunnel
        gue.upperThreshold = 100
        gue.lowerThreshold = 10
        let rs1 = Destination(address: IPAddress("198.51.100.11")!, port: 80, weight: 2, forwardingMethod: .nat)
        var quiet = rs1
        quiet.weight = 0
        let rs6 = Destination(
            address: IPAddress("2001:db8::11")!, port: 8443, weight: 5, forwardingMethod: .directRouting)
        let dns1 = Destination(address: IPAddress("198.51.100.12")!, port: 53, weight: 1, forwardingMethod: .tunnel)
        let operations: [(IPVSMessage.Command, Service, Destination?)] = [
            (.newService, web, nil), (.newService, sticky, nil), (.newService, dns, nil),
            (.newDestination, web, rs1), (.setDestination, web, quiet), (.newDestination, sticky, rs6),
            (.newDestination, dns, dns1), (.deleteDestination, web, rs1), (.deleteService, web, nil),
            (.newService, marked, nil), (.newDestination, marked, gue), (.newService, sip, nil),
            (.newService, wide6, nil),
        ]
        let ours = operations.enumerated().map { index, operation in
            IPVSMessage.message(
                operation.0, service: operation.1, destination: operation.2, familyID: 0x20,
                sequence: UInt32(index + 1))
        }
        #expect(theirs.count == ours.count, "pyroute2 printed \(result.output) \(result.error)")
        for (operation, mine) in zip(operations, ours) {
            // Not vacuous: every message carries its service, and destination commands their destination.
            let parsed = Self.parse(mine)
            #expect((parsed.attributes[1]?.count ?? 0) >= 2)
            #expect(operation.2 == nil || parsed.attributes[2]?.count == 10)
        }
        for (mine, reference) in zip(ours, theirs) {
            #expect(Self.parse(mine) == Self.parse(reference), "\nVigil:    \(Self.parse(mine))\npyroute2: \(Self.parse(reference))")
        }
    }
}

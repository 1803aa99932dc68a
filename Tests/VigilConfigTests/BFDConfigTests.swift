import Testing

@testable import VigilConfig

/// `bfd_instance` read as keepalived 2.2.7 reads it.
@Suite("Config: bfd_instance")
struct BFDConfigTests {
    @Test("defaults: 10 ms, idle 1 s, multiplier 5, TTL 255 (64 over IPv6), both processes")
    func defaults() throws {
        let result = load("bfd_instance a {\n    neighbor_ip 192.0.2.1\n}\nbfd_instance b {\n    neighbour_ip 2001:db8::1\n}")
        #expect(result.diagnostics.isEmpty)
        let (a, b) = (result.configuration.bfdInstances[0], result.configuration.bfdInstances[1])
        #expect(a.minRX == .milliseconds(10) && a.minTX == .milliseconds(10) && a.idleTX == .seconds(1))
        #expect(a.multiplier == 5 && a.effectiveTTL == 255 && a.maxHops == 0 && a.toVRRP && a.toChecker)
        #expect(b.effectiveTTL == 64)
    }

    @Test("a BFD_CHECK whose bfd_instance is missing or reports to VRRP only is removed, with a warning each")
    func checkerReferences() throws {
        let result = load(
            """
            bfd_instance both {
                neighbor_ip 192.0.2.1
            }
            bfd_instance vrrp_only {
                neighbor_ip 192.0.2.2
                vrrp
            }
            virtual_server 192.0.2.100 80 {
                real_server 192.0.2.1 80 {
                    BFD_CHECK {
                        name both
                    }
                }
                real_server 192.0.2.2 80 {
                    BFD_CHECK {
                        name vrrp_only
                    }
                    TCP_CHECK {
                    }
                }
                real_server 192.0.2.3 80 {
                    BFD_CHECK {
                        name nowhere
                    }
                }
            }
            """)
        let reals = try #require(result.configuration.virtualServers.first).realServers
        #expect(reals.map(\.checkers.count) == [1, 1, 0])
        #expect(reals[1].checkers.first.map { if case .tcp = $0.kind { true } else { false } } == true)
        let removals = result.diagnostics.filter { $0.message.hasSuffix("the check is removed") }
        #expect(removals.map(\.location.line) == [15, 22], "\(result.diagnostics)")
        #expect(removals.first?.message.contains("it reports to VRRP only") == true)
    }

    @Test("every keyword, with millisecond decimals and `max_hops -1` as 255")
    func everything() throws {
        let result = load(
            """
            bfd_instance a {
                neighbor_ip 192.0.2.1
                source_ip 192.0.2.2
                min_rx 2.5
                min_tx 300
                idle_tx 2000
                multiplier 3
                passive
                hoplimit 255
                max_hops -1
                weight -20 reverse
                checker
            }
            """)
        let a = try #require(result.configuration.bfdInstances.first)
        #expect(a.minRX == .microseconds(2500) && a.minTX == .milliseconds(300) && a.idleTX == .seconds(2))
        #expect(a.multiplier == 3 && a.passive && a.ttl == 255 && a.maxHops == 255, "\(result.diagnostics)")
        #expect(a.weight == -20 && a.reverse && !a.toVRRP && a.toChecker)
        #expect(a.source == IPAddress("192.0.2.2"))
    }

    @Test("errors at the value; an instance without a neighbour, with mixed families, or a second one for a neighbour is dropped")
    func errors() {
        let result = load(
            """
            bfd_instance a {
                neighbor_ip 192.0.2.1
                min_rx 0.5
                idle_tx 500
                multiplier 0
                min_tx 1.2345
            }
            bfd_instance b {
                min_rx 10
            }
            bfd_instance c {
                neighbor_ip 192.0.2.3
                source_ip 2001:db8::1
            }
            bfd_instance d {
                neighbor_ip 192.0.2.1
            }
            bfd_instance a {
                neighbor_ip 192.0.2.9
            }
            bfd_instance e {
                neighbor_ip 192.0.2.5
                ttl 10
                max_hops 20
            }
            """)
        #expect(
            result.codes() == [
                "3:out-of-range", "4:out-of-range", "5:out-of-range", "6:invalid-value", "8:missing-setting",
                "11:family-mismatch", "15:duplicate", "18:duplicate", "21:out-of-range",
            ], "\(result.diagnostics)")
        #expect(result.configuration.bfdInstances.map(\.name) == ["a", "e"])
        #expect(result.configuration.bfdInstances[0].minRX == .milliseconds(10), "a bad value keeps the default")
        #expect(result.configuration.bfdInstances[1].maxHops == 10, "max_hops is clamped to ttl")
    }
}

import Testing

@testable import VigilConfig

/// One test per rule of the config issue's item 4: the diagnostic, its severity and its place.
@Suite("Validation: keepalived's rules, with better messages")
struct ValidationTests {
    func instance(_ body: String, name: String = "VI_1") -> String {
        """
        vrrp_instance \(name) {
            interface eth0
        \(body)
            virtual_ipaddress {
                198.51.100.10
            }
        }
        """
    }

    @Test("an unknown keyword is a warning at its place, with the nearest keyword suggested")
    func unknownKeyword() throws {
        let result = load(instance("    virtual_router_id 51\n    priorty 100"))
        let diagnostic = try #require(result.diagnostic(.unknownKeyword))
        #expect(diagnostic.severity == .warning)
        #expect(diagnostic.location == SourceLocation(file: "test.conf", line: 4, column: 5))
        #expect(diagnostic.message.contains("Did you mean `priority`?"))
        #expect(result.configTestExitCode == 5)
    }

    @Test("process scheduling: keepalived's vrrp_priority, vrrp_rt_priority, vrrp_rlimit_rttime, vrrp_no_swap")
    func scheduling() throws {
        let result = load(
            "global_defs {\n    vrrp_priority -5\n    vrrp_rt_priority 30\n    vrrp_rlimit_rttime 5000\n    vrrp_no_swap\n    vigil_no_realtime\n}"
        )
        #expect(result.diagnostics.isEmpty)
        let scheduling = result.configuration.global.vrrpScheduling
        #expect(scheduling.nice == -5 && scheduling.realtimePriority == 30)
        #expect(scheduling.realtimeLimitMicroseconds == 5000 && scheduling.noSwap)
        #expect(!result.configuration.global.vigil.realtime)
        let bad = load("global_defs {\n    vrrp_rt_priority 100\n}")
        #expect(bad.codes() == ["2:out-of-range"])
    }

    @Test("an unknown block is skipped whole: its contents are not read as keywords of the outer block")
    func unknownBlockSkipped() throws {
        let result = load(instance("    virtual_router_id 51\n    mystery {\n        priority 7\n    }"))
        #expect(result.codes() == ["4:unknown-keyword"])
        #expect(result.configuration.instances.first?.priority == 100)
    }

    @Test("a keyword in the wrong block says where it belongs")
    func misplacedKeyword() throws {
        let result = load("global_defs {\n    nopreempt\n}")
        let diagnostic = try #require(result.diagnostic(.misplacedKeyword))
        #expect(diagnostic.location.line == 2)
        #expect(diagnostic.message.contains("`vrrp_instance`"))
    }

    @Test("VRID, priority and advert_int outside their ranges are errors at the value")
    func ranges() {
        #expect(load(instance("    virtual_router_id 0")).codes(.error).contains("3:out-of-range"))
        #expect(load(instance("    virtual_router_id 256")).codes(.error).contains("3:out-of-range"))
        #expect(load(instance("    virtual_router_id 1\n    priority 0")).codes(.error) == ["4:out-of-range"])
        #expect(load(instance("    virtual_router_id 1\n    priority 256")).codes(.error) == ["4:out-of-range"])
        #expect(load(instance("    virtual_router_id 1\n    priority high")).codes(.error) == ["4:invalid-value"])
        #expect(load(instance("    virtual_router_id 1\n    advert_int 0")).codes(.error) == ["4:out-of-range"])
        #expect(load(instance("    virtual_router_id 1\n    advert_int 300")).codes(.error) == ["4:out-of-range"])
        let location = load(instance("    virtual_router_id 1\n    priority 300")).diagnostics[0].location
        #expect(location.column == 14, "the diagnostic points at the value")
    }

    @Test("advert_int per version: v2 whole seconds (rounded with a warning), v3 up to 40.95")
    func advertIntervalPerVersion() throws {
        let v2 = load(instance("    virtual_router_id 1\n    advert_int 1.5"))
        #expect(v2.codes() == ["4:invalid-value"])
        #expect(v2.configuration.instances[0].advertisementInterval == .seconds(2))
        let v3 = load(instance("    virtual_router_id 1\n    version 3\n    advert_int 0.05"))
        #expect(v3.diagnostics.isEmpty)
        #expect(v3.configuration.instances[0].advertisementInterval == .milliseconds(50))
        let tooLong = load(instance("    virtual_router_id 1\n    version 3\n    advert_int 41"))
        #expect(tooLong.codes(.error) == ["5:out-of-range"])
        let global = load(
            "global_defs {\n    vrrp_version 3\n}\n" + instance("    virtual_router_id 1\n    advert_int 0.1"))
        #expect(global.diagnostics.isEmpty)
        #expect(global.configuration.instances[0].version == 3)
    }

    @Test("weights outside their ranges are errors")
    func weights() {
        let text = """
            vrrp_script chk {
                script "/bin/true"
                weight 300
            }
            """ + "\n" + instance("    virtual_router_id 1\n    track_script {\n        chk weight 999\n    }")
        let result = load(text)
        #expect(result.codes(.error) == ["3:out-of-range", "9:out-of-range"])
    }

    @Test("a PASS password over 8 bytes is truncated with a warning at the password")
    func passwordTooLong() throws {
        let result = load(
            instance(
                "    virtual_router_id 1\n    authentication {\n        auth_type PASS\n        auth_pass 123456789\n    }"
            ))
        let diagnostic = try #require(result.diagnostic(.passwordTooLong))
        #expect(diagnostic.location.line == 6)
        #expect(result.configuration.instances[0].authentication == .password(Array("12345678".utf8)))
    }

    @Test("nopreempt and preempt_delay with priority 255 are warned about and switched off")
    func ownerCannotWaitToPreempt() {
        let result = load(instance("    virtual_router_id 1\n    priority 255\n    nopreempt\n    preempt_delay 10"))
        #expect(result.codes() == ["5:conflict", "6:conflict"])
        #expect(result.configuration.instances[0].nopreempt == false)
        #expect(result.configuration.instances[0].preemptDelay == .zero)
    }

    @Test("state MASTER without priority is the address owner; no state with 255 is MASTER")
    func stateAndPriorityDefaults() {
        let owner = load(instance("    state MASTER\n    virtual_router_id 1"))
        #expect(owner.configuration.instances[0].priority == 255)
        let implied = load(instance("    priority 255\n    virtual_router_id 1"))
        #expect(implied.configuration.instances[0].initialState == .master)
        let plain = load(instance("    virtual_router_id 1"))
        #expect(plain.configuration.instances[0].priority == 100)
        #expect(plain.configuration.instances[0].initialState == .backup)
    }

    @Test("the same VRID twice on one interface and family is an error at the second instance")
    func duplicateVRID() throws {
        let result = load(
            instance("    virtual_router_id 51") + "\n" + instance("    virtual_router_id 51", name: "VI_2"))
        let diagnostic = try #require(result.diagnostic(.duplicateVRID))
        #expect(diagnostic.location.line == 10)
        #expect(diagnostic.message.contains("VI_1 and VI_2 both use VRID 51 with IPv4 on interface eth0"))
        let otherFamily = load(
            instance("    virtual_router_id 51") + "\n"
                + """
                vrrp_instance VI_6 {
                    interface eth0
                    virtual_router_id 51
                    version 3
                    virtual_ipaddress {
                        2001:db8::10
                    }
                }
                """)
        #expect(otherFamily.diagnostic(.duplicateVRID) == nil, "IPv4 and IPv6 routers may share a VRID")
    }

    @Test("an unknown script in track_script is a warning at the item, with a suggestion")
    func unknownScript() throws {
        let text =
            "vrrp_script check_nginx {\n    script \"/bin/true\"\n}\n"
            + instance("    virtual_router_id 1\n    track_script {\n        check_ngnix\n    }")
        let result = load(text)
        let diagnostic = try #require(result.diagnostic(.unknownReference))
        #expect(diagnostic.location.line == 8)
        #expect(diagnostic.message.contains("did you mean check_nginx?"))
        #expect(result.configuration.instances[0].trackScripts.isEmpty)
    }

    @Test("an unknown instance in a sync group is a warning at the name")
    func unknownGroupMember() throws {
        let text =
            "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_9\n    }\n}\n"
            + instance("    virtual_router_id 1")
        let result = load(text)
        #expect(result.codes().contains("4:unknown-reference"))
        #expect(result.configuration.syncGroups[0].members.map(\.text) == ["VI_1"])
    }

    @Test("version 2 with IPv6 addresses is an error that names the fix")
    func version2WithIPv6() throws {
        let result = load(
            """
            vrrp_instance V6 {
                interface eth0
                virtual_router_id 1
                version 2
                virtual_ipaddress {
                    2001:db8::1
                }
            }
            """)
        let diagnostic = try #require(result.diagnostic(.familyMismatch))
        #expect(diagnostic.severity == .error)
        #expect(diagnostic.location.line == 4)
        #expect(diagnostic.message.contains("version 3"))
    }

    @Test("one instance holds one family: a second family's address is an error at it")
    func mixedFamilies() {
        let result = load(
            "vrrp_instance X {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 198.51.100.1\n 2001:db8::1\n }\n}"
        )
        #expect(result.codes(.error) == ["6:family-mismatch"])
    }

    @Test("unbalanced braces: an extra } and a block never closed")
    func unbalancedBraces() {
        #expect(load(instance("    virtual_router_id 1") + "\n}").codes() == ["8:unbalanced-close-brace"])
        let open = load("vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n")
        #expect(open.codes(.error).first == "1:unclosed-block")
    }

    @Test("missing interfaces are warnings (exit 5) when the machine can be asked")
    func missingInterface() {
        let environment = FakeEnvironment(interfaces: ["eth1"])
        let result = load(instance("    virtual_router_id 1"), environment: environment)
        #expect(result.codes() == ["2:missing-interface"])
        #expect(result.configTestExitCode == 5)
    }

    @Test("scripts that would run as root without enable_script_security make the test exit 6")
    func scriptSecurity() {
        var environment = FakeEnvironment()
        environment.programs["/bin/true"] = .found(path: "/usr/bin/true", unsafeComponent: nil)
        let text = instance("    virtual_router_id 1\n    notify_master /bin/true")
        #expect(load(text, environment: environment).configTestExitCode == 6)
        let secured = "global_defs {\n    enable_script_security\n    script_user root\n}\n" + text
        #expect(load(secured, environment: environment).configTestExitCode == 0)
        var unsafe = environment
        unsafe.programs["/bin/true"] = .found(path: "/tmp/true", unsafeComponent: "/tmp")
        #expect(load(secured, environment: unsafe).codes(.error).contains("8:script-security"))
        #expect(load(text).configTestExitCode == 0, "without a machine to ask, scripts are not judged")
    }

    @Test("with script security and no usable default user, scripts without their own user are disabled (exit 5)")
    func noScriptUser() {
        var environment = FakeEnvironment()
        environment.programs["/bin/true"] = .found(path: "/usr/bin/true", unsafeComponent: nil)
        let scripts =
            "vrrp_script chk {\n    script /bin/true\n}\nvrrp_script mine {\n    script /bin/true\n    user root\n}\n"
        let text =
            scripts
            + instance(
                "    virtual_router_id 1\n    notify_master /bin/true\n    track_script {\n        chk\n        mine\n    }")
        // No keepalived_script user on this machine, no script_user: keepalived refuses to fall back to root.
        let secured = load("global_defs {\n    enable_script_security\n}\n" + text, environment: environment)
        #expect(secured.configTestExitCode == 5, "\(secured.diagnostics)")
        #expect(secured.codes(.error) == ["1:script-user"])
        #expect(secured.configuration.vrrpScripts.map(\.name) == ["mine"], "a script with its own user stays")
        #expect(secured.configuration.instances[0].trackScripts.map(\.name) == ["mine"])
        #expect(secured.configuration.instances[0].notify.master == nil, "the notify script is disabled too")
        // A script_user that does not exist: the same.
        let missing = load(
            "global_defs {\n    enable_script_security\n    script_user nobody9\n}\n" + text, environment: environment)
        #expect(missing.configTestExitCode == 5)
        #expect(missing.configuration.vrrpScripts.map(\.name) == ["mine"])
        // Once keepalived_script exists, scripts run as that user.
        var withUser = environment
        withUser.users.insert("keepalived_script")
        let fine = load("global_defs {\n    enable_script_security\n}\n" + text, environment: withUser)
        #expect(fine.configTestExitCode == 0, "\(fine.diagnostics)")
        #expect(fine.configuration.vrrpScripts.count == 2)
        // keepalived looks keepalived_script up only for a script that needs it: none, no lookup and no error.
        let none = load(
            "global_defs {\n    enable_script_security\n}\n" + instance("    virtual_router_id 1"),
            environment: environment)
        #expect(none.configTestExitCode == 0, "\(none.diagnostics)")
        #expect(none.codes(.error).isEmpty)
    }

    @Test("a missing VRRP interface stops keepalived's checks before script security: exit 5, not 6")
    func exitCodePrecedence() {
        var environment = FakeEnvironment()
        environment.programs["/bin/true"] = .found(path: "/usr/bin/true", unsafeComponent: nil)
        let rootScripts = "    virtual_router_id 1\n    notify_master /bin/true"
        #expect(load(instance(rootScripts), environment: environment).configTestExitCode == 6)
        let tracked = instance(rootScripts + "\n    track_interface {\n        eth3\n    }")
        #expect(load(tracked, environment: environment).configTestExitCode == 5)
    }

    @Test("a tracked script whose program does not exist is disabled with a warning, as keepalived does")
    func missingTrackScript() {
        let text =
            "vrrp_script chk {\n    script \"/nope/check\"\n}\n"
            + instance("    virtual_router_id 1\n    track_script {\n        chk\n    }")
        let result = load(text, environment: FakeEnvironment())
        #expect(result.codes() == ["2:script-missing"])
        #expect(result.configuration.vrrpScripts.isEmpty)
        #expect(result.configuration.instances[0].trackScripts.isEmpty)
    }

    @Test("instances without a VRID are errors and are dropped")
    func missingVRID() {
        let result = load(instance(""))
        #expect(result.codes(.error) == ["1:missing-setting"])
        #expect(result.configuration.instances.isEmpty)
    }

    @Test("an invalid address is an error at the item; the other addresses stay")
    func invalidAddress() {
        let result = load(
            "vrrp_instance X {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 198.51.100.1\n 198.51.100./24\n }\n}"
        )
        #expect(result.codes() == ["6:invalid-value"])
        #expect(result.configuration.instances[0].virtualAddresses.count == 1)
    }

    @Test("virtual address options are typed")
    func addressOptions() throws {
        let result = load(
            """
            vrrp_instance X {
                interface eth0
                virtual_router_id 1
                virtual_ipaddress {
                    198.51.100.10/24 brd 198.51.100.255 dev eth1 scope link label eth1:vip no_track
                }
            }
            """)
        #expect(result.diagnostics.isEmpty)
        let address = try #require(result.configuration.instances.first?.virtualAddresses.first)
        #expect(address.prefix == IPPrefix("198.51.100.10/24"))
        #expect(address.broadcast == .address(IPAddress("198.51.100.255")!))
        #expect(address.device == "eth1")
        #expect(address.scope == "link")
        #expect(address.label == "eth1:vip")
        #expect(address.flags == [.noTrack])
    }

    @Test("unicast peers with TTL bounds, and a peer of the wrong family")
    func unicast() throws {
        let result = load(
            """
            vrrp_instance U {
                interface eth0
                virtual_router_id 7
                unicast_src_ip 198.51.100.1
                unicast_peer {
                    198.51.100.2 min_ttl 250 max_ttl 255
                    2001:db8::2
                }
                virtual_ipaddress {
                    198.51.100.10
                }
            }
            """)
        #expect(result.codes() == ["7:family-mismatch"])
        let instance = try #require(result.configuration.instances.first)
        #expect(instance.unicastPeers.first?.minimumTTL == 250)
        #expect(instance.checkUnicastSource)
    }

    @Test("bad booleans are errors; bare keywords mean on")
    func booleans() {
        let result = load("global_defs {\n    smtp_alert maybe\n    smtp_alert_vrrp\n    smtp_alert_checker off\n}")
        #expect(result.codes() == ["2:invalid-value"])
        #expect(result.configuration.global.smtpAlertVRRP == true)
        #expect(result.configuration.global.smtpAlertChecker == false)
    }

    @Test("a keyword that takes a value given a block, and a block keyword given none")
    func blockShapes() {
        let result = load(instance("    virtual_router_id 1 { 3 }\n    track_interface eth1"))
        #expect(result.codes(.error) == ["3:unexpected-block", "4:missing-block"])
    }

    @Test("strict mode overrides what RFC 5798 forbids, each at its line, as keepalived does")
    func strictMode() throws {
        let result = load(
            "global_defs {\n    vrrp_strict\n}\n"
                + instance(
                    "    virtual_router_id 51\n    priority 100\n    preempt_delay 10\n    down_timer_adverts 5\n    lower_prio_no_advert false\n    higher_prio_send_advert true\n    garp_lower_prio_repeat 3\n    accept"
                ))
        let vi1 = try #require(result.configuration.instances.first)
        #expect(vi1.preemptDelay == .zero && vi1.downTimerAdverts == 3)
        #expect(vi1.lowerPriorityNoAdvert == true && vi1.higherPrioritySendAdvert == false)
        #expect(vi1.garp.lowerPriorityRepeat == 0 && vi1.garp.lowerPriorityDelay == .zero)
        #expect(vi1.accept == false, "VRRPv2 has no accept mode")
        let lines = result.diagnostics.filter { $0.code == .conflict }.map(\.location.line)
        #expect(lines == [8, 9, 10, 11, 12, 13], "\(result.diagnostics)")
        let unicast = load(
            "global_defs {\n    vrrp_strict\n}\n"
                + instance("    virtual_router_id 51\n    unicast_src_ip 198.51.100.1\n    unicast_peer {\n        198.51.100.2\n    }"))
        #expect(unicast.diagnostics.contains { $0.severity == .error && $0.message.contains("no unicast adverts") })
    }

    @Test("no_accept without nft installed is a warning at the instance")
    func noAcceptNeedsNFT() throws {
        let text = instance("    virtual_router_id 51\n    no_accept")
        let missing = load(text, environment: FakeEnvironment())
        #expect(missing.diagnostics.contains { $0.code == .missingProgram && $0.location.line == 4 })
        var present = FakeEnvironment()
        present.programs["/usr/sbin/nft"] = .found(path: "/usr/sbin/nft", unsafeComponent: nil)
        #expect(!load(text, environment: present).diagnostics.contains { $0.code == .missingProgram })
    }

    @Test("use_vmac: a MAC keepalived refuses is said and the default used; vmac_xmit_base needs use_vmac; unicast sends from the base")
    func virtualMAC() throws {
        let multicast = load(instance("    virtual_router_id 51\n    use_vmac 01:00:5e:00:00:01"))
        #expect(multicast.diagnostics.contains { $0.message.contains("is multicast; it is ignored") })
        #expect(multicast.configuration.instances.first?.useVMAC?.mac == [0, 0, 0x5e, 0, 1, 51])
        let rfc = load(instance("    virtual_router_id 51\n    use_vmac 00:00:5e:00:02:07"))
        #expect(rfc.diagnostics.contains { $0.message.contains("RFC 5798's range") })
        let base = load(instance("    virtual_router_id 51\n    vmac_xmit_base"))
        #expect(base.diagnostics.contains { $0.message.contains("applies only with `use_vmac`") })
        let unicast = load(
            instance(
                "    virtual_router_id 51\n    use_vmac\n    unicast_src_ip 198.51.100.1\n    unicast_peer {\n        198.51.100.2\n    }"))
        #expect(unicast.configuration.instances.first?.useVMAC?.transmitFromBase == true)
    }
}

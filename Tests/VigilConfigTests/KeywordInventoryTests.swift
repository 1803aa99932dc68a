import Testing

@testable import VigilConfig

#if canImport(Glibc)
    import Glibc
#endif

/// The keyword inventory against the schema, the builder and the docs: every keyword keepalived accepts has one
/// status; a keyword Vigil does not act on is reported wherever it is written; nothing the builder keeps only as
/// written (`otherSettings`) is called working; docs/COMPATIBILITY.md shows the inventory as it is.
@Suite("Keyword inventory: nothing accepted in silence")
struct KeywordInventoryTests {
    /// Every (context, keyword) the schema accepts, aliases as written, with their canonical names.
    static let schemaKeywords: [(context: String, keyword: String, canonical: String, schema: KeywordSchema)] = {
        var result = [(String, String, String, KeywordSchema)]()
        var seen = Set<String>()
        func walk(_ block: BlockSchema) {
            guard seen.insert("\(ObjectIdentifier(block))").inserted else { return }
            for (name, keyword) in block.keywords.sorted(by: { $0.key < $1.key }) {
                result.append((block.context, name, keyword.canonicalName ?? name, keyword))
                if let children = keyword.children { walk(children) }
            }
        }
        walk(.keepalived)
        return result
    }()

    /// Contexts whose keywords are options of a list block's items, not schema keywords.
    static let itemContexts: Set<String> = ["virtual_ipaddress item", "unicast_peer item"]

    @Test("every keyword of the schema has exactly one status, and the inventory names no keyword the schema lacks")
    func complete() {
        let missing = Self.schemaKeywords.filter { KeywordInventory.support($0.canonical, in: $0.context) == nil }
        #expect(missing.isEmpty, "keywords with no status: \(missing.map { "\($0.context) \($0.keyword)" })")
        let known = Set(Self.schemaKeywords.map { "\($0.context) \($0.canonical)" })
        let stale = KeywordInventory.entries.filter {
            !Self.itemContexts.contains($0.context) && !known.contains("\($0.context) \($0.keyword)")
        }
        #expect(stale.isEmpty, "statuses of keywords the schema does not have: \(stale.map { "\($0.context) \($0.keyword)" })")
    }

    // MARK: - A configuration with every keyword

    /// Sample arguments for keywords that take values, by `context/keyword` or by keyword.
    static let samples: [String: String] = [
        "vrrp_instance/state": "BACKUP", "vrrp_instance/interface": "eth0", "garp_group/interface": "eth0",
        "vrrp_instance/virtual_router_id": "51", "vrrp_instance/priority": "100", "vrrp_instance/advert_int": "1",
        "vrrp_instance/version": "2", "vrrp_instance/debug": "1", "vrrp_script/weight": "-10",
        "vrrp_track_process/weight": "-10", "track_file/weight": "-10", "vrrp_track_file/weight": "-10",
        "FILE_CHECK/weight": "2", "bfd_instance/weight": "-10", "real_server/weight": "2", "virtual_server/weight": "2",
        "DNS_CHECK/name": "example.org", "BFD_CHECK/name": "bfd1", "DNS_CHECK/type": "A", "SSL/password": "secret",
        "FILE_CHECK/track_file": "file1", "vrrp_track_process/process": "sshd", "vrrp_track_process/quorum": "1",
        "virtual_server/quorum": "1", "ip_family": "inet", "vrrp_instance/use_vmac": "vrrp.51",
        "vrrp_instance/use_ipvlan": "ipvl0", "process_name": "vigil", "vrrp_process_name": "vigil_vrrp",
        "checker_process_name": "vigil_checker", "lvs_process_name": "vigil_lvs", "bfd_process_name": "vigil_bfd",
        "router_id": "lb01", "notification_email_from": "vigil@example.org", "smtp_server": "198.51.100.250",
        "smtp_helo_name": "lb01", "smtp_connect_timeout": "30", "startup_script_timeout": "10",
        "shutdown_script_timeout": "10", "max_auto_priority": "10", "min_auto_priority_delay": "1000",
        "dynamic_interfaces": "", "default_interface": "eth0", "lvs_timeouts": "tcp 900", "lvs_flush_on_stop": "", "lvs_flush_onstop": "",
        "lvs_sync_daemon": "eth0 VI_1", "vrrp_mcast_group4": "224.0.0.18", "vrrp_mcast_group6": "ff02::12",
        "vrrp_garp_master_delay": "5", "vrrp_garp_master_repeat": "5", "vrrp_garp_master_refresh": "0",
        "vrrp_garp_master_refresh_repeat": "1", "vrrp_garp_lower_prio_delay": "5", "vrrp_garp_lower_prio_repeat": "5",
        "vrrp_down_timer_adverts": "3", "vrrp_garp_interval": "0", "vrrp_gna_interval": "0",
        "vrrp_garp_extra_if": "5", "vrrp_vmac_garp_intvl": "5", "vrrp_version": "2", "vrrp_iptables": "",
        "nftables": "", "nftables_priority": "-1", "nftables_ipvs": "", "nftables_ipvs_priority": "1",
        "nftables_ipvs_start_fwmark": "1000", "vrrp_priority": "-10", "vrrp_rt_priority": "10",
        "vrrp_cpu_affinity": "0", "vrrp_rlimit_rttime": "10000", "vrrp_rlimit_rtime": "10000",
        "notify_fifo": "/run/vigil-test.fifo", "vrrp_notify_fifo": "/run/vigil-test-vrrp.fifo",
        "lvs_notify_fifo": "/run/vigil-test-lvs.fifo", "checker_priority": "-10", "checker_rt_priority": "10",
        "checker_cpu_affinity": "0", "checker_rlimit_rttime": "10000", "checker_rlimit_rtime": "10000",
        "bfd_priority": "-10", "bfd_rt_priority": "10", "bfd_cpu_affinity": "0", "bfd_rlimit_rttime": "10000",
        "bfd_rlimit_rtime": "10000", "snmp_socket": "udp:127.0.0.1:705", "dbus_service_name": "vigil",
        "script_user": "root", "vrrp_netlink_cmd_rcv_bufs": "1048576", "vrrp_netlink_monitor_rcv_bufs": "1048576",
        "process_monitor_rcv_bufs": "1048576", "lvs_netlink_cmd_rcv_bufs": "1048576",
        "lvs_netlink_monitor_rcv_bufs": "1048576", "vrrp_rx_bufs_policy": "MTU", "vrrp_rx_bufs_multiplier": "4",
        "vrrp_startup_delay": "0", "vmac_prefix": "vrrp", "vmac_addr_prefix": "vrrp", "umask": "0077",
        "random_seed": "1", "reload_check_config": "", "reload_time_file": "/tmp/vigil-reload-time",
        "reload_file": "/tmp/vigil-reload", "include_check": "", "config_save_dir": "/tmp",
        "tmp_config_directory": "/tmp", "vigil_lb_backend": "ipvs", "vigil_metrics_listen": "127.0.0.1:9650",
        "net_namespace": "blue", "net_namespace_ipvs": "blue", "instance": "one", "child_wait_time": "5",
        "garp_interval": "0", "gna_interval": "0", "vrf": "red", "mcast_src_ip": "198.51.100.1",
        "unicast_src_ip": "198.51.100.1", "mcast_dst_ip": "224.0.0.18", "unicast_ttl": "255",
        "old_unicast_checksum": "", "preempt_delay": "0", "lvs_sync_daemon_interface": "eth0",
        "garp_master_delay": "5", "garp_master_refresh": "0", "garp_master_repeat": "5",
        "garp_master_refresh_repeat": "1", "garp_lower_prio_delay": "5", "garp_lower_prio_repeat": "5",
        "down_timer_adverts": "3", "garp_extra_if": "5", "vmac_garp_intvl": "5", "kernel_rx_buf_size": "65536",
        "auth_type": "PASS", "auth_pass": "1111", "interval": "1", "timeout": "1", "rise": "1", "fall": "1",
        "user": "root", "param_match": "initial", "quorum_max": "2", "delay": "1", "terminate_delay": "1",
        "fork_delay": "1", "ca": "/etc/ssl/ca.pem", "certificate": "/etc/ssl/cert.pem", "key": "/etc/ssl/key.pem",
        "retry": "1", "delay_before_retry": "1", "warmup": "1", "delay_loop": "6", "misc_timeout": "5",
        "connect_ip": "198.51.100.10", "connect_port": "80", "bindto": "198.51.100.1", "bind_port": "40000",
        "bind_if": "eth0", "connect_timeout": "3", "fwmark": "1", "helo_name": "lb01", "payload": "00",
        "require_reply": "00", "min_reply_length": "1", "max_reply_length": "100", "path": "/",
        "digest": "d41d8cd98f00b204e9800998ecf8427e", "status_code": "200", "virtualhost": "www.example.org",
        "regex": "OK", "regex_options": "caseless", "regex_min_offset": "0", "regex_max_offset": "100",
        "regex_stack": "1024", "nb_get_retry": "1", "http_protocol": "1.1", "lvs_method": "NAT", "lb_kind": "NAT",
        "uthreshold": "100", "lthreshold": "10", "snmp_name": "rs1", "lvs_sched": "rr", "lb_algo": "rr",
        "persistence_engine": "sip", "persistence_timeout": "60", "persistence_granularity": "255.255.255.0",
        "protocol": "TCP", "hysteresis": "0", "sorry_server": "198.51.100.20 80", "sorry_server_lvs_method": "NAT",
        "source_ip": "198.51.100.1", "neighbor_ip": "198.51.100.2", "neighbour_ip": "198.51.100.2", "min_rx": "10",
        "min_tx": "10", "idle_tx": "1000", "multiplier": "3", "ttl": "255", "hoplimit": "255", "max_hops": "1",
        "file": "/tmp/vigil-track", "init_file": "0",
    ]

    /// Block arguments (names and addresses) by block keyword.
    static let blockArguments: [String: String] = [
        "vrrp_instance": "VI_1", "vrrp_script": "chk", "vrrp_track_process": "proc1", "vrrp_sync_group": "G1",
        "track_file": "file1", "vrrp_track_file": "file2", "bfd_instance": "bfd1", "track_group": "tg1",
        "virtual_server": "198.51.100.100 80", "real_server": "198.51.100.10 80", "virtual_server_group": "vsg1",
    ]

    /// The item a list block gets.
    static let listItems: [String: String] = [
        "virtual_ipaddress": "198.51.100.100/24", "virtual_ipaddress_excluded": "198.51.100.101/24",
        "static_ipaddress": "198.51.100.102/24 dev eth0", "virtual_routes": "198.51.100.0/24 dev eth0",
        "static_routes": "203.0.113.0/24 via 198.51.100.254 dev eth0", "virtual_rules": "from 198.51.100.100 table 100",
        "static_rules": "from 203.0.113.1 table 100 preference 100", "unicast_peer": "198.51.100.2",
        "track_interface": "eth1", "track_script": "chk", "track_file": "file1", "track_process": "proc1",
        "track_bfd": "bfd1", "group": "VI_1", "notification_email": "ops@example.org", "interfaces": "eth0",
        "linkbeat_interfaces": "eth0", "interface_up_down_delays": "eth0 1 1",
        "virtual_server_group": "198.51.100.100 80",
    ]

    /// Items for each option of a list item context, one option per item.
    static let itemOptions: [String: (list: String, item: String)] = [
        "virtual_ipaddress item": ("virtual_ipaddress", "198.51.100.110/24"),
        "unicast_peer item": ("unicast_peer", "198.51.100.2"),
    ]
    static let itemOptionValues: [String: String] = [
        "dev": "eth0", "scope": "global", "brd": "+", "broadcast": "198.51.100.255", "label": "eth0:1",
        "peer": "198.51.100.200", "preferred_lft": "0", "track_group": "tg1", "min_ttl": "1", "max_ttl": "255",
    ]

    struct Generated {
        var text = ""
        /// The (context, canonical keyword) of each line that holds a keyword.
        var keywordAtLine: [Int: (context: String, keyword: String)] = [:]
        var missingSamples: [String] = []
        /// Lines inside a block whose own keyword is reported (its warning covers them).
        var insideReportedBlock = Set<Int>()
        var line = 0

        mutating func emit(_ text: String, depth: Int, keyword: (String, String)? = nil) {
            line += 1
            self.text += String(repeating: "    ", count: depth) + text + "\n"
            if let keyword { keywordAtLine[line] = keyword }
        }
    }

    static func generate() -> Generated {
        var out = Generated()
        func block(_ schema: BlockSchema, depth: Int) {
            for (name, keyword) in schema.keywords.sorted(by: { $0.key < $1.key }) {
                let canonical = keyword.canonicalName ?? name
                let tag = (schema.context, canonical)
                switch keyword.shape {
                case .flag:
                    out.emit(name, depth: depth, keyword: tag)
                case .bool:
                    out.emit("\(name) on", depth: depth, keyword: tag)
                case .script:
                    out.emit("\(name) /bin/true", depth: depth, keyword: tag)
                case .value:
                    guard let sample = samples["\(schema.context)/\(name)"] ?? samples[name] else {
                        out.missingSamples.append("\(schema.context)/\(name)")
                        continue
                    }
                    out.emit(sample.isEmpty ? name : "\(name) \(sample)", depth: depth, keyword: tag)
                case .list:
                    let argument = blockArguments[name].map { " \($0)" } ?? ""
                    out.emit("\(name)\(argument) {", depth: depth, keyword: tag)
                    if let item = listItems[name] {
                        out.emit(item, depth: depth + 1)
                    } else {
                        out.missingSamples.append("\(schema.context)/\(name) item")
                    }
                    // Every option of the items of this list, one per item.
                    for (context, spec) in itemOptions where spec.list == name {
                        for entry in KeywordInventory.entries where entry.context == context {
                            let value = itemOptionValues[entry.keyword].map { " \($0)" } ?? ""
                            out.emit("\(spec.item) \(entry.keyword)\(value)", depth: depth + 1, keyword: (context, entry.keyword))
                        }
                    }
                    out.emit("}", depth: depth)
                case .block:
                    let argument = blockArguments[name].map { " \($0)" } ?? ""
                    out.emit("\(name)\(argument) {", depth: depth, keyword: tag)
                    let first = out.line + 1
                    if let children = keyword.children { block(children, depth: depth + 1) }
                    if KeywordInventory.support(canonical, in: schema.context)?.warns == true {
                        out.insideReportedBlock.formUnion(first...out.line)
                    }
                    out.emit("}", depth: depth)
                }
            }
        }
        block(.keepalived, depth: 0)
        return out
    }

    @Test("a use of a keyword Vigil does not act on is a warning at its line; a keyword without bearing, a note")
    func everyUseReported() {
        let generated = Self.generate()
        #expect(generated.missingSamples.isEmpty, "add sample values for \(generated.missingSamples)")
        let result = load(generated.text, environment: FakeEnvironment())
        var reported = [Int: Set<Diagnostic.Code>]()
        for diagnostic in result.diagnostics { reported[diagnostic.location.line, default: []].insert(diagnostic.code) }
        for (line, written) in generated.keywordAtLine.sorted(by: { $0.key < $1.key }) {
            guard let support = KeywordInventory.support(written.keyword, in: written.context) else { continue }
            // The lines of a block reported as a whole are covered by its warning.
            if generated.insideReportedBlock.contains(line) { continue }
            let codes = reported[line] ?? []
            switch support {
            case .partial, .notYet, .refused:
                #expect(codes.contains(.notSupported), "line \(line): `\(written.keyword)` in \(written.context) is not reported")
            case .notApplicable:
                #expect(codes.contains(.notApplicable), "line \(line): `\(written.keyword)` in \(written.context) has no note")
            case .works, .worksExcept:
                #expect(
                    !codes.contains(.notSupported) && !codes.contains(.notApplicable),
                    "line \(line): `\(written.keyword)` in \(written.context) works, yet is reported")
            }
        }
    }

    @Test("what the builder keeps only as written is never called working")
    func keptAsWrittenIsNotWorking() throws {
        let generated = Self.generate()
        let (lines, _) = Preprocessor.run(
            text: generated.text, name: "test.conf", options: Preprocessor.Options(configID: "lb01"))
        let (statements, _) = Parser.parse(lines)
        let (configuration, _) = ConfigurationBuilder.build(
            statements, routingNames: RoutingNames(fileSystem: LocalFileSystem()))
        var kept = configuration.otherSettings + configuration.global.otherSettings
        for instance in configuration.instances { kept += instance.otherSettings }
        for server in configuration.virtualServers {
            kept += server.otherSettings
            for real in server.realServers {
                kept += real.otherSettings
                for checker in real.checkers { kept += checker.otherSettings }
            }
        }
        #expect(!kept.isEmpty)
        for setting in kept {
            guard let written = generated.keywordAtLine[setting.location.line],
                let support = KeywordInventory.support(written.keyword, in: written.context)
            else { continue }
            switch support {
            case .works, .worksExcept:
                Issue.record(
                    "`\(written.keyword)` in \(written.context) is kept only as written (otherSettings), yet its status says it works: \(support.detail)"
                )
            case .partial, .notYet, .refused, .notApplicable:
                break
            }
        }
    }

    @Test("docs/COMPATIBILITY.md's keyword table is the inventory's (regenerate: vigil config keywords --markdown)")
    func docsTable() throws {
        let root = String(#filePath.dropLast("Tests/VigilConfigTests/KeywordInventoryTests.swift".count))
        let path = root + "docs/COMPATIBILITY.md"
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0, "cannot read \(path)")
        defer { close(fd) }
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            bytes += buffer.prefix(count)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let begin = "<!-- keyword table: generated by `vigil config keywords --markdown`; do not edit -->\n"
        let end = "<!-- end of keyword table -->"
        guard let start = text.firstRange(of: begin), let stop = text[start.upperBound...].firstRange(of: end)
        else {
            Issue.record("docs/COMPATIBILITY.md has no generated keyword table between its markers")
            return
        }
        let table = String(text[start.upperBound..<stop.lowerBound])
        #expect(table == KeywordInventory.markdownTable(), "docs/COMPATIBILITY.md's keyword table is out of date")
    }
}

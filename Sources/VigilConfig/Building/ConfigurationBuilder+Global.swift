extension ConfigurationBuilder {
    mutating func buildGlobalDefinitions(_ statement: Statement) {
        var global = configuration.global
        global.location = global.location ?? statement.location
        var minimalAnnouncements = false
        var written = Set<String>()
        for (name, child) in known(statement.block ?? [], in: .globalDefs) {
            written.insert(name)
            switch name {
            case "vrrp_garp_extra_if", "vrrp_vmac_garp_intvl":
                global.garpExtraInterfaces = extraInterfaceAnnouncements(child, range: 1...86400)
            case "lvs_timeouts":
                var values = [0, 0, 0]
                var words = child.arguments[...]
                if words.isEmpty { error(.missingArgument, child.location, "`lvs_timeouts` needs tcp, tcpfin or udp with seconds") }
                while let option = words.popFirst() {
                    let slot = ["tcp": 0, "tcpfin": 1, "udp": 2][option.text]
                    guard let slot else {
                        error(.invalidValue, option.location, "unknown `lvs_timeouts` option '\(option.text)'; use tcp, tcpfin or udp")
                        continue
                    }
                    guard let value = words.popFirst() else {
                        error(.missingArgument, option.location, "`\(option.text)` needs a number of seconds")
                        break
                    }
                    if let seconds = integer(value, 0...(86400 * 31), keyword: "lvs_timeouts \(option.text)") {
                        values[slot] = seconds
                    }
                }
                global.lvsTimeoutValues = values
            case "lvs_flush": global.lvsFlush = true
            case "lvs_flush_on_stop":
                switch child.arguments.first?.text {
                case nil: global.lvsFlushOnStop = .full
                case "VS": global.lvsFlushOnStop = .virtualServers
                case let other?:
                    error(.invalidValue, child.arguments[0].location, "`lvs_flush_on_stop` takes nothing or VS, not '\(other)'")
                }
            case "lvs_sync_daemon":
                guard let interface = child.arguments.first else {
                    error(.missingArgument, child.location, "`lvs_sync_daemon` needs an interface")
                    break
                }
                var daemon = LVSSyncDaemon(interface: interface.text, location: child.location)
                var words = child.arguments.dropFirst()[...]
                while let option = words.popFirst() {
                    guard let value = words.popFirst() else {
                        error(.missingArgument, option.location, "`\(option.text)` needs a value")
                        break
                    }
                    switch option.text {
                    case "inst": daemon.instance = value.text
                    case "id": daemon.syncID = integer(value, 0...255, keyword: "lvs_sync_daemon id")
                    case "maxlen": daemon.maxLength = integer(value, 1...(65535 - 28), keyword: "lvs_sync_daemon maxlen")
                    case "port": daemon.port = integer(value, 1...65535, keyword: "lvs_sync_daemon port")
                    case "ttl": daemon.ttl = integer(value, 1...255, keyword: "lvs_sync_daemon ttl")
                    case "group":
                        if let group = IPAddress(value.text), group.isMulticast {
                            daemon.group = group
                        } else {
                            error(.invalidValue, value.location, "the lvs_sync_daemon group must be a multicast address")
                        }
                    default:
                        error(.invalidValue, option.location, "unknown `lvs_sync_daemon` option '\(option.text)'")
                    }
                }
                global.lvsSyncDaemon = daemon
            case "vrrp_min_garp":
                minimalAnnouncements = boolean(child) ?? false
            case "router_id":
                global.routerID = word(child, "a name for this router")
            case "notification_email":
                global.notificationEmails += (child.block ?? []).flatMap(\.words).map(\.text)
            case "notification_email_from":
                global.notificationEmailFrom = word(child, "an e-mail address")
            case "smtp_server":
                guard let host = word(child, "the mail server's address or name, and optionally its port") else {
                    break
                }
                var server = SMTPServer(host: host)
                if child.arguments.count > 1, let port = port(child.arguments[1], keyword: name) { server.port = port }
                global.smtpServer = server
            case "smtp_helo_name":
                global.smtpHeloName = word(child, "a host name")
            case "smtp_connect_timeout":
                if let value = integer(child, 0...4294, "a time in whole seconds from 0 to 4294") {
                    global.smtpConnectTimeout = .seconds(max(value, 1))
                }
            case "smtp_alert": global.smtpAlert = boolean(child)
            case "smtp_alert_vrrp": global.smtpAlertVRRP = boolean(child)
            case "smtp_alert_checker": global.smtpAlertChecker = boolean(child)
            case "no_email_faults": global.noEmailFaults = true
            case "enable_script_security":
                global.enableScriptSecurity = true
                if let argument = child.arguments.first {
                    // keepalived ignores any argument here: `enable_script_security off` turns it on.
                    warning(
                        .invalidValue, argument.location,
                        "`enable_script_security` takes no value and turns script security on even with '\(argument.text)'; to leave it off, remove the line"
                    )
                }
            case "script_user":
                global.scriptUser = word(child, "a user name, and optionally a group")
                if child.arguments.count > 1 { global.scriptGroup = child.arguments[1].text }
            case "startup_script", "shutdown_script":
                let startup = name == "startup_script"
                if (startup ? global.startupScript : global.shutdownScript) != nil {
                    warning(.duplicate, child.location, "`\(name)` is already set; this one is ignored")
                } else if startup {
                    global.startupScript = script(child)
                } else {
                    global.shutdownScript = script(child)
                }
            case "startup_script_timeout":
                if let value = integer(child, 1...1000, "a time in seconds from 1 to 1000") {
                    global.startupScriptTimeout = .seconds(value)
                }
            case "shutdown_script_timeout":
                if let value = integer(child, 1...1000, "a time in seconds from 1 to 1000") {
                    global.shutdownScriptTimeout = .seconds(value)
                }
            case "vrrp_version":
                if let value = integer(child, 2...3, "2 or 3") { global.vrrpVersion = value }
            case "vrrp_strict": global.vrrpStrict = true
            case "vrrp_mcast_group4":
                if let group = address(child, family: .ipv4) {
                    if group.isMulticast {
                        global.vrrpMulticastGroup4 = group
                    } else {
                        error(
                            .invalidValue, child.arguments[0].location,
                            "`vrrp_mcast_group4` needs a multicast address (224.0.0.0/4)")
                    }
                }
            case "vrrp_mcast_group6":
                if let group = address(child, family: .ipv6) {
                    if group.isMulticast {
                        global.vrrpMulticastGroup6 = group
                    } else {
                        error(
                            .invalidValue, child.arguments[0].location,
                            "`vrrp_mcast_group6` needs a multicast address (ff00::/8)")
                    }
                }
            case "vrrp_check_unicast_src": global.vrrpCheckUnicastSource = true
            case "vrrp_skip_check_adv_addr": global.vrrpSkipCheckAdvertAddresses = true
            case "vrrp_startup_delay":
                if let value = seconds(child, .zero ... .seconds(3600)) { global.vrrpStartupDelay = value }
            case "vrrp_garp_master_delay", "vrrp_garp_master_repeat", "vrrp_garp_master_refresh",
                "vrrp_garp_master_refresh_repeat", "vrrp_garp_lower_prio_delay", "vrrp_garp_lower_prio_repeat",
                "vrrp_garp_interval", "vrrp_gna_interval":
                readGarp(String(name.dropFirst("vrrp_".count)), child, into: &global.vrrpGarp)
            case "vrrp_down_timer_adverts":
                if let value = integer(child, 1...100) { global.vrrpDownTimerAdverts = value }
            case "vrrp_lower_prio_no_advert": global.vrrpLowerPriorityNoAdvert = boolean(child) ?? false
            case "vrrp_higher_prio_send_advert": global.vrrpHigherPrioritySendAdvert = boolean(child) ?? true
            case "vrrp_notify_priority_changes": global.vrrpNotifyPriorityChanges = boolean(child) ?? false
            case "dynamic_interfaces": global.dynamicInterfaces = true
            case "nftables":
                if let name = child.arguments.first {
                    if Self.isNFTablesName(name.text) {
                        global.vrrpFirewall.table = name.text
                    } else {
                        error(
                            .invalidValue, name.location,
                            "'\(name.text)' is not an nftables table name (a letter, then letters, digits, _ . /)")
                    }
                }
            case "nftables_priority":
                if let value = integer(child, Int(Int32.min)...Int(Int32.max), "a hook priority") {
                    global.vrrpFirewall.priority = value
                }
            case "nftables_counters": global.vrrpFirewall.counters = true
            case "vmac_prefix":
                if let value = word(child, "the start of VMAC interface names") {
                    if ConfigurationBuilder.isPlainInterfaceName(value) {
                        global.vmacPrefix = value
                    } else {
                        error(
                            .invalidValue, child.arguments[0].location,
                            "'\(value)' cannot start an interface name (no / : or spaces)")
                    }
                }
            case "vrrp_iptables":
                // Vigil's firewall is nftables in any case (Debian's keepalived also turns this into nftables).
                break
            case "default_interface":
                if let value = word(child, "an interface name") { global.defaultInterface = value }
            case "notify_fifo": global.notifyFIFO = fifo(child)
            case "notify_fifo_script": global.notifyFIFOScript = script(child)
            case "vrrp_notify_fifo": global.vrrpNotifyFIFO = fifo(child)
            case "vrrp_notify_fifo_script": global.vrrpNotifyFIFOScript = script(child)
            case "lvs_notify_fifo": global.lvsNotifyFIFO = fifo(child)
            case "lvs_notify_fifo_script": global.lvsNotifyFIFOScript = script(child)
            case "vigil_lb_backend":
                guard let value = word(child, "ipvs or nftables") else { break }
                if let backend = VigilSettings.LoadBalancerBackend(rawValue: value) {
                    global.vigil.loadBalancerBackend = backend
                } else {
                    error(
                        .invalidValue, child.arguments[0].location,
                        "`vigil_lb_backend` is ipvs or nftables, not '\(value)'")
                }
            case "vrrp_priority", "vrrp_rt_priority", "vrrp_rlimit_rttime", "vrrp_rlimit_rtime", "vrrp_no_swap",
                "vrrp_cpu_affinity":
                scheduling(String(name.dropFirst("vrrp_".count)), child, into: &global.vrrpScheduling)
            case "checker_priority", "checker_rt_priority", "checker_rlimit_rttime", "checker_rlimit_rtime",
                "checker_no_swap", "checker_cpu_affinity":
                scheduling(String(name.dropFirst("checker_".count)), child, into: &global.checkerScheduling)
            case "bfd_priority", "bfd_rt_priority", "bfd_rlimit_rttime", "bfd_rlimit_rtime", "bfd_no_swap",
                "bfd_cpu_affinity":
                scheduling(String(name.dropFirst("bfd_".count)), child, into: &global.bfdScheduling)
            case "checker_log_all_failures": global.checkerLogAllFailures = boolean(child) ?? true
            case "no_checker_emails": global.noCheckerEmails = boolean(child) ?? true
            case "rs_init_notifies": global.realServerInitialNotifies = boolean(child) ?? true
            case "vigil_no_realtime": global.vigil.realtime = false
            case "vigil_metrics_listen":
                global.vigil.metricsListen = word(
                    child, "an address and port to serve metrics on, as in 127.0.0.1:9650")
            default:
                global.otherSettings.append(setting(child))
            }
        }
        if minimalAnnouncements {
            // keepalived's vrrp_min_garp: one announcement per address on becoming master and no second burst,
            // for every setting the file leaves at its default.
            if !written.contains("vrrp_garp_master_repeat") { global.vrrpGarp.masterRepeat = 1 }
            if !written.contains("vrrp_garp_master_delay") { global.vrrpGarp.masterDelay = .zero }
            if !written.contains("vrrp_garp_master_refresh") { global.vrrpGarp.masterRefresh = .zero }
        }
        configuration.global = global
    }

    static func isPlainInterfaceName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count < 15 && !text.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace })
    }

    /// nftables' identifier rule for table names.
    static func isNFTablesName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_./".unicodeScalars.contains($0))
        }
    }

    /// A process's scheduling (`priority`, `rt_priority`, `rlimit_rttime`, `no_swap`, `cpu_affinity`), shared by
    /// the `vrrp_` and `checker_` keywords of `global_defs`.
    mutating func scheduling(_ setting: String, _ statement: Statement, into scheduling: inout ProcessScheduling) {
        switch setting {
        case "priority": scheduling.nice = integer(statement, -20...19, "a nice value from -20 to 19")
        case "rt_priority": scheduling.realtimePriority = integer(statement, 1...99, "a real-time priority from 1 to 99")
        case "rlimit_rttime", "rlimit_rtime":
            scheduling.realtimeLimitMicroseconds = integer(statement, 1...Int(Int32.max), "a CPU time in microseconds")
        case "no_swap": scheduling.noSwap = true
        case "cpu_affinity": scheduling.cpus = processors(statement)
        default: break
        }
    }

    /// The `garp_*` settings, shared by `global_defs` (prefixed `vrrp_`) and `vrrp_instance`.
    mutating func readGarp(_ name: String, _ statement: Statement, into garp: inout GratuitousARPSettings) {
        switch name {
        case "garp_master_delay":
            if let value = integer(statement, 0...4294, "a time in whole seconds from 0 to 4294") {
                garp.masterDelay = .seconds(value)
            }
        case "garp_master_repeat":
            if let value = integer(statement, 0...Int(Int32.max), "a count of at least 1") {
                garp.masterRepeat = max(value, 1)
            }
        case "garp_master_refresh":
            if let value = integer(statement, 0...Int(UInt32.max), "a time in whole seconds (0 for no refresh)") {
                garp.masterRefresh = .seconds(value)
            }
        case "garp_master_refresh_repeat":
            if let value = integer(statement, 0...Int(Int32.max), "a count of at least 1") {
                garp.masterRefreshRepeat = max(value, 1)
            }
        case "garp_lower_prio_delay":
            if let value = integer(statement, 0...4294, "a time in whole seconds from 0 to 4294") {
                garp.lowerPriorityDelay = .seconds(value)
            }
        case "garp_lower_prio_repeat":
            if let value = integer(statement, 0...Int(Int32.max)) { garp.lowerPriorityRepeat = value }
        case "garp_interval":
            if let value = seconds(statement, .zero ... .seconds(1000)) { garp.interval = value }
        case "gna_interval":
            if let value = seconds(statement, .zero ... .seconds(1000)) { garp.naInterval = value }
        default:
            break
        }
    }
}

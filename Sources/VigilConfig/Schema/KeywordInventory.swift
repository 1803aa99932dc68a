/// Every keyword of keepalived 2.2.7's grammar (and Vigil's own), with what Vigil does with it: the one place that
/// says. Keys are the block a keyword stands in (`BlockSchema.context`, or `… item` for the options of a list
/// item) and the keyword's canonical name. `KeywordInventoryTests` holds it to the schema (nothing missing,
/// nothing stale) and to the builder (nothing it keeps only as written is called working), and checks that
/// docs/COMPATIBILITY.md's keyword table is `markdownTable()`'s output.
public enum KeywordInventory {
    public struct Entry: Sendable, Hashable {
        public var context: String
        public var keyword: String
        public var support: KeywordSupport
    }

    /// What Vigil does with `keyword` in `context`, if the inventory knows it.
    public static func support(_ keyword: String, in context: String) -> KeywordSupport? {
        table[Key(context: context, keyword: keyword)]
    }

    struct Key: Hashable {
        var context: String
        var keyword: String
    }

    static let table: [Key: KeywordSupport] = {
        var table = [Key: KeywordSupport]()
        for entry in entries {
            precondition(table[Key(context: entry.context, keyword: entry.keyword)] == nil, "\(entry) twice")
            table[Key(context: entry.context, keyword: entry.keyword)] = entry.support
        }
        return table
    }()

    // MARK: - Wording shared by several keywords

    static let noSNMP = KeywordSupport.notYet(
        "Vigil has no SNMP agent; read the state with `vigil status --json` or the Prometheus metrics (`--metrics`)")
    static let noDBus = KeywordSupport.notYet(
        "Vigil has no D-Bus interface; read the state with `vigil status --json` or the Prometheus metrics")
    static let noExtraVMAC = KeywordSupport.notYet(
        "Vigil creates no VMAC for an address on another interface: it goes on that interface, with its own MAC (gratuitous ARP moves clients to it)"
    )
    static let nftablesNoIPVSSettings = "with the nftables backend there is no IPVS to set: nothing is done"
    static let nftablesNoPersistence = "with the nftables backend, connections are not kept on one real server"
    static let nftablesNoSchedulerFlags = "with the nftables backend, scheduler flags have no equivalent and are ignored"
    static let nftablesNoThresholds = "with the nftables backend, no connection thresholds are enforced"
    static let checkerTiming = "CheckerMachine (retry and timing), cascading from virtual_server and real_server"
    static let sharedCheckerKeywords: [(String, KeywordSupport)] = [
        ("connect_ip", .works("CheckerPlanner: the probe's address")),
        ("connect_port", .works("CheckerPlanner: the probe's port")),
        ("bindto", .works("Probes.openSocket: bind()")),
        ("bind_port", .works("Probes.openSocket: bind() to the port")),
        ("bind_if", .works("Probes.openSocket: SO_BINDTODEVICE")),
        ("connect_timeout", .works("Probe: one deadline for the whole check")),
        ("fwmark", .works("Probes.openSocket: SO_MARK")),
        ("retry", .works(checkerTiming)),
        ("delay_before_retry", .works(checkerTiming)),
        ("warmup", .works(checkerTiming)),
        ("delay_loop", .works(checkerTiming)),
        ("alpha", .works("CheckerMachine: starts down until its first success")),
        ("log_all_failures", .works("CheckerPlanner: every failure is logged")),
    ]

    // MARK: - The inventory

    public static let entries: [Entry] = {
        var entries = [Entry]()
        func add(_ context: String, _ items: [(String, KeywordSupport)]) {
            for (keyword, support) in items { entries.append(Entry(context: context, keyword: keyword, support: support)) }
        }

        add(
            "top level",
            [
                ("global_defs", .works("GlobalDefinitions")),
                ("vrrp_instance", .works("VRRPPlanner, one RouterState and VirtualRouter each")),
                ("vrrp_script", .works("VRRPPlanner+Tracking: scripts run off the loop, rise/fall in ScriptHealth")),
                (
                    "vrrp_track_process",
                    .works(
                        "ProcessWatch: the kernel's process events (opened before entering net_namespace), /proc every second where they are not available"
                    )
                ),
                ("track_file", .works("inotify on the file's directory, in the VRRP process and in CheckerService")),
                ("vrrp_track_file", .works("as `track_file`")),
                ("vrrp_sync_group", .works("SyncGroupState: MASTER together, BACKUP and FAULT spread")),
                (
                    "virtual_server",
                    .works("CheckerPlanner: checkers, ServicePool, the load balancer (address and port, or firewall mark)")
                ),
                (
                    "virtual_server_group",
                    .works("CheckerPlanner: a service for every address of each range, and every firewall mark")
                ),
                ("SSL", .works("TLSContext for SSL_GET")),
                (
                    "static_ipaddress",
                    .works("VRRPPlanner+KernelEntries: added at start, back when the link comes up, removed on stop")
                ),
                ("static_routes", .works("VRRPPlanner+KernelEntries: rtnetlink, protocol keepalived, as keepalived encodes them")),
                ("static_rules", .works("VRRPPlanner+KernelEntries: rtnetlink, protocol keepalived")),
                (
                    "net_namespace",
                    .works(
                        "the supervisor enters /run/netns/NAME before its processes start (`-s NAME` wins); give a second Vigil its own `--runtime-dir`"
                    )
                ),
                ("net_namespace_ipvs", .notYet("the load balancer is programmed in Vigil's own network namespace")),
                ("namespace_with_ipsets", .notApplicable("Vigil uses no ipsets")),
                (
                    "use_pid_dir",
                    .notApplicable("pid files are in Vigil's runtime directory (`--runtime-dir`, /run/vigil) or where -p/-r/-c say")
                ),
                (
                    "instance",
                    .notApplicable("pid files are in Vigil's runtime directory; give a second Vigil its own `--runtime-dir`")
                ),
                ("child_wait_time", .notApplicable("the supervisor waits up to 10 s for its children to stop")),
                ("garp_group", .works("VRRPPlanner+Announcements: one pace for the group's interfaces, whichever instance announces")),
                ("track_group", .notYet("track groups are not applied")),
                ("linkbeat_interfaces", .works("VRRPPlanner: these interfaces' carrier read every second (sysfs)")),
                ("linkbeat_use_polling", .works("VRRPPlanner: the carrier of every interface an instance uses, read every second")),
                ("interface_up_down_delays", .notYet("an interface going down or up counts at once")),
                ("bfd_instance", .works("BFDPlanner and BFD.Session in the BFD process (RFC 5880/5881, single hop, asynchronous)")),
            ])

        add(
            "global_defs",
            [
                ("router_id", .works("Notifier: the mail subject's [router_id]")),
                ("notification_email", .works("Notifier: mail")),
                ("notification_email_from", .works("Notifier: mail")),
                ("smtp_server", .works("Notifier: mail through SMTPClient")),
                ("smtp_helo_name", .works("SMTPClient")),
                ("smtp_connect_timeout", .works("SMTPClient")),
                ("smtp_alert", .works("Notifier: VRRP and checker mail")),
                ("smtp_alert_vrrp", .works("Notifier: VRRP mail")),
                ("smtp_alert_checker", .works("CheckerPlanner: real-server mail")),
                ("no_email_faults", .works("Notifier: no mail on FAULT")),
                ("enable_script_security", .works("ScriptLauncher and the validator: unsafe scripts are disabled")),
                ("script_user", .works("ScriptLauncher: the default script user and group")),
                ("startup_script", .works("Supervisor: run before the processes start, which wait for it")),
                ("startup_script_timeout", .works("LifecycleScript: SIGTERM, then SIGKILL 2 s later")),
                ("shutdown_script", .works("Supervisor: run once the processes stopped")),
                ("shutdown_script_timeout", .works("LifecycleScript: SIGTERM, then SIGKILL 2 s later")),
                ("vrrp_version", .works("RouterState: the default VRRP version")),
                ("vrrp_mcast_group4", .works("RouterState and VRRPSocket: the group joined and sent to")),
                ("vrrp_mcast_group6", .works("RouterState and VRRPSocket: the group joined and sent to")),
                ("vrrp_garp_master_delay", .works("VirtualRouter: the second burst of announcements")),
                ("vrrp_garp_master_repeat", .works("VirtualRouter: announcements per burst")),
                ("vrrp_garp_master_refresh", .works("VirtualRouter: periodic announcements while master")),
                ("vrrp_garp_master_refresh_repeat", .works("VirtualRouter")),
                ("vrrp_garp_lower_prio_delay", .works("VirtualRouter: announcements after a lower-priority advert")),
                ("vrrp_garp_lower_prio_repeat", .works("VirtualRouter")),
                ("vrrp_garp_interval", .works("VRRPPlanner+Announcements: the gap between gratuitous ARPs on an interface")),
                ("vrrp_gna_interval", .works("VRRPPlanner+Announcements: the gap between neighbour advertisements on an interface")),
                (
                    "vrrp_min_garp",
                    .works("ConfigurationBuilder: one announcement per address and no second burst, where the file leaves the defaults")
                ),
                ("vrrp_garp_extra_if", .works("VRRPPlanner+Announcements: every instance's default `garp_extra_if`")),
                ("vrrp_vmac_garp_intvl", .works("as `vrrp_garp_extra_if`")),
                ("vrrp_down_timer_adverts", .works("VirtualRouter: Master_Down_Interval")),
                ("vrrp_lower_prio_no_advert", .works("VirtualRouter")),
                ("vrrp_higher_prio_send_advert", .works("VirtualRouter (Vigil's default: on)")),
                ("vrrp_check_unicast_src", .works("ReceivePolicy: unicast adverts from peers only")),
                ("vrrp_skip_check_adv_addr", .works("ReceivePolicy")),
                (
                    "vrrp_strict",
                    .works(
                        "Validator and VirtualRouter: RFC 5798 as keepalived applies it (no unicast, no authentication, no preempt_delay, no extra adverts or announcements around other priorities, adverts with another address list dropped), `no_accept` by default (AcceptModeFirewall)"
                    )
                ),
                ("vrrp_startup_delay", .works("VirtualRouter: start-up delay")),
                ("vrrp_priority", .works("VRRPService.applyScheduling: nice")),
                ("vrrp_no_swap", .works("VRRPService.applyScheduling: mlockall")),
                ("vrrp_rt_priority", .works("VRRPService.applyScheduling: SCHED_RR")),
                ("vrrp_rlimit_rttime", .works("VRRPService.applyScheduling: RLIMIT_RTTIME")),
                ("vrrp_rlimit_rtime", .works("as `vrrp_rlimit_rttime`")),
                ("vrrp_cpu_affinity", .works("VRRPService.applyScheduling: sched_setaffinity")),
                ("notify_fifo", .works("Notifier: FIFO lines")),
                (
                    "notify_fifo_script",
                    .partial("started by the VRRP process, so not with a file that has no `vrrp_instance`")
                ),
                ("vrrp_notify_fifo", .works("Notifier: FIFO lines")),
                ("vrrp_notify_fifo_script", .works("Notifier: started with the FIFO's path")),
                ("vrrp_notify_priority_changes", .works("Notifier: priority lines in the FIFO")),
                ("fifo_write_vrrp_states_on_reload", .notYet("no state lines are written on a reload")),
                ("lvs_notify_fifo", .works("Notifier: FIFO lines of the checker")),
                ("lvs_notify_fifo_script", .works("Notifier: started with the FIFO's path")),
                (
                    "dynamic_interfaces",
                    .works(
                        "VRRPPlanner: an instance waits in FAULT for an interface missing at start, deleted or renamed, and attaches when it appears (always, with or without the keyword)"
                    )
                ),
                ("default_interface", .works("VRRPPlanner+KernelEntries: the interface of a `static_ipaddress` without `dev`")),
                ("disable_local_igmp", .notYet("the igmp_link_local_mcast_reports setting is left as it is")),
                ("lvs_timeouts", .worksExcept("IPVS: IPVS_CMD_SET_CONFIG", except: nftablesNoIPVSSettings)),
                ("lvs_flush", .worksExcept("IPVS: emptied at start", except: nftablesNoIPVSSettings)),
                ("lvs_flush_on_stop", .worksExcept("IPVS: emptied on stop (VS: only Vigil's services)", except: nftablesNoIPVSSettings)),
                (
                    "lvs_sync_daemon",
                    .worksExcept(
                        "IPVS: master and backup daemons from the checker, or following `inst` from the VRRP process",
                        except: nftablesNoIPVSSettings)
                ),
                (
                    "vrrp_iptables",
                    .works("as `nftables` (Debian's keepalived, built without iptables, does the same): AcceptModeFirewall")
                ),
                ("nftables", .works("AcceptModeFirewall: the table's name (family inet)")),
                ("nftables_priority", .works("AcceptModeFirewall: the hooks' priority")),
                (
                    "nftables_ifindex",
                    .notApplicable("Vigil matches link-local virtual addresses by interface name, which outlives a re-created interface")
                ),
                ("nftables_counters", .works("AcceptModeFirewall: counters on the drop rules")),
                ("nftables_ipvs", .notYet("firewall-mark virtual server groups are not built")),
                ("nftables_ipvs_priority", .notYet("firewall-mark virtual server groups are not built")),
                ("nftables_ipvs_start_fwmark", .notYet("firewall-mark virtual server groups are not built")),
                ("checker_priority", .works("CheckerService.applyScheduling: nice")),
                ("checker_no_swap", .works("CheckerService.applyScheduling: mlockall")),
                ("checker_rt_priority", .works("CheckerService.applyScheduling: SCHED_RR")),
                ("checker_cpu_affinity", .works("CheckerService.applyScheduling: sched_setaffinity")),
                ("checker_rlimit_rttime", .works("CheckerService.applyScheduling: RLIMIT_RTTIME")),
                ("checker_rlimit_rtime", .works("as `checker_rlimit_rttime`")),
                ("checker_log_all_failures", .works("CheckerPlanner: every checker logs every failure")),
                ("bfd_priority", .works("BFDService.applyScheduling: nice")),
                ("bfd_no_swap", .works("BFDService.applyScheduling: mlockall")),
                ("bfd_rt_priority", .works("BFDService.applyScheduling: SCHED_RR")),
                ("bfd_cpu_affinity", .works("BFDService.applyScheduling: sched_setaffinity")),
                ("bfd_rlimit_rttime", .works("BFDService.applyScheduling: RLIMIT_RTTIME")),
                ("bfd_rlimit_rtime", .works("as `bfd_rlimit_rttime`")),
                ("snmp_socket", noSNMP),
                ("enable_traps", noSNMP),
                ("enable_snmp_vrrp", noSNMP),
                ("enable_snmp_rfc", noSNMP),
                ("enable_snmp_rfcv2", noSNMP),
                ("enable_snmp_rfcv3", noSNMP),
                ("enable_snmp_checker", noSNMP),
                ("enable_dbus", noDBus),
                ("dbus_service_name", noDBus),
                ("rs_init_notifies", .works("CheckerPlanner.build: notify_up of new real servers that start up")),
                ("no_checker_emails", .works("CheckerPlanner.checkerMail: mail only when a real server changes")),
                ("random_seed", .notYet("`${_RANDOM}` takes Vigil's own seed")),
                ("reload_time_file", .notYet("no reload is scheduled")),
                ("reload_repeat", .notYet("no reload is scheduled")),
                ("reload_file", .notYet("no file marks a reload in progress")),
                ("include_check", .notYet("a missing include file is a warning, as without `include_check`")),
                (
                    "reload_check_config",
                    .notApplicable("Vigil always checks the file before a reload and refuses one with errors (no log file is written)")
                ),
                ("process_names", .notApplicable("Vigil's processes keep the program's name")),
                ("process_name", .notApplicable("Vigil's processes keep the program's name")),
                ("vrrp_process_name", .notApplicable("Vigil's processes keep the program's name")),
                ("checker_process_name", .notApplicable("Vigil's processes keep the program's name")),
                ("lvs_process_name", .notApplicable("Vigil's processes keep the program's name")),
                ("bfd_process_name", .notApplicable("Vigil's processes keep the program's name")),
                ("max_auto_priority", .notApplicable("Vigil runs the VRRP loop at real-time priority from the start")),
                ("min_auto_priority_delay", .notApplicable("Vigil runs the VRRP loop at real-time priority from the start")),
                (
                    "vrrp_netlink_cmd_rcv_bufs",
                    .notApplicable("Vigil sizes its netlink sockets itself and reads the interfaces again after an overflow")
                ),
                ("vrrp_netlink_cmd_rcv_bufs_force", .notApplicable("Vigil sizes its netlink sockets itself")),
                ("vrrp_netlink_monitor_rcv_bufs", .notApplicable("Vigil sizes its netlink sockets itself")),
                ("vrrp_netlink_monitor_rcv_bufs_force", .notApplicable("Vigil sizes its netlink sockets itself")),
                ("process_monitor_rcv_bufs", .notApplicable("Vigil's process-events socket has a 2 MiB buffer; events lost (ENOBUFS) make it read /proc again")),
                ("process_monitor_rcv_bufs_force", .notApplicable("Vigil's process-events socket has a 2 MiB buffer; events lost (ENOBUFS) make it read /proc again")),
                ("lvs_netlink_cmd_rcv_bufs", .notApplicable("Vigil sizes its netlink sockets itself")),
                ("lvs_netlink_cmd_rcv_bufs_force", .notApplicable("Vigil sizes its netlink sockets itself")),
                ("lvs_netlink_monitor_rcv_bufs", .notApplicable("Vigil sizes its netlink sockets itself")),
                ("lvs_netlink_monitor_rcv_bufs_force", .notApplicable("Vigil sizes its netlink sockets itself")),
                ("vrrp_rx_bufs_policy", .notApplicable("Vigil sizes its VRRP sockets for bursts from hundreds of routers")),
                ("vrrp_rx_bufs_multiplier", .notApplicable("Vigil sizes its VRRP sockets for bursts from hundreds of routers")),
                ("log_unknown_vrids", .notApplicable("Vigil logs unknown VRIDs at debug level, at most once every 10 s")),
                ("vmac_prefix", .works("VRRPPlanner+VirtualMAC: the start of VMAC interface names")),
                ("vmac_addr_prefix", noExtraVMAC),
                ("umask", .notApplicable("Vigil creates its files with explicit owner-only modes")),
                ("config_save_dir", .notApplicable("`vigil config dump` shows the configuration as Vigil read it")),
                ("tmp_config_directory", .notApplicable("Vigil reads the configuration without a temporary copy")),
                ("data_use_instance", .notApplicable("dumps are vigil.data and vigil.stats in the runtime directory")),
                ("vigil_lb_backend", .works("CheckerPlanner: IPVS or nftables")),
                ("vigil_metrics_listen", .works("MetricsPage: Prometheus metrics")),
                ("vigil_no_realtime", .works("VRRPService.applyScheduling")),
            ])

        add("track_group", [("group", .notYet("track groups are not applied"))])

        add(
            "vrrp_sync_group",
            [
                ("group", .works("SyncGroupState")),
                ("track_interface", .works("TrackedPriority for every member")),
                ("track_script", .works("TrackedPriority for every member")),
                ("track_file", .works("TrackedPriority for every member")),
                ("track_process", .works("TrackedPriority for every member")),
                ("track_bfd", .works("TrackedPriority for every member (the BFD process's events)")),
                ("notify_master", .works("Notifier: group scripts")),
                ("notify_backup", .works("Notifier: group scripts")),
                ("notify_fault", .works("Notifier: group scripts")),
                ("notify_stop", .works("Notifier: group scripts")),
                ("notify", .works("Notifier: group scripts")),
                ("smtp_alert", .works("Notifier: group mail")),
                ("global_tracking", .works("as `sync_group_tracking_weight`")),
                ("sync_group_tracking_weight", .works("VRRPPlanner+Tracking: group trackers keep their weights")),
                ("notify_priority_changes", .notYet("only the members' own `notify_priority_changes` is applied")),
            ])

        add(
            "garp_group",
            [
                ("garp_interval", .works("VRRPPlanner+Announcements: the group's gap between gratuitous ARPs")),
                ("gna_interval", .works("VRRPPlanner+Announcements: the group's gap between neighbour advertisements")),
                ("interface", .works("the group's interface")),
                ("interfaces", .works("the group's interfaces")),
            ])

        add(
            "authentication",
            [
                ("auth_type", .works("PASS: ReceivePolicy (constant-time); AH: AuthenticationHeader (HMAC-MD5-96)")),
                ("auth_pass", .works("the password (PASS) or the HMAC key (AH), 8 bytes")),
            ])

        add(
            "vrrp_instance",
            [
                ("state", .works("RouterState: the initial state")),
                ("interface", .works("VRRPService: the socket and the link that faults it")),
                ("virtual_router_id", .works("VirtualRouter")),
                ("priority", .works("VirtualRouter and TrackedPriority")),
                ("advert_int", .works("VirtualRouter and ReceivePolicy")),
                ("version", .works("Advertisement v2/v3")),
                ("nopreempt", .works("VirtualRouter")),
                ("preempt", .works("VirtualRouter")),
                ("preempt_delay", .works("VirtualRouter")),
                ("authentication", .works("PASS and AH (VRRPv2 over IPv4)")),
                ("unicast_src_ip", .works("RouterState: the source of unicast adverts")),
                ("unicast_peer", .works("RouterState: destinations; ReceivePolicy: accepted sources")),
                ("unicast_ttl", .works("VRRPService: the TTL of unicast adverts")),
                (
                    "unicast_fault_no_peer",
                    .works("Validator and VRRPPlanner: an instance with a unicast keyword and no peer stays in FAULT")
                ),
                ("check_unicast_src", .works("ReceivePolicy")),
                (
                    "old_unicast_checksum",
                    .partial("both checksums are accepted on receipt; Vigil always sends the RFC's")
                ),
                ("native_ipv6", .works("the instance's family when no address decides it")),
                ("mcast_src_ip", .works("RouterState: the source of adverts")),
                ("mcast_dst_ip", .works("RouterState and VRRPSocket")),
                ("track_src_ip", .notYet("losing the source address does not put the instance in FAULT")),
                ("vrf", .notYet("the instance runs in the default VRF")),
                ("dont_track_primary", .works("VRRPPlanner.linkFault: the instance's interface going down does not fault it")),
                ("track_interface", .works("TrackedPriority (netlink link events)")),
                ("track_script", .works("TrackedPriority")),
                ("track_file", .works("TrackedPriority (inotify)")),
                ("track_process", .works("TrackedPriority (the kernel's process events)")),
                ("track_bfd", .works("TrackedPriority (the BFD process's events; down until it says Up, as keepalived)")),
                ("virtual_ipaddress", .works("VRRPService: added while MASTER through netlink, announced")),
                ("virtual_ipaddress_excluded", .works("VRRPService: added while MASTER, not advertised")),
                ("virtual_routes", .works("VRRPPlanner+KernelEntries: added while MASTER after the addresses, tracked")),
                ("virtual_rules", .works("VRRPPlanner+KernelEntries: added while MASTER after the routes, tracked")),
                ("promote_secondaries", .notYet("the interface's promote_secondaries setting is left as it is")),
                ("linkbeat_use_polling", .works("VRRPPlanner: the instance's interface's carrier read every second")),
                ("accept", .works("AcceptModeFirewall: a master accepts traffic to its addresses (the default unless strict)")),
                ("no_accept", .works("AcceptModeFirewall: an nftables table drops traffic to the addresses of a master that is not their owner")),
                ("skip_check_adv_addr", .works("ReceivePolicy")),
                (
                    "strict_mode",
                    .works(
                        "Validator and VirtualRouter: RFC 5798 as keepalived applies it (no unicast, no authentication, no preempt_delay, no extra adverts or announcements around other priorities, adverts with another address list dropped), `no_accept` by default (AcceptModeFirewall)"
                    )
                ),
                (
                    "use_vmac",
                    .works(
                        "VRRPPlanner+VirtualMAC: a private-mode macvlan with the virtual router's MAC, named and set up as keepalived does, holds the addresses; adverts go out through it"
                    )
                ),
                ("use_vmac_addr", noExtraVMAC),
                ("vmac_xmit_base", .works("VRRPPlanner+VirtualMAC: adverts go out from the base interface")),
                (
                    "use_ipvlan",
                    .works("VRRPPlanner+VirtualMAC: an L2 ipvlan with its own address, the adverts' source; the VIPs stay on the base interface, as keepalived 2.2.7 puts them")
                ),
                ("garp_extra_if", .works("VRRPPlanner+Announcements: while MASTER, one frame per other interface every interval")),
                ("vmac_garp_intvl", .works("as `garp_extra_if`")),
                ("notify_master", .works("Notifier")),
                ("notify_backup", .works("Notifier")),
                ("notify_fault", .works("Notifier")),
                ("notify_stop", .works("Notifier")),
                ("notify", .works("Notifier")),
                (
                    "notify_deleted",
                    .works("VRRPPlanner and Notifier: an instance a reload removes runs it and notifies DELETED (FAULT without it)")
                ),
                ("notify_master_rx_lower_pri", .works("Notifier")),
                ("notify_priority_changes", .works("Notifier: FIFO lines")),
                ("smtp_alert", .works("Notifier: mail")),
                ("garp_master_delay", .works("VirtualRouter")),
                ("garp_master_repeat", .works("VirtualRouter")),
                ("garp_master_refresh", .works("VirtualRouter")),
                ("garp_master_refresh_repeat", .works("VirtualRouter")),
                ("garp_lower_prio_delay", .works("VirtualRouter")),
                ("garp_lower_prio_repeat", .works("VirtualRouter")),
                ("down_timer_adverts", .works("VirtualRouter")),
                ("lower_prio_no_advert", .works("VirtualRouter")),
                ("higher_prio_send_advert", .works("VirtualRouter")),
                ("lvs_sync_daemon_interface", .worksExcept("as `lvs_sync_daemon IFNAME inst` this instance", except: nftablesNoIPVSSettings)),
                ("debug", .notApplicable("use -D for detailed logs")),
                ("kernel_rx_buf_size", .notApplicable("Vigil sizes its VRRP sockets for bursts from hundreds of routers")),
            ])

        add(
            "virtual_ipaddress item",
            [
                ("dev", .works("RouterState: the address goes on that interface, which the instance tracks (FAULT while it is down)")),
                ("scope", .works("netlink: the address's scope")),
                ("brd", .works("netlink: the broadcast address")),
                ("broadcast", .works("netlink: the broadcast address")),
                ("label", .works("netlink: the label")),
                ("peer", .works("netlink: the peer address")),
                ("preferred_lft", .works("netlink: the preferred lifetime (IPv6)")),
                ("home", .works("netlink: IFA_F_HOMEADDRESS")),
                ("-nodad", .works("netlink: IFA_F_NODAD (Vigil sets it for every IPv6 address, as keepalived)")),
                ("mngtmpaddr", .works("netlink: IFA_F_MANAGETEMPADDR")),
                ("noprefixroute", .works("netlink: IFA_F_NOPREFIXROUTE")),
                ("autojoin", .works("netlink: IFA_F_MCAUTOJOIN")),
                ("no_track", .works("RouterState: the address's interface is not tracked")),
                ("use_vmac", noExtraVMAC),
                ("track_group", .notYet("track groups are not applied")),
            ])

        add(
            "unicast_peer item",
            [
                ("min_ttl", .works("ReceivePolicy")),
                ("max_ttl", .works("ReceivePolicy")),
            ])

        add(
            "vrrp_script",
            [
                ("script", .works("ScriptLauncher and ChildProcess, off the loop")),
                ("interval", .works("VRRPPlanner+Tracking")),
                ("timeout", .works("VRRPPlanner+Tracking: the process group is killed")),
                ("weight", .works("TrackedPriority")),
                ("rise", .works("ScriptHealth")),
                ("fall", .works("ScriptHealth")),
                ("user", .works("ScriptLauncher")),
                ("init_fail", .works("ScriptHealth")),
            ])

        add(
            "vrrp_track_process",
            [
                ("process", .works("ProcessTable")),
                ("param_match", .works("ProcessTable")),
                ("weight", .works("TrackedPriority")),
                ("quorum", .works("VRRPPlanner+Tracking")),
                ("quorum_max", .works("VRRPPlanner+Tracking")),
                ("full_command", .works("ProcessTable")),
                ("delay", .works("VRRPPlanner+Tracking: fork_delay and terminate_delay together")),
                ("terminate_delay", .works("VRRPPlanner+Tracking: a quorum change by an exit waits")),
                ("fork_delay", .works("VRRPPlanner+Tracking: a quorum change by a fork waits")),
            ])

        for context in ["track_file", "vrrp_track_file"] {
            add(
                context,
                [
                    ("file", .works("followed through inotify by the VRRP process and by CheckerService")),
                    ("weight", .works("TrackedPriority and FILE_CHECK")),
                    ("init_file", .works("TrackFileInitializer: written at start when missing (or, with overwrite, replaced)")),
                ])
        }

        add(
            "SSL",
            [
                ("ca", .works("TLSContext: the server is verified")),
                ("certificate", .works("TLSContext: the client certificate")),
                ("key", .works("TLSContext: the client key")),
                ("password", .works("TLSContext: the key's password (OpenSSL's default password callback)")),
            ])

        add(
            "virtual_server",
            [
                ("ip_family", .works("the validator: real servers of the other family are reported")),
                ("delay_loop", .works(checkerTiming)),
                ("connect_timeout", .works(checkerTiming)),
                ("retry", .works(checkerTiming)),
                ("delay_before_retry", .works(checkerTiming)),
                ("warmup", .works(checkerTiming)),
                ("virtualhost", .works("HTTP_GET/SSL_GET: the Host header")),
                (
                    "lvs_sched",
                    .worksExcept("the IPVS scheduler", except: "with the nftables backend, rr and sh are exact, every other scheduler is weighted round robin")
                ),
                (
                    "lvs_method",
                    .worksExcept("IPVS forwarding (NAT, DR, TUN)", except: "with the nftables backend, NAT only (destination NAT)")
                ),
                ("protocol", .works("the service's transport: TCP, UDP or SCTP")),
                (
                    "persistence_timeout",
                    .worksExcept("IPVS persistence", except: "with the nftables backend, connections are not kept on one real server")
                ),
                (
                    "persistence_granularity",
                    .worksExcept("IPVS: the persistence netmask or prefix length", except: nftablesNoPersistence)
                ),
                ("persistence_engine", .worksExcept("IPVS: the persistence engine (sip)", except: nftablesNoPersistence)),
                ("hashed", .worksExcept("IPVS: the scheduler's flag", except: nftablesNoSchedulerFlags)),
                ("flag-1", .worksExcept("IPVS: the scheduler's flag", except: nftablesNoSchedulerFlags)),
                ("flag-2", .worksExcept("IPVS: the scheduler's flag", except: nftablesNoSchedulerFlags)),
                ("flag-3", .worksExcept("IPVS: the scheduler's flag", except: nftablesNoSchedulerFlags)),
                ("sh-port", .worksExcept("IPVS: the scheduler's flag", except: nftablesNoSchedulerFlags)),
                ("sh-fallback", .worksExcept("IPVS: the scheduler's flag", except: nftablesNoSchedulerFlags)),
                ("mh-port", .worksExcept("IPVS: the scheduler's flag", except: nftablesNoSchedulerFlags)),
                ("mh-fallback", .worksExcept("IPVS: the scheduler's flag", except: nftablesNoSchedulerFlags)),
                ("ops", .worksExcept("IPVS: one-packet scheduling", except: "with the nftables backend, connections are tracked as usual")),
                ("ha_suspend", .works("CheckerPlanner.suspended: no checks while none of its addresses is here")),
                ("alpha", .works("CheckerMachine: checkers start down")),
                ("omega", .works("CheckerPlanner.omegaNotifications: notify_down and quorum_down on stop")),
                ("quorum", .works("ServicePool")),
                ("hysteresis", .works("ServicePool")),
                ("quorum_up", .works("Notifier")),
                ("quorum_down", .works("Notifier")),
                ("inhibit_on_failure", .works("ServicePool: weight 0 instead of removal")),
                ("weight", .works("the real servers' default weight")),
                ("sorry_server", .works("ServicePool: alone below quorum")),
                ("sorry_server_inhibit", .works("ServicePool")),
                (
                    "sorry_server_lvs_method",
                    .worksExcept("IPVS forwarding of the sorry server", except: "with the nftables backend, NAT only")
                ),
                ("smtp_alert", .works("CheckerPlanner: real-server mail")),
                ("snmp_name", .notApplicable("Vigil has no SNMP agent")),
                ("real_server", .works("ServicePool member")),
            ])

        add(
            "real_server",
            [
                ("weight", .works("ServicePool: the destination's weight")),
                ("lvs_method", .worksExcept("IPVS forwarding (NAT, DR, TUN)", except: "with the nftables backend, NAT only")),
                ("uthreshold", .worksExcept("IPVS: the upper connection threshold", except: nftablesNoThresholds)),
                ("lthreshold", .worksExcept("IPVS: the lower connection threshold", except: nftablesNoThresholds)),
                ("inhibit_on_failure", .works("ServicePool: weight 0 instead of removal")),
                ("notify_up", .works("Notifier")),
                ("notify_down", .works("Notifier")),
                ("alpha", .works("CheckerMachine: checkers start down")),
                ("retry", .works(checkerTiming)),
                ("delay_before_retry", .works(checkerTiming)),
                ("warmup", .works(checkerTiming)),
                ("connect_timeout", .works(checkerTiming)),
                ("delay_loop", .works(checkerTiming)),
                ("smtp_alert", .works("CheckerPlanner: real-server mail")),
                ("virtualhost", .works("HTTP_GET/SSL_GET: the Host header")),
                ("snmp_name", .notApplicable("Vigil has no SNMP agent")),
                ("TCP_CHECK", .works("TCPProbe")),
                ("HTTP_GET", .works("HTTPProbe")),
                ("SSL_GET", .works("HTTPProbe over TLS (the system's libssl)")),
                ("SMTP_CHECK", .works("SMTPProbe")),
                ("UDP_CHECK", .works("DatagramProbe")),
                ("DNS_CHECK", .works("DatagramProbe with DNSMessage")),
                ("PING_CHECK", .works("PingProbe (raw ICMP)")),
                ("MISC_CHECK", .works("ScriptProbe")),
                ("FILE_CHECK", .works("CheckerService: the file followed through inotify (read every second where its directory cannot be watched)")),
                ("BFD_CHECK", .works("CheckerPlanner.bfdChanged: the BFD process's events move the real server")),
            ])

        for context in ["TCP_CHECK", "PING_CHECK", "UDP_CHECK", "DNS_CHECK", "SMTP_CHECK", "HTTP_GET", "SSL_GET"] {
            add(context, sharedCheckerKeywords)
        }
        add(
            "UDP_CHECK",
            [
                ("payload", .works("DatagramProbe")),
                ("require_reply", .works("DatagramProbe")),
                ("min_reply_length", .works("DatagramProbe")),
                ("max_reply_length", .works("DatagramProbe")),
            ])
        add("DNS_CHECK", [("type", .works("DNSMessage")), ("name", .works("DNSMessage"))])
        add(
            "SMTP_CHECK",
            [
                ("helo_name", .works("SMTPProbe")),
                ("host", .works("ConfigurationBuilder.buildCheckers: one checker per host, as keepalived")),
            ])
        add("host", sharedCheckerKeywords)
        for context in ["HTTP_GET", "SSL_GET"] {
            add(
                context,
                [
                    ("nb_get_retry", .works(checkerTiming)),
                    ("virtualhost", .works("HTTPProbe: the Host header")),
                    ("http_protocol", .works("HTTPProbe.requestText: HTTP/1.0, 1.0 with Connection: close, 1.1")),
                    ("enable_sni", .works("HTTPProbe: the TLS server name")),
                    ("fast_recovery", .works("CheckerPlanner.urlPassed: the next URL at once while down")),
                    ("url", .works("CheckerPlanner.urlPassed: one URL per check, every URL must pass")),
                ])
        }
        add(
            "url",
            [
                ("path", .works("HTTPProbe")),
                ("digest", .works("HTTPProbe: MD5 of the body")),
                ("status_code", .works("HTTPProbe")),
                ("virtualhost", .works("HTTPProbe")),
                ("regex", .works("BodyMatcher: PCRE2 over the streamed body")),
                ("regex_no_match", .works("HTTPProbe: the body must not match")),
                ("regex_options", .works("BodyPattern: PCRE2 compile options")),
                ("regex_min_offset", .works("BodyMatcher")),
                ("regex_max_offset", .works("BodyMatcher")),
                ("regex_stack", .notApplicable("it sizes PCRE2's JIT stack; Vigil runs PCRE2's interpreter, which needs none")),
            ])
        add(
            "MISC_CHECK",
            [
                ("misc_path", .works("ScriptProbe")),
                ("misc_timeout", .works("ScriptProbe: the process group is killed")),
                ("misc_dynamic", .works("ScriptProbe: the exit code sets the weight")),
                ("user", .works("ScriptLauncher")),
                ("retry", .works(checkerTiming)),
                ("delay_before_retry", .works(checkerTiming)),
                ("warmup", .works(checkerTiming)),
                ("delay_loop", .works(checkerTiming)),
                ("alpha", .works("CheckerMachine")),
                ("log_all_failures", .works("CheckerService")),
            ])
        add(
            "FILE_CHECK",
            [
                ("track_file", .works("CheckerService: the file followed through inotify")),
                ("weight", .works("ServicePool: the weight adjustment")),
            ])
        add(
            "BFD_CHECK",
            [
                ("name", .works("CheckerPlanner: the bfd_instance followed")),
                ("alpha", .works("CheckerMachine: down until the BFD process says Up")),
            ])

        add(
            "bfd_instance",
            [
                ("source_ip", .works("BFDSocket: the sending socket is bound to it; packets must arrive for it")),
                ("neighbor_ip", .works("BFDPlanner: the session's peer, matched by address until discriminators")),
                ("min_rx", .works("BFD.Session: Required Min RX Interval")),
                ("min_tx", .works("BFD.Session: Desired Min TX Interval while Up, through a Poll Sequence")),
                ("idle_tx", .works("BFD.Session: Desired Min TX Interval while not Up")),
                ("multiplier", .works("BFD.Session: Detect Mult")),
                ("passive", .works("BFD.Session: silent until the peer speaks")),
                ("ttl", .works("BFDSocket: IP_TTL / IPV6_UNICAST_HOPS, and the TTL packets must arrive with (unset: 255 sent over both families, as RFC 5881 asks; keepalived sends 64 over IPv6)")),
                ("max_hops", .works("BFDPlanner: how far below `ttl` a received TTL may be (255: not checked)")),
                ("weight", .works("VRRPPlanner: the default weight of `track_bfd`")),
                ("vrrp", .works("BFDService: only the VRRP process hears this instance")),
                ("checker", .works("BFDService: only the checker process hears this instance")),
            ])
        return entries
    }()
}

extension KeywordInventory {
    /// Other spellings of each keyword, by context and canonical name (`lb_algo` for `lvs_sched`).
    static let aliases: [Key: [String]] = {
        var result = [Key: [String]]()
        var seen = Set<ObjectIdentifier>()
        func walk(_ block: BlockSchema) {
            guard seen.insert(ObjectIdentifier(block)).inserted else { return }
            for (name, keyword) in block.keywords {
                if let canonical = keyword.canonicalName {
                    result[Key(context: block.context, keyword: canonical), default: []].append(name)
                }
                if let children = keyword.children { walk(children) }
            }
        }
        walk(.keepalived)
        return result.mapValues { $0.sorted() }
    }()

    /// The inventory as docs/COMPATIBILITY.md shows it: one table, block by block, in the inventory's order.
    public static func markdownTable() -> String {
        var text = "| block | keyword | state | what Vigil does |\n| --- | --- | --- | --- |\n"
        for entry in entries {
            var keyword = "`\(entry.keyword)`"
            if let other = aliases[Key(context: entry.context, keyword: entry.keyword)] {
                keyword += " (" + other.map { "`\($0)`" }.joined(separator: ", ") + ")"
            }
            let detail = entry.support.detail.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
            text += "| \(entry.context) | \(keyword) | \(entry.support.state) | \(detail) |\n"
        }
        return text
    }

    /// How many keywords have each state, for a summary line.
    public static func counts() -> [(state: String, count: Int)] {
        var counts = [String: Int]()
        var order = [String]()
        for entry in entries {
            if counts[entry.support.state] == nil { order.append(entry.support.state) }
            counts[entry.support.state, default: 0] += 1
        }
        return order.map { ($0, counts[$0]!) }
    }
}

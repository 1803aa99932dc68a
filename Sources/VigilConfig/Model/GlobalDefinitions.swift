/// `global_defs`: the settings that apply to the whole daemon. The common ones are typed; every other keyword
/// keepalived accepts is kept in `otherSettings`.
public struct GlobalDefinitions: Hashable, Sendable {
    public var routerID: String?
    public var notificationEmails: [String] = []
    public var notificationEmailFrom: String?
    public var smtpServer: SMTPServer?
    public var smtpHeloName: String?
    public var smtpConnectTimeout: Duration = .seconds(30)
    public var smtpAlert: Bool?
    public var smtpAlertVRRP: Bool?
    public var smtpAlertChecker: Bool?
    /// `no_email_faults`: no mail for FAULT transitions.
    public var noEmailFaults = false

    public var enableScriptSecurity = false
    public var scriptUser: String?
    public var scriptGroup: String?
    /// Run by the supervisor before the VRRP and checker processes start; they start when it ends (or is killed
    /// after `startupScriptTimeout`).
    public var startupScript: ScriptCommand?
    public var startupScriptTimeout: Duration = .seconds(10)
    /// Run by the supervisor once the processes have stopped; Vigil ends when it ends.
    public var shutdownScript: ScriptCommand?
    public var shutdownScriptTimeout: Duration = .seconds(10)

    public var vrrpVersion = 2
    public var vrrpStrict = false
    public var vrrpMulticastGroup4 = IPAddress.v4(0xe000_0012)
    public var vrrpMulticastGroup6 = IPAddress("ff02::12")!
    public var vrrpCheckUnicastSource = false
    public var vrrpSkipCheckAdvertAddresses = false
    public var vrrpStartupDelay: Duration = .zero
    public var vrrpGarp = GratuitousARPSettings()
    public var vrrpDownTimerAdverts = 3
    public var vrrpLowerPriorityNoAdvert = false
    /// `vrrp_higher_prio_send_advert`; unset means on in Vigil (off in keepalived): a master that hears a better
    /// one sends a last advert before it steps down, so that the winner of a split brain hears of it and refreshes
    /// ARP.
    public var vrrpHigherPrioritySendAdvert: Bool?
    public var vrrpNotifyPriorityChanges = false
    public var dynamicInterfaces = false
    /// `nftables [NAME]`, `nftables_priority`, `nftables_counters` (and `vrrp_iptables`, which Debian's keepalived
    /// also turns into nftables): the table that drops traffic to the addresses of `no_accept` masters.
    public var vrrpFirewall = FirewallSettings()
    /// `lvs_timeouts tcp N tcpfin N udp N` (seconds; 0 leaves one as it is).
    public var lvsTimeouts: (tcp: Int, tcpFin: Int, udp: Int)? {
        get { lvsTimeoutValues.map { ($0[0], $0[1], $0[2]) } }
        set { lvsTimeoutValues = newValue.map { [$0.tcp, $0.tcpFin, $0.udp] } }
    }
    public var lvsTimeoutValues: [Int]?
    /// `lvs_flush`: IPVS is emptied at start.
    public var lvsFlush = false
    /// `lvs_flush_on_stop [VS]`: on stop IPVS is emptied (without VS) or only the virtual servers removed.
    public var lvsFlushOnStop: LVSFlushOnStop = .none
    public enum LVSFlushOnStop: Hashable, Sendable { case none, full, virtualServers }
    /// `lvs_sync_daemon IFNAME [inst INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group ADDR]`.
    public var lvsSyncDaemon: LVSSyncDaemon?
    /// `vmac_prefix`: the start of VMAC interfaces' names (`vrrp.51`).
    public var vmacPrefix = "vrrp"
    /// `vrrp_garp_extra_if [all] SECS`: the default of every instance's `garp_extra_if`.
    public var garpExtraInterfaces: ExtraInterfaceAnnouncements?
    /// How the VRRP process is scheduled (`vrrp_priority`, `vrrp_rt_priority`, `vrrp_rlimit_rttime`,
    /// `vrrp_no_swap`).
    public var vrrpScheduling = ProcessScheduling()
    /// How the checker process is scheduled (`checker_priority`, `checker_rt_priority`, `checker_rlimit_rttime`,
    /// `checker_no_swap`, `checker_cpu_affinity`).
    public var checkerScheduling = ProcessScheduling()
    /// How the BFD process is scheduled (`bfd_priority`, `bfd_rt_priority`, `bfd_rlimit_rttime`, `bfd_no_swap`,
    /// `bfd_cpu_affinity`).
    public var bfdScheduling = ProcessScheduling()
    /// `checker_log_all_failures`: every checker logs every failure, not only its changes.
    public var checkerLogAllFailures = false
    /// `no_checker_emails`: mail only when a real server changes, not at every change of one of its checkers.
    public var noCheckerEmails = false
    /// `rs_init_notifies`: notify every real server's first state at start.
    public var realServerInitialNotifies = false
    public var defaultInterface = "eth0"

    public var notifyFIFO: FIFOSpec?
    public var notifyFIFOScript: ScriptCommand?
    public var vrrpNotifyFIFO: FIFOSpec?
    public var vrrpNotifyFIFOScript: ScriptCommand?
    public var lvsNotifyFIFO: FIFOSpec?
    public var lvsNotifyFIFOScript: ScriptCommand?

    /// Vigil's own keywords (keepalived has none of these).
    public var vigil = VigilSettings()

    public var otherSettings: [Setting] = []
    public var location: SourceLocation?

    public init() {}
}

/// Keywords of Vigil's own in `global_defs`, all named `vigil_*`.
public struct VigilSettings: Hashable, Sendable {
    /// `vigil_lb_backend ipvs|nftables`: which kernel load balancer the checker programs.
    public var loadBalancerBackend: LoadBalancerBackend?
    /// `vigil_metrics_listen ADDRESS:PORT`: serve Prometheus metrics there.
    public var metricsListen: String?
    /// `vigil_no_realtime`: run the VRRP loop at normal priority. By default Vigil gives it the lowest real-time
    /// priority (SCHED_RR 1), so that a busy machine does not delay adverts; keepalived does so only with
    /// `vrrp_rt_priority`.
    public var realtime = true

    public enum LoadBalancerBackend: String, Hashable, Sendable {
        case ipvs, nftables
    }

    public init() {}
}

/// A daemon process's scheduling, as keepalived's `*_priority`, `*_rt_priority`, `*_rlimit_rttime` and
/// `*_no_swap` set it.
public struct ProcessScheduling: Hashable, Sendable {
    /// Nice value, -20 to 19.
    public var nice: Int?
    /// SCHED_RR priority, 1 to 99.
    public var realtimePriority: Int?
    /// RLIMIT_RTTIME: CPU time without blocking, in microseconds, before the kernel stops a real-time runaway.
    public var realtimeLimitMicroseconds: Int?
    /// Lock all memory (mlockall), so that paging never delays the process.
    public var noSwap = false
    /// `*_cpu_affinity`: the CPUs the process may run on (empty: any).
    public var cpus: [Int] = []

    public init() {}
}

public struct SMTPServer: Hashable, Sendable {
    /// A numeric address or a host name.
    public var host: String
    public var port: UInt16 = 25
}

/// When and how often a new master announces its addresses.
public struct GratuitousARPSettings: Hashable, Sendable {
    /// Second burst after becoming master (`garp_master_delay`, 5 s; 0 = none).
    public var masterDelay: Duration = .seconds(5)
    /// Packets per address in each burst (`garp_master_repeat`, 5).
    public var masterRepeat = 5
    /// Periodic refresh while master (`garp_master_refresh`, 0 = off).
    public var masterRefresh: Duration = .zero
    /// Packets per address in each refresh (`garp_master_refresh_repeat`, 1).
    public var masterRefreshRepeat = 1
    /// After a lower-priority advert is heard (`garp_lower_prio_delay`, defaults to `masterDelay`).
    public var lowerPriorityDelay: Duration?
    /// (`garp_lower_prio_repeat`, defaults to `masterRepeat`).
    public var lowerPriorityRepeat: Int?
    /// Gap between gratuitous ARP packets (`vrrp_garp_interval`, 0).
    public var interval: Duration = .zero
    /// Gap between unsolicited neighbour advertisements (`vrrp_gna_interval`, 0).
    public var naInterval: Duration = .zero

    public init() {}
}

/// Where and how the VRRP firewall for `no_accept` is installed.
public struct FirewallSettings: Hashable, Sendable {
    /// The table's name (family `inet`): `nftables NAME`, else Vigil's own.
    public var table = "vigil_vrrp"
    /// The hooks' priority (`nftables_priority`, keepalived's default -1: before the usual filter chains).
    public var priority = -1
    /// `nftables_counters`: count what the rules drop.
    public var counters = false

    public init() {}
}

/// `garp_extra_if [all] SECS`: while master, one gratuitous ARP or neighbour advertisement every SECS on each other
/// interface holding the instance's addresses (with `all`; otherwise only its VMAC when adverts go out from the
/// base interface), so that switches keep those MACs where the master is.
public struct ExtraInterfaceAnnouncements: Hashable, Sendable {
    public var interval: Duration
    public var allInterfaces: Bool

    public init(interval: Duration, allInterfaces: Bool) {
        self.interval = interval
        self.allInterfaces = allInterfaces
    }
}

/// IPVS's connection synchronisation daemon, as `lvs_sync_daemon` configures it.
public struct LVSSyncDaemon: Hashable, Sendable {
    public var interface: String
    /// The VRRP instance whose state decides master or backup; without one both run, from the checker process.
    public var instance: String?
    /// The sync id (default: the instance's VRID, else 0).
    public var syncID: Int?
    public var maxLength: Int?
    public var port: Int?
    public var ttl: Int?
    public var group: IPAddress?
    public var location: SourceLocation

    public init(interface: String, location: SourceLocation) {
        self.interface = interface
        self.location = location
    }
}

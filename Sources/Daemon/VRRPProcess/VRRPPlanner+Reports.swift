import LinuxNet
import VRRP
import VigilConfig

/// What the VRRP process tells about itself: `vigil status`, keepalived's stats and data dumps, Prometheus
/// metrics. Pure functions of the planner's state.
extension VRRPPlanner {
    /// `vigil status`; `wallClock` is the current Unix time, for the transitions' times.
    func statusReport(now: MonotonicTime, wallClock: Int, pid: Int32) -> StatusReport {
        StatusReport(
            version: VigilVersion.number, pid: pid,
            instances: routers.map { state in
                let router = state.router
                let ago = state.lastTransition.map { Double((now - $0.time).microseconds) / 1e6 }
                return StatusReport.Instance(
                    name: state.name, interface: state.instance.interface ?? "",
                    family: state.family == .ipv4 ? "inet" : "inet6",
                    virtualRouterID: Int(router.settings.virtualRouterID), state: router.state.rawValue,
                    wantState: router.wantsMaster ? "MASTER" : "BACKUP",
                    effectivePriority: router.effectivePriority, configuredPriority: router.basePriority,
                    master: router.state == .master
                        ? source(for: state)?.description : router.masterAddress?.description,
                    masterPriority: router.state == .master ? router.effectivePriority : router.masterPriority,
                    virtualAddresses: state.instance.virtualAddresses.map { $0.prefix.description },
                    fault: router.state == .fault ? (state.individualFault ?? "sync group") : nil,
                    lastTransitionSecondsAgo: ago,
                    lastTransitionTime: ago.map { wallClock - Int($0) },
                    lastTransitionReason: state.lastTransition.map { "\($0.reason)" },
                    syncGroup: state.group,
                    trackers: state.trackedItems.map { item in
                        let value: String
                        switch item.value {
                        case .unknown: value = "unknown"
                        case .up(let up): value = up ? "up" : "down"
                        case .number(let number): value = String(number)
                        }
                        return (item.kind.rawValue, item.name, item.weight, value)
                    },
                    advertsSent: state.counters.advertisementsSent,
                    advertsReceived: state.counters.advertisementsReceived,
                    history: state.history.map { entry in
                        let ago = Double((now - entry.time).microseconds) / 1e6
                        return StatusReport.Transition(
                            secondsAgo: ago, unixTime: wallClock - Int(ago), from: entry.from.rawValue,
                            to: entry.to.rawValue, reason: "\(entry.reason)")
                    })
            })
    }

    /// SIGUSR2: keepalived's stats dump.
    var statsDump: String {
        var text = routers.map { $0.counters.statsDump(instance: $0.name) }.joined()
        text += "Vigil Receive Errors:\n  Unknown VRID: \(unknownVirtualRouters)\n  Malformed: \(malformedPackets)\n"
        return text
    }

    /// keepalived's STATS_CLEAR signal.
    mutating func clearStatistics() {
        for index in routers.indices { routers[index].counters = Counters() }
        unknownVirtualRouters = 0
        malformedPackets = 0
    }

    /// SIGUSR1: keepalived's data dump lines that exporters read.
    func dataDump(now: MonotonicTime) -> String {
        var text = "------< VRRP Topology >------\n"
        for state in routers {
            let router = state.router
            text += " VRRP Instance = \(state.name)\n"
            text += "   State = \(router.state)\n"
            text += "   Wantstate = \(router.wantsMaster ? "MASTER" : "BACKUP")\n"
            text += "   Interface = \(state.instance.interface ?? "")\n"
            text += "   Virtual Router ID = \(router.settings.virtualRouterID)\n"
            text += "   Priority = \(router.basePriority)\n"
            text += "   Effective priority = \(router.effectivePriority)\n"
            text += "   Advert interval = \(router.settings.advertisementInterval.seconds) sec\n"
            if let master = router.masterAddress { text += "   Master router = \(master)\n" }
            if let priority = router.masterPriority { text += "   Master priority = \(priority)\n" }
            if let transition = state.lastTransition {
                text += "   Last transition = \(transition.time) (\(transition.reason))\n"
            }
            text += "   Virtual IP = \(state.instance.virtualAddresses.count)\n"
            for address in state.instance.virtualAddresses { text += "     \(address.prefix)\n" }
        }
        return text
    }

    /// Prometheus metrics, with the community exporters' names; `droppedNotifications` from the notifier.
    func metricsPage(droppedNotifications: Int) -> MetricsPage {
        var page = MetricsPage()
        func labels(_ router: RouterState) -> [(String, String)] {
            [("iname", router.name), ("intf", router.instance.interface ?? ""), ("vrid", String(router.virtualRouterID))]
        }
        func perInstance(_ name: String, _ type: String, _ help: String, _ value: (RouterState) -> Int) {
            page.add(name, type, help, routers.map { (labels($0), String(value($0))) })
        }
        page.add("keepalived_up", "gauge", "Whether the VRRP process is up.", [([], "1")])
        // As the community exporter (mehdy/keepalived-exporter) reads keepalived's JSON: one series per virtual
        // address, `ip_address` as keepalived prints it (a prefix only when not a host prefix), `intf` the address's
        // device; an instance without addresses has one series with an empty `ip_address`.
        func perAddress(_ router: RouterState, _ addresses: [VirtualAddress], orEmpty: Bool) -> [([(String, String)], String)] {
            let state = String(router.router.state.keepalivedNumber)
            let base = router.vmacName ?? router.instance.interface ?? ""
            if addresses.isEmpty {
                return orEmpty ? [(labels(router) + [("ip_address", "")], state)] : []
            }
            return addresses.map { address in
                let full = address.prefix.address.family == .ipv4 ? 32 : 128
                let text = "\(address.prefix.address)" + (address.prefix.length == full ? "" : "/\(address.prefix.length)")
                let device = address.device ?? base
                return ([("iname", router.name), ("intf", device), ("vrid", String(router.virtualRouterID)), ("ip_address", text)], state)
            }
        }
        page.add(
            "keepalived_vrrp_state", "gauge", "State of each virtual address's instance: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 98 STOP.",
            routers.flatMap { perAddress($0, $0.instance.virtualAddresses, orEmpty: true) })
        page.add(
            "keepalived_vrrp_excluded_state", "gauge", "State of each excluded virtual address's instance.",
            routers.flatMap { perAddress($0, $0.instance.excludedVirtualAddresses, orEmpty: false) })
        perInstance("keepalived_gratuitous_arp_delay_total", "counter", "garp_master_delay in seconds (as keepalived reports it).") {
            Int($0.instance.garp.masterDelay.components.seconds)
        }
        perInstance("keepalived_advertisements_received_total", "counter", "Adverts received and accepted.") {
            $0.counters.advertisementsReceived
        }
        perInstance("keepalived_advertisements_sent_total", "counter", "Adverts sent.") {
            $0.counters.advertisementsSent
        }
        perInstance("keepalived_become_master_total", "counter", "Transitions to MASTER.") { $0.counters.becameMaster }
        perInstance("keepalived_release_master_total", "counter", "Transitions out of MASTER.") {
            $0.counters.releasedMaster
        }
        perInstance("keepalived_packet_length_errors_total", "counter", "Adverts of a wrong length.") {
            $0.counters[.packetLength]
        }
        perInstance("keepalived_ip_ttl_errors_total", "counter", "Adverts with a wrong TTL or hop limit.") {
            $0.counters[.ttl]
        }
        perInstance("keepalived_invalid_type_received_total", "counter", "Packets that are not adverts.") {
            $0.counters[.invalidType]
        }
        perInstance("keepalived_advertisements_interval_errors_total", "counter", "Adverts with another interval.") {
            $0.counters[.advertisementInterval]
        }
        perInstance("keepalived_address_list_errors_total", "counter", "Adverts listing other addresses.") {
            $0.counters[.addressList] + $0.counters.addressListMismatches
        }
        perInstance("keepalived_authentication_invalid_total", "counter", "Adverts with an unknown auth type.") {
            $0.counters[.invalidAuthenticationType]
        }
        perInstance("keepalived_authentication_mismatch_total", "counter", "Adverts with another auth type.") {
            $0.counters[.authenticationTypeMismatch]
        }
        perInstance("keepalived_authentication_failure_total", "counter", "Adverts failing authentication.") {
            $0.counters[.authenticationFailure]
        }
        perInstance("keepalived_priority_zero_received_total", "counter", "Priority-0 adverts received.") {
            $0.counters.priorityZeroReceived
        }
        perInstance("keepalived_priority_zero_sent_total", "counter", "Priority-0 adverts sent.") {
            $0.counters.priorityZeroSent
        }
        page.add(
            "keepalived_script_status", "gauge", "vrrp_script status: 0 failed, 1 good (unknown scripts are left out).",
            scripts.keys.sorted().compactMap { name in
                switch scripts[name]!.health.status {
                case .good: ([("name", name)], "1")
                case .failed: ([("name", name)], "0")
                case .unknown: nil
                }
            })
        page.add(
            "keepalived_script_state", "gauge", "vrrp_script state: 0 idle, 1 running.",
            scripts.keys.sorted().map { name in ([("name", name)], scripts[name]!.running ? "1" : "0") })
        perInstance("vigil_vrrp_effective_priority", "gauge", "The priority in use, trackers applied.") {
            $0.router.effectivePriority
        }
        perInstance("vigil_vrrp_configured_priority", "gauge", "The configured priority.") { $0.router.basePriority }
        perInstance("vigil_checksum_errors_total", "counter", "Adverts with a bad checksum.") { $0.counters[.checksum] }
        perInstance("vigil_version_errors_total", "counter", "Adverts of another VRRP version.") {
            $0.counters[.version]
        }
        perInstance("vigil_unknown_peer_total", "counter", "Unicast adverts from an address that is not a peer.") {
            $0.counters[.unknownPeer]
        }
        page.add(
            "vigil_unknown_vrid_total", "counter", "Adverts for no router of ours.",
            [([], String(unknownVirtualRouters))])
        page.add(
            "vigil_malformed_packets_total", "counter", "Packets too broken to read.", [([], String(malformedPackets))])
        page.add(
            "vigil_notifications_dropped_total", "counter", "Notifications dropped because their queue was full.",
            [([], String(droppedNotifications))])
        return page
    }
}

import Glibc
import LinuxNet
import Logging
import VigilConfig

/// What the checker process takes from the host: its scheduling (`checker_*` in `global_defs`), and, for
/// `ha_suspend`, the addresses the host holds, followed through netlink.
extension CheckerService {
    /// `checker_priority`, `checker_rt_priority`, `checker_rlimit_rttime`, `checker_no_swap`, `checker_cpu_affinity`.
    func applyScheduling() {
        planner.configuration.global.checkerScheduling.apply(keywordPrefix: "checker", logger: logger)
    }

    /// Opens the address monitor when a virtual server has `ha_suspend` (at start, or when a reload brings one),
    /// and returns the host's addresses, counted per interface; nil when nothing needs them or they cannot be read.
    func followAddresses() -> [IPAddress: Int]? {
        guard planner.followsAddresses else { return nil }
        if addressMonitor == nil {
            do {
                let monitor = try NetlinkSocket(
                    groups: NetlinkSocket.ipv4AddressGroup | NetlinkSocket.ipv6AddressGroup, nonBlocking: true)
                try loop.add(monitor.descriptor.rawValue, label: "address monitor") { [unowned self] in
                    addressMonitorReadable()
                }
                addressMonitor = monitor
            } catch {
                logger.error("ha_suspend: cannot follow the host's addresses (\(error)); checks are not suspended")
                return nil
            }
        }
        return readAddresses()
    }

    /// Every address of the host, from a dump.
    func readAddresses() -> [IPAddress: Int]? {
        do {
            let events = try NetlinkSocket().dump(links: false)
            var counts = [IPAddress: Int]()
            for case .address(let address, false) in events { counts[address.prefix.address, default: 0] += 1 }
            return counts
        } catch {
            logger.error("ha_suspend: cannot read the host's addresses: \(error)")
            return nil
        }
    }

    func addressMonitorReadable() {
        guard let monitor = addressMonitor else { return }
        var counts = planner.localAddresses ?? [:]
        var changed = false
        while true {
            let events: [NetlinkMessage.Event]
            do {
                events = try monitor.receive()
            } catch {
                if error.errno == ENOBUFS, let all = readAddresses() {
                    // Events were lost: the whole picture again.
                    counts = all
                    changed = true
                    continue
                }
                break
            }
            if events.isEmpty { break }
            for case .address(let address, let removed) in events {
                counts[address.prefix.address, default: 0] += removed ? -1 : 1
                if counts[address.prefix.address, default: 0] <= 0 { counts[address.prefix.address] = nil }
                changed = true
            }
        }
        if changed { perform(planner.addressesChanged(counts)) }
    }
}

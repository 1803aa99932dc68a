import LinuxNet
import VRRP
import VigilConfig

/// Gratuitous ARPs and unsolicited neighbour advertisements: which frames, on which interface, and when. Frames are
/// paced per base interface (the parent of a VMAC), or per `garp_group` (its interfaces counting as one), by the
/// group's `garp_interval`/`gna_interval`, else the global `vrrp_garp_interval`/`vrrp_gna_interval`: each frame goes
/// no sooner than the interval after the one before it there, whichever instance sent it (keepalived's rule).
extension VRRPPlanner {
    /// What announcements are paced by: a garp_group, or a base interface; and the family.
    struct PaceKey: Hashable, Sendable {
        var group: Int?
        var interface: Int32
        var family: IPAddress.Family
    }

    /// The pacing key and interval for an announcement on `link`, if it is paced.
    func pacing(_ link: Link, family: IPAddress.Family, _ router: RouterState) -> (PaceKey, Duration)? {
        let base = link.kind == "macvlan" ? (link.parentIndex ?? link.index) : link.index
        let baseName = table.link(index: base)?.name ?? link.name
        if let group = configuration.garpGroups.firstIndex(where: { $0.interfaces.contains(baseName) }) {
            let settings = configuration.garpGroups[group]
            guard let interval = family == .ipv4 ? settings.arpInterval : settings.naInterval, interval > .zero else {
                return nil
            }
            return (PaceKey(group: group, interface: 0, family: family), interval)
        }
        let garp = router.router.settings.garp
        let interval = family == .ipv4 ? garp.interval : garp.naInterval
        guard interval > .zero else { return nil }
        return (PaceKey(group: nil, interface: base, family: family), interval)
    }

    /// A frame for `address` on its link, and when it may go.
    mutating func frame(_ address: InterfaceAddress, _ router: RouterState, now: MonotonicTime) -> Announcement.Frame? {
        guard let link = table.link(index: address.index), link.hardwareAddress.count == 6,
            link.flags & 0x80 == 0  // IFF_NOARP: nothing to announce there
        else { return nil }
        let family = address.prefix.address.family
        let bytes =
            family == .ipv4
            ? AnnouncementFrame.gratuitousARP(from: link.hardwareAddress, address: address.prefix.address)
            : AnnouncementFrame.unsolicitedNeighborAdvertisement(
                from: link.hardwareAddress, address: address.prefix.address,
                router: table.forwarding[link.index] ?? false)
        var at = now
        if let (key, interval) = pacing(link, family: family, router) {
            at = max(now, announcementPace[key] ?? now)
            announcementPace[key] = at + interval
        }
        return Announcement.Frame(bytes: bytes, interfaceIndex: link.index, family: family, at: at)
    }

    /// Every address (or those in `only`), `rounds` times.
    mutating func announcement(
        _ index: Int, rounds: Int, only: Set<IPAddress>? = nil, now: MonotonicTime
    ) -> Announcement? {
        let router = routers[index]
        let addresses = router.interfaceAddresses(resolve: resolve, tag: 0).filter {
            only?.contains($0.prefix.address) ?? true
        }
        var frames = [Announcement.Frame]()
        for _ in 0..<rounds {
            for address in addresses {
                if let frame = frame(address, router, now: now) { frames.append(frame) }
            }
        }
        return frames.isEmpty ? nil : Announcement(router: router.name, frames: frames)
    }

    /// The interfaces `garp_extra_if` refreshes: those holding the router's addresses other than its own interface,
    /// with `all`; its VMAC only when adverts go out from the base (they then no longer carry the VMAC's MAC).
    func extraAnnouncementAddresses(_ router: RouterState) -> [InterfaceAddress] {
        guard let extra = router.instance.garpExtraInterfaces else { return [] }
        var seen = Set<Int32>()
        var chosen = [InterfaceAddress]()
        for address in router.interfaceAddresses(resolve: resolve, tag: 0) where !seen.contains(address.index) {
            let index = address.index
            if index == router.interfaceIndex { continue }
            if index == router.vmacIndex {
                guard router.instance.useVMAC?.transmitFromBase == true else { continue }
            } else if !extra.allInterfaces {
                continue
            }
            seen.insert(index)
            chosen.append(address)
        }
        return chosen
    }

    /// `garp_extra_if`'s timer: one frame per chosen interface, then again after the interval, while MASTER.
    mutating func extraAnnouncement(_ index: Int, now: MonotonicTime) -> [Action] {
        let router = routers[index]
        guard router.router.state == .master, let extra = router.instance.garpExtraInterfaces else { return [] }
        var actions = [Action]()
        let frames = extraAnnouncementAddresses(router).compactMap { frame($0, router, now: now) }
        if !frames.isEmpty { actions.append(.announce(Announcement(router: router.name, frames: frames))) }
        actions.append(.arm(.extraAnnouncement(router.id), at: now + extra.interval))
        return actions
    }
}

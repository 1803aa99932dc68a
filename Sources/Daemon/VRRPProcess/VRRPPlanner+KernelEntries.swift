import LinuxNet
import VRRP
import VigilConfig

/// Addresses, routes and rules the VRRP process puts into the kernel: a router's virtual ones while it is MASTER
/// (`virtual_ipaddress`, `virtual_ipaddress_excluded`, `virtual_routes`, `virtual_rules`), and the static ones for
/// as long as the process runs (`static_ipaddress`, `static_routes`, `static_rules`). Each is removed exactly as it
/// was added, and only if Vigil added it; a reload moves only what changed.
extension VRRPPlanner {
    /// Who an entry is added or removed for.
    enum Owner: Hashable, Sendable {
        case router(RouterID)
        case staticEntries
        /// What an earlier run left behind (a crash): removed at start.
        case leftover
    }

    // MARK: - What is wanted

    /// A router's entries in the order they are added (addresses, then routes, then rules, as keepalived), and a
    /// line for each that cannot be added because an interface it names does not exist.
    func virtualEntries(_ index: Int) -> (entries: [KernelEntry], missing: [String]) {
        let router = routers[index]
        var entries = router.interfaceAddresses(resolve: resolve, tag: Self.addressProtocol).map(KernelEntry.address)
        var missing = [String]()
        for route in router.instance.virtualRoutes {
            if let kernel = KernelRoute(route, resolve: resolve) {
                entries.append(.route(kernel))
            } else {
                missing.append("(\(router.name)) cannot add the route to \(route.destinationText): \(missingDevice(route.devices)) does not exist")
            }
        }
        entries += router.instance.virtualRules.map { .rule(KernelRule($0)) }
        return (entries, missing)
    }

    /// The static entries, in adding order, and a line for each whose interface does not exist.
    func staticEntries() -> (entries: [KernelEntry], missing: [String]) {
        var entries = [KernelEntry]()
        var missing = [String]()
        for address in configuration.staticAddresses {
            let device = address.device ?? configuration.global.defaultInterface
            if let index = resolve(device) {
                entries.append(.address(RouterState.interfaceAddress(address, index: index, tag: Self.addressProtocol)))
            } else {
                missing.append("cannot add the static address \(address.prefix): interface \(device) does not exist")
            }
        }
        for route in configuration.staticRoutes {
            if let kernel = KernelRoute(route, resolve: resolve) {
                entries.append(.route(kernel))
            } else {
                missing.append("cannot add the static route to \(route.destinationText): \(missingDevice(route.devices)) does not exist")
            }
        }
        entries += configuration.staticRules.map { .rule(KernelRule($0)) }
        return (entries, missing)
    }

    func missingDevice(_ names: [String]) -> String {
        "interface " + (names.first { resolve($0) == nil } ?? names.joined(separator: ", "))
    }

    /// Whether an entry uses an interface (a link coming up brings back what the kernel dropped with it).
    static func entry(_ entry: KernelEntry, uses index: Int32) -> Bool {
        switch entry {
        case .address(let address): address.index == index
        case .route(let route): route.interfaceIndex == index || route.nextHopIndices.contains(index)
        case .rule: false
        }
    }

    /// What makes two entries "the same" across a reload: an address by interface and prefix (a changed label
    /// does not take it away), a route or a rule by everything the kernel is told.
    static func sameEntry(_ a: KernelEntry, _ b: KernelEntry) -> Bool {
        switch (a, b) {
        case (.address(let x), .address(let y)): x.index == y.index && x.prefix == y.prefix
        default: a == b
        }
    }

    // MARK: - Start, stop, links

    /// At start: what an earlier Vigil left (addresses it tagged, and the configured virtual routes and rules,
    /// which carry keepalived's protocol) is removed, except static addresses, which are kept as they are.
    mutating func removeLeftovers() -> [Action] {
        var wantedStatic = staticEntries().entries
        var leftovers = [KernelEntry]()
        for address in table.addresses(taggedWith: Self.addressProtocol) {
            if let kept = wantedStatic.firstIndex(where: { Self.sameEntry($0, .address(address)) }) {
                staticOwned.append(wantedStatic.remove(at: kept))
            } else {
                leftovers.append(.address(address))
            }
        }
        for index in routers.indices {
            leftovers += virtualEntries(index).entries.filter { if case .address = $0 { false } else { true } }
        }
        return Self.inRemovalOrder(leftovers).map { .change(.leftover, $0, add: false) }
    }

    /// Adds the static entries not in the kernel yet (at start, after a reload, when an interface appears); with
    /// `link`, also re-adds those on that link (the kernel drops routes, and IPv6 addresses, with a link that
    /// goes down).
    mutating func installStatic(link: Int32? = nil, reportMissing: Bool) -> [Action] {
        let (entries, missing) = staticEntries()
        var actions = reportMissing ? missing.map { Action.log(.error, $0) } : []
        for entry in entries {
            let owned = staticOwned.contains { Self.sameEntry($0, entry) }
            if !owned || link.map({ Self.entry(entry, uses: $0) }) == true {
                actions.append(.change(.staticEntries, entry, add: true))
            }
        }
        return actions
    }

    /// At stop (also with `-V`, as keepalived): every static entry goes.
    mutating func removeStatic() -> [Action] {
        let actions = Self.inRemovalOrder(staticOwned).map { Action.change(.staticEntries, $0, add: false) }
        staticOwned.removeAll()
        return actions
    }

    /// After a reload: static entries no longer configured go, new ones come.
    mutating func reloadStatic() -> [Action] {
        let wanted = staticEntries().entries
        let leaving = staticOwned.filter { owned in !wanted.contains { Self.sameEntry($0, owned) } }
        staticOwned.removeAll { owned in !wanted.contains { Self.sameEntry($0, owned) } }
        var actions = Self.inRemovalOrder(leaving).map { Action.change(.staticEntries, $0, add: false) }
        actions += installStatic(reportMissing: true)
        return actions
    }

    /// Rules, then routes, then addresses; otherwise in the order given.
    static func inRemovalOrder(_ entries: [KernelEntry]) -> [KernelEntry] {
        entries.enumerated().sorted { ($0.element.removalRank, $0.offset) < ($1.element.removalRank, $1.offset) }
            .map(\.element)
    }

    // MARK: - A router's entries

    /// Becoming MASTER: addresses, routes, rules.
    mutating func addVirtualEntries(_ index: Int) -> [Action] {
        let (entries, missing) = virtualEntries(index)
        let id = routers[index].id
        return missing.map { .log(.error, $0) } + entries.map { .change(.router(id), $0, add: true) }
    }

    /// Leaving MASTER: rules, routes, then the addresses (with `-X` also the configured addresses Vigil did not
    /// add).
    mutating func removeVirtualEntries(_ index: Int) -> [Action] {
        if options.releaseEveryAddress {
            for address in routers[index].interfaceAddresses(resolve: resolve, tag: 0)
            where !routers[index].owned.contains(where: { Self.sameEntry($0, .address(address)) }) {
                routers[index].owned.append(.address(address))
            }
        }
        let id = routers[index].id
        let actions = Self.inRemovalOrder(routers[index].owned).map { Action.change(.router(id), $0, add: false) }
        routers[index].owned.removeAll()
        return actions
    }

    /// A reload while MASTER: entries no longer configured go, new ones come (new addresses are announced), the
    /// rest stay exactly where they are.
    mutating func virtualDifference(_ index: Int, now: MonotonicTime) -> [Action] {
        let wanted = virtualEntries(index).entries
        let id = routers[index].id
        let leaving = routers[index].owned.filter { owned in !wanted.contains { Self.sameEntry($0, owned) } }
        routers[index].owned.removeAll { owned in !wanted.contains { Self.sameEntry($0, owned) } }
        var actions = Self.inRemovalOrder(leaving).map { Action.change(.router(id), $0, add: false) }
        let arriving = wanted.filter { entry in !routers[index].owned.contains { Self.sameEntry($0, entry) } }
        actions += arriving.map { .change(.router(id), $0, add: true) }
        let arrivingAddresses = arriving.compactMap { entry -> IPAddress? in
            if case .address(let address) = entry { address.prefix.address } else { nil }
        }
        if !arrivingAddresses.isEmpty,
            let announcement = announcement(
                index, rounds: routers[index].router.settings.garp.masterRepeat, only: Set(arrivingAddresses), now: now)
        {
            actions.append(.announce(announcement))
        }
        return actions
    }

    // MARK: - The kernel's answers

    /// The kernel's answer to an add or a removal. An address already there when first added (EEXIST) belongs to
    /// someone else: used, never removed. A route or rule already there carries keepalived's protocol (the kernel
    /// compares it), so it is taken as Vigil's, as keepalived takes it. Removing what is already gone is no failure.
    mutating func changed(_ owner: Owner, _ entry: KernelEntry, add: Bool, errno: Int32, message: String?) -> [Action] {
        let who: String
        switch owner {
        case .router(let id): who = router(id).map { "(\($0.name)) " } ?? ""
        case .staticEntries: who = "static "
        case .leftover: who = ""
        }
        let place = entryPlace(entry)
        let reason = message ?? "error \(errno)"
        if add {
            let alreadyOwned = owns(owner, entry)
            switch errno {
            case 0:
                own(owner, entry)
                return []
            case Self.EEXIST:
                if case .address(let address) = entry, !alreadyOwned {
                    return [.log(.warning, "\(who)\(address.prefix) is already on \(place); leaving it to its owner")]
                }
                own(owner, entry)
                return []
            default:
                return [.log(.error, "\(who)cannot add \(entry)\(place.isEmpty ? "" : " on \(place)"): \(reason)")]
            }
        }
        switch errno {
        case 0:
            return owner == .leftover ? [.log(.info, "removed \(entry) left by an earlier Vigil\(place.isEmpty ? "" : " on \(place)")")] : []
        case Self.EADDRNOTAVAIL, Self.ENODEV, Self.ESRCH, Self.ENOENT:
            // Already gone, or gone with its interface.
            return []
        default:
            return [.log(.error, "\(who)cannot remove \(entry)\(place.isEmpty ? "" : " from \(place)"): \(reason)")]
        }
    }

    static let ESRCH: Int32 = 3
    static let ENOENT: Int32 = 2

    func entryPlace(_ entry: KernelEntry) -> String {
        let index: Int32?
        switch entry {
        case .address(let address): index = address.index
        case .route(let route): index = route.interfaceIndex
        case .rule: index = nil
        }
        return index.map { table.link(index: $0)?.name ?? "interface \($0)" } ?? ""
    }

    func owns(_ owner: Owner, _ entry: KernelEntry) -> Bool {
        switch owner {
        case .router(let id): router(id)?.owned.contains { Self.sameEntry($0, entry) } ?? false
        case .staticEntries: staticOwned.contains { Self.sameEntry($0, entry) }
        case .leftover: false
        }
    }

    mutating func own(_ owner: Owner, _ entry: KernelEntry) {
        guard !owns(owner, entry) else { return }
        switch owner {
        case .router(let id): if let index = index(of: id) { routers[index].owned.append(entry) }
        case .staticEntries: staticOwned.append(entry)
        case .leftover: break
        }
    }
}

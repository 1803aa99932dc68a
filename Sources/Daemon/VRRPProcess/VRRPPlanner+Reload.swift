import LinuxNet
import VRRP
import VigilConfig

/// SIGHUP: the file is read again off the loop (a large file must not delay an advert), then applied here. A file
/// with errors changes nothing.
extension VRRPPlanner {
    mutating func reloadRequested() -> [Action] {
        guard !stopping else { return [] }
        guard !reloading else { return [.log(.warning, "reload requested while one is in progress; ignored")] }
        reloading = true
        return [
            .systemd("RELOADING=1"),
            .log(.info, "Reloading the configuration"),
            .loadConfiguration,
        ]
    }

    /// The executor cannot read the file again (no path to it).
    mutating func reloadUnavailable() -> [Action] {
        reloading = false
        return [.log(.warning, "reload requested, but this process cannot read its configuration again")]
    }

    /// The new file, read. Errors refuse it (script security is tolerated, as at start-up: keepalived's SECURITY
    /// VIOLATION does not stop it either); otherwise the running routers move to it.
    mutating func configurationLoaded(_ result: ConfigLoader.Result, now: MonotonicTime) -> [Action] {
        reloading = false
        guard !stopping else { return [] }
        let blocking = result.reloadBlockers
        guard blocking.isEmpty else {
            var actions = result.diagnostics.filter { $0.severity >= .warning }.map {
                Action.log(.error, "reload: \($0.location): \($0.message)")
            }
            actions.append(
                .log(
                    .error,
                    "Reload refused: the new configuration has \(blocking.count) error\(blocking.count == 1 ? "" : "s"); still running the previous one"
                ))
            actions.append(.systemd("READY=1\nSTATUS=reload refused: \(blocking.count) errors in the new configuration"))
            return actions
        }
        var actions = apply(result.configuration, now: now)
        actions.append(.systemd("READY=1\nSTATUS=\(statusLine)"))
        return actions
    }

    /// Moves the running routers to `new`: matched instances keep their state and every address that is still
    /// configured; removed instances resign (priority 0) and give their addresses up; new ones start.
    mutating func apply(_ new: Configuration, now: MonotonicTime) -> [Action] {
        let old = configuration
        configuration = new
        var actions = [Action]()
        var unmatched = new.instances
        configuration.instances = []
        var removed = [Int]()
        var kept = 0
        for index in routers.indices {
            if let match = unmatched.firstIndex(where: { InstanceIdentity($0) == routers[index].identity }) {
                actions += reconfigure(index, to: unmatched.remove(at: match), now: now)
                kept += 1
            } else {
                removed.append(index)
            }
        }
        for index in removed { actions += retire(index, now: now) }
        let removedIDs = Set(removed.map { routers[$0].id })
        routers.removeAll { removedIDs.contains($0.id) }
        let firstNew = routers.count
        routers.reserveCapacity(routers.count + unmatched.count)
        for instance in unmatched { addRouter(instance) }
        virtualAddresses = Self.allVirtualAddresses(new)
        primaryAddresses.removeAll()
        for index in firstNew..<routers.count { actions += attach(index) }
        actions += reloadStatic()
        if firewall != nil || AcceptModeFirewall(new) != nil { actions += firewallActions(for: new, previous: firewall) }
        if old.global != new.global { actions.append(.replaceNotifier(new.global)) }
        actions += rebuildTracking(previous: old, now: now)
        for index in firstNew..<routers.count where !waitsForScripts(routers[index]) {
            actions += startRouter(index, now: now)
        }
        let added = routers.count - firstNew
        actions.append(
            .log(
                .info,
                "Reloaded: \(kept) instance\(kept == 1 ? "" : "s") kept, \(added) added, \(removed.count) removed"))
        return actions
    }

    /// A matched instance: new settings, and while MASTER exactly the addresses, routes and rules that changed
    /// move (the kept ones never leave; new addresses are announced).
    mutating func reconfigure(_ index: Int, to instance: VRRPInstance, now: MonotonicTime) -> [Action] {
        let usedAuthenticationHeader = routers[index].usesAuthenticationHeader
        let routerActions = routers[index].reconfigure(instance, global: configuration.global, now: now)
        var actions = run(routerActions, index, now: now)
        if routers[index].usesAuthenticationHeader && !usedAuthenticationHeader { actions += attach(index) }
        guard routers[index].router.state == .master else { return actions }
        actions += virtualDifference(index, now: now)
        return actions
    }

    /// A removed instance: a master resigns with priority 0 and gives its addresses up; it leaves its sockets.
    mutating func retire(_ index: Int, now: MonotonicTime) -> [Action] {
        routers[index].retiring = true
        var actions = run(routers[index].router.stop(now: now), index, now: now)
        actions += removeVirtualMAC(index)
        actions += detach(routers[index].id)
        return actions
    }

    /// Scripts whose definition did not change keep running with their rise/fall state; the others start over.
    /// Sync groups and every router's tracked items are built again.
    mutating func rebuildTracking(previous: Configuration, now: MonotonicTime) -> [Action] {
        var actions = [Action]()
        let oldScripts = Dictionary(previous.vrrpScripts.map { ($0.name, $0) }) { first, _ in first }
        let newScripts = Dictionary(configuration.vrrpScripts.map { ($0.name, $0) }) { first, _ in first }
        func retireScript(_ name: String) {
            guard let state = scripts.removeValue(forKey: name) else { return }
            actions.append(.cancel(.scriptRun(name)))
            actions.append(.cancel(.scriptTimeout(name)))
            if state.running { actions.append(.killScript(ScriptRun(name: name, generation: state.generation))) }
        }
        for name in scripts.keys.sorted() where newScripts[name] == nil || newScripts[name] != oldScripts[name] {
            retireScript(name)
        }
        let groupStates = Dictionary(groups.map { ($0.config.members.map(\.text), $0.state) }) { first, _ in first }
        actions += buildTracking()
        let tracked = Set(routers.flatMap { $0.trackedItems.filter { $0.kind == .script }.map(\.name) })
        for name in scripts.keys.sorted() where !tracked.contains(name) { retireScript(name) }
        // A group with the same members carries its state over.
        for index in groups.indices {
            if let state = groupStates[groups[index].config.members.map(\.text)] { groups[index].state = state }
        }
        // New (and changed) scripts start; unchanged ones keep their schedule.
        for name in scripts.keys.sorted() where scripts[name]?.everStarted == false {
            actions += runScript(name, now: now)
        }
        actions += pollingActions()
        actions += bfdFollowing()
        actions += linkbeatActions()
        actions += refreshTrackers(now: now)
        return actions
    }
}

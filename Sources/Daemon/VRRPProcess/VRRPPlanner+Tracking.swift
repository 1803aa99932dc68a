import LinuxNet
import VRRP
import VigilConfig

/// Tracking: scripts (run by the executor, their results counted here with rise and fall), tracked interfaces,
/// files and processes, the priority and faults they make, and sync groups.
extension VRRPPlanner {
    // MARK: - Setting up

    /// Sync groups, every router's tracked items, and the scripts in use: started, with a grace timer for routers
    /// that wait for their scripts' first results.
    mutating func setUpTracking(now: MonotonicTime) -> [Action] {
        var actions = buildTracking()
        for name in scripts.keys.sorted() { actions += runScript(name, now: now) }
        actions += pollingActions()
        actions += bfdFollowing()
        actions += linkbeatActions()
        // Routers waiting for their scripts start anyway once every script has had its time.
        let longest = scripts.values.map { $0.script.effectiveTimeout }.max() ?? .zero
        actions.append(.arm(.scriptsGrace, at: now + longest + .seconds(1)))
        actions += refreshTrackers(now: now)
        return actions
    }

    /// linkbeat: `linkbeat_interfaces`, plus with the top-level `linkbeat_use_polling` every interface an instance
    /// uses, plus an instance's own with its (deprecated) `linkbeat_use_polling`; VMACs excepted (netlink works for
    /// them, as keepalived says).
    mutating func linkbeatActions() -> [Action] {
        var names = configuration.linkbeatInterfaces
        for router in routers where configuration.linkbeatAll || router.instance.linkbeatUsePolling {
            names += [router.instance.interface].compactMap { $0 }
            if configuration.linkbeatAll { names += router.instance.trackInterfaces.map(\.name) }
        }
        let vmacs = Set(routers.compactMap(\.vmacName))
        var unique = [String]()
        for name in names where !vmacs.contains(name) && !unique.contains(name) { unique.append(name) }
        guard unique != linkbeat else { return [] }
        linkbeat = unique
        return [.pollLinks(unique)]
    }

    /// What the carrier reading found: a link whose polled state differs from what netlink said is taken as
    /// polled (keepalived's "Linkbeat reports IF up/down").
    mutating func linkbeatRead(_ states: [String: Bool], now: MonotonicTime) -> [Action] {
        guard !stopping else { return [] }
        var events = [NetlinkMessage.Event]()
        var actions = [Action]()
        for (name, up) in states.sorted(by: { $0.key < $1.key }) {
            guard var link = table.link(named: name), link.isUp != up else { continue }
            link.flags = up ? link.flags | 0x41 : link.flags & ~UInt32(0x41)
            events.append(.link(link, removed: false))
            actions.append(.log(.info, "Linkbeat reports \(name) \(up ? "up" : "down")"))
        }
        guard !events.isEmpty else { return [] }
        return actions + interfacesChanged(events, forwarding: [:], now: now)
    }

    /// What to read every second: the tracked files and processes some router tracks.
    mutating func pollingActions() -> [Action] {
        let tracked = Set(routers.flatMap { $0.trackedItems.filter { $0.kind == .file || $0.kind == .process }.map { "\($0.kind):\($0.name)" } })
        let files = configuration.trackFiles.filter { tracked.contains("file:\($0.name)") }
        let processes = configuration.trackProcesses.filter { tracked.contains("process:\($0.name)") }
        let key = files.map { "file:\($0.name):\($0.path ?? "")" } + processes.map { "process:\($0.name)" }
        guard key != polling else { return [] }
        polling = key
        return [.poll(files: files, processes: processes)]
    }

    /// Sync groups, every router's tracked items, and a state for every script in use (not started). Scripts
    /// already known keep their state.
    mutating func buildTracking() -> [Action] {
        let scriptsByName = Dictionary(configuration.vrrpScripts.map { ($0.name, $0) }) { first, _ in first }
        let filesByName = Dictionary(configuration.trackFiles.map { ($0.name, $0) }) { first, _ in first }
        let processesByName = Dictionary(configuration.trackProcesses.map { ($0.name, $0) }) { first, _ in first }
        let bfdsByName = Dictionary(configuration.bfdInstances.map { ($0.name, $0) }) { first, _ in first }
        groups = []
        for index in routers.indices { routers[index].group = nil }
        for config in configuration.syncGroups {
            let members = routers.filter { router in config.members.contains { $0.text == router.name } }.map(\.id)
            groups.append(
                GroupState(
                    config: config, state: SyncGroupState(name: config.name, members: config.members.map(\.text)),
                    members: members))
            for id in members { if let index = index(of: id) { routers[index].group = config.name } }
        }
        for index in routers.indices {
            var items = [TrackedItem]()
            // A sync group's trackers apply to every member; without sync_group_tracking_weight their weights
            // are ignored (failure means FAULT), as in keepalived.
            let groupConfig = routers[index].group.flatMap { name in groups.first { $0.config.name == name }?.config }
            let weighted = groupConfig?.trackingWeight ?? true
            func add(_ references: [TrackedReference], kind: TrackedItem.Kind, fromGroup: Bool) {
                for reference in references {
                    var weight = reference.weight
                    var reverse = reference.reverse
                    switch kind {
                    case .script:
                        guard let script = scriptsByName[reference.name] else { continue }
                        weight = weight ?? script.weight
                        reverse = reverse ?? script.reverse
                        if scripts[reference.name] == nil {
                            scriptGeneration += 1
                            scripts[reference.name] = ScriptState(
                                script: script,
                                health: ScriptHealth(rise: script.rise, fall: script.fall, initFail: script.initFail),
                                generation: scriptGeneration)
                        }
                    case .file:
                        guard let file = filesByName[reference.name] else { continue }
                        weight = weight ?? file.weight
                        reverse = reverse ?? file.reverse
                    case .process:
                        guard let process = processesByName[reference.name] else { continue }
                        weight = weight ?? process.weight
                        reverse = reverse ?? process.reverse
                    case .bfd:
                        guard let bfd = bfdsByName[reference.name] else { continue }
                        weight = weight ?? bfd.weight
                        reverse = reverse ?? bfd.reverse
                    case .interface:
                        break
                    }
                    items.append(
                        TrackedItem(
                            kind: kind, name: reference.name, weight: fromGroup && !weighted ? 0 : weight ?? 0,
                            reverse: reverse ?? false))
                }
            }
            func interfaces(_ list: [TrackedInterface], fromGroup: Bool) {
                for tracked in list {
                    items.append(
                        TrackedItem(
                            kind: .interface, name: tracked.name, weight: fromGroup && !weighted ? 0 : tracked.weight,
                            reverse: tracked.reverse))
                }
            }
            let instance = routers[index].instance
            add(instance.trackScripts, kind: .script, fromGroup: false)
            add(instance.trackFiles, kind: .file, fromGroup: false)
            add(instance.trackProcesses, kind: .process, fromGroup: false)
            add(instance.trackBFDs, kind: .bfd, fromGroup: false)
            interfaces(instance.trackInterfaces, fromGroup: false)
            if let groupConfig {
                add(groupConfig.trackScripts, kind: .script, fromGroup: true)
                add(groupConfig.trackFiles, kind: .file, fromGroup: true)
                add(groupConfig.trackProcesses, kind: .process, fromGroup: true)
                add(groupConfig.trackBFDs, kind: .bfd, fromGroup: true)
                interfaces(groupConfig.trackInterfaces, fromGroup: true)
            }
            routers[index].trackedItems = items
        }
        return []
    }

    /// A router whose tracked scripts have not all reported waits, as keepalived's instances wait in INIT.
    func waitsForScripts(_ router: RouterState) -> Bool {
        router.trackedItems.contains { $0.kind == .script && scripts[$0.name]?.health.status == .unknown }
    }

    // MARK: - Scripts

    /// Starts a script's run (when it is in use, not running, and Vigil is not stopping), with its timeout.
    mutating func runScript(_ name: String, now: MonotonicTime) -> [Action] {
        guard !stopping, var state = scripts[name], !state.running, let command = state.script.command else { return [] }
        state.running = true
        state.everStarted = true
        state.timedOut = false
        state.started = now
        scripts[name] = state
        return [
            .runScript(
                ScriptRun(name: name, generation: state.generation), command, user: state.script.user,
                group: state.script.group),
            .arm(.scriptTimeout(name), at: now + state.script.effectiveTimeout),
        ]
    }

    /// A script's run ended (or could not start). Its result counts towards rise and fall; the next run is due
    /// one interval after this one started.
    mutating func scriptEnded(_ run: ScriptRun, _ ending: ScriptEnding, now: MonotonicTime) -> [Action] {
        guard var state = scripts[run.name], state.generation == run.generation, state.running else { return [] }
        state.running = false
        scripts[run.name] = state
        var actions: [Action] = [.cancel(.scriptTimeout(run.name))]
        let success: Bool
        let detail: String
        switch ending {
        case _ where state.timedOut:
            (success, detail) = (false, "timed_out")
        case .exited(0):
            (success, detail) = (true, "succeeded")
        case .exited(let code):
            (success, detail) = (false, "failed (exited with status \(code))")
        case .signaled(let signal):
            (success, detail) = (false, "failed (due to signal \(signal))")
        case .couldNotRun(let reason):
            actions.append(.log(.error, "VRRP_Script(\(run.name)) cannot run: \(reason)"))
            (success, detail) = (false, "cannot run")
        }
        actions += record(run.name, success: success, detail: detail, now: now)
        if !stopping {
            let next = max(state.started + state.script.interval, now)
            actions.append(.arm(.scriptRun(run.name), at: next))
        }
        return actions
    }

    mutating func record(_ name: String, success: Bool, detail: String, now: MonotonicTime) -> [Action] {
        guard var state = scripts[name] else { return [] }
        let wasUnknown = state.health.status == .unknown
        let changed = state.health.record(success: success)
        scripts[name] = state
        guard changed || wasUnknown else { return [] }
        var actions = [Action.log(.info, "VRRP_Script(\(name)) \(state.health.status == .good ? "succeeded" : detail)")]
        actions += refreshTrackers(kind: .script, name: name, now: now)
        actions += startRouters(
            routers.indices.filter { !routers[$0].started && !waitsForScripts(routers[$0]) }, now: now)
        return actions
    }

    // MARK: - Files and processes

    /// What the executor read: each tracked file's number (nil when the file is missing or holds none, which
    /// counts as 0) and how many processes match each `vrrp_track_process`.
    /// Why a tracked process's count changed, when the kernel's process events say (`fork_delay` applies to a
    /// fork, `terminate_delay` to an exit; a change by exec or by a new name counts at once, as keepalived).
    enum ProcessChange: Equatable, Sendable { case fork, exit, other }

    mutating func tracked(
        files: [String: Int?], processes: [String: Int], causes: [String: ProcessChange] = [:], now: MonotonicTime
    ) -> [Action] {
        guard !stopping else { return [] }
        var actions = [Action]()
        var changed = false
        for (name, value) in files.sorted(by: { $0.key < $1.key }) where fileValues[name] != value ?? 0 {
            fileValues[name] = value ?? 0
            actions.append(.log(.info, "Tracked file \(name) now has value \(value ?? 0)"))
            changed = true
        }
        for tracked in configuration.trackProcesses {
            guard let count = processes[tracked.name] else { continue }
            let previous = processCounts[tracked.name]
            processCounts[tracked.name] = count
            let up = Self.quorum(tracked, count)
            guard let current = processUp[tracked.name] else {
                // The first reading counts at once.
                processUp[tracked.name] = up
                changed = true
                continue
            }
            if up == current {
                // Back where it was: a pending delay has nothing left to do.
                if processDelayed.remove(tracked.name) != nil { actions.append(.cancel(.processDelay(tracked.name))) }
                continue
            }
            guard !processDelayed.contains(tracked.name) else { continue }
            let cause = causes[tracked.name] ?? (previous.map { count > $0 ? .fork : .exit } ?? .other)
            let delay: Duration? =
                switch cause {
                case .fork: tracked.forkDelay ?? tracked.delay
                case .exit: tracked.terminateDelay ?? tracked.delay
                case .other: nil
                }
            if let delay {
                processDelayed.insert(tracked.name)
                actions.append(.arm(.processDelay(tracked.name), at: now + delay))
                continue
            }
            processUp[tracked.name] = up
            actions.append(.log(.info, "Quorum \(up ? "gained" : "lost") for tracked process \(tracked.name) (\(count) running)"))
            changed = true
        }
        if changed { actions += refreshTrackers(now: now) }
        return actions
    }

    // MARK: - BFD

    /// Follow the BFD process while some router tracks a BFD instance.
    mutating func bfdFollowing() -> [Action] {
        let wanted = routers.contains { $0.trackedItems.contains { $0.kind == .bfd } }
        guard wanted != followsBFD else { return [] }
        followsBFD = wanted
        return [.followBFD(wanted)]
    }

    /// The BFD process said how its sessions are: each change is logged per router that tracks it, as keepalived.
    mutating func bfdChanged(_ events: [BFDEvent], now: MonotonicTime) -> [Action] {
        guard !stopping else { return [] }
        var actions = [Action]()
        var changed = false
        for event in events where bfdUp[event.name] != event.up {
            bfdUp[event.name] = event.up
            changed = true
            for router in routers where router.trackedItems.contains(where: { $0.kind == .bfd && $0.name == event.name }) {
                actions.append(
                    .log(.info, "(\(router.name)) Tracked BFD instance \(event.name) is \(event.up ? "UP" : "DOWN")"))
            }
        }
        if changed { actions += refreshTrackers(kind: .bfd, now: now) }
        return actions
    }

    static func quorum(_ tracked: TrackProcess, _ count: Int) -> Bool {
        if tracked.quorumMaximum == 0 { return count == 0 }
        return count >= tracked.quorum && (tracked.quorumMaximum.map { count <= $0 } ?? true)
    }

    /// A delay ran out: the quorum as the count now says.
    mutating func processDelayEnded(_ name: String, now: MonotonicTime) -> [Action] {
        guard processDelayed.remove(name) != nil, !stopping,
            let tracked = configuration.trackProcesses.first(where: { $0.name == name }),
            let count = processCounts[name]
        else { return [] }
        let up = Self.quorum(tracked, count)
        guard processUp[name] != up else { return [] }
        processUp[name] = up
        return [.log(.info, "Quorum \(up ? "gained" : "lost") for tracked process \(name) (\(count) running)")]
            + refreshTrackers(now: now)
    }

    // MARK: - Priority and faults

    /// Refreshes the values of tracked items (all, those of one kind, or one item) and what follows from them.
    mutating func refreshTrackers(kind: TrackedItem.Kind? = nil, name: String? = nil, now: MonotonicTime) -> [Action] {
        var actions = [Action]()
        for index in routers.indices {
            if let kind,
                !routers[index].trackedItems.contains(where: { $0.kind == kind && (name == nil || $0.name == name) })
            {
                continue
            }
            actions += refreshTrackers(index, now: now)
        }
        actions += refreshFaults(now: now)
        return actions
    }

    mutating func refreshTrackers(_ index: Int, now: MonotonicTime) -> [Action] {
        guard !routers[index].trackedItems.isEmpty else { return [] }
        for item in routers[index].trackedItems.indices {
            let tracked = routers[index].trackedItems[item]
            let value: TrackedItem.Value
            switch tracked.kind {
            case .script:
                switch scripts[tracked.name]?.health.status {
                case .good: value = .up(true)
                case .failed: value = .up(false)
                case .unknown, nil: value = .unknown
                }
            case .interface:
                value = .up(table.link(named: tracked.name)?.isUp ?? false)
            case .file:
                value = .number(fileValues[tracked.name] ?? 0)
            case .process:
                value = processUp[tracked.name].map { .up($0) } ?? .unknown
            case .bfd:
                // keepalived: a tracked BFD counts as down until the BFD process says it is up.
                value = .up(bfdUp[tracked.name] ?? false)
            }
            routers[index].trackedItems[item].value = value
        }
        let (total, fault) = TrackedPriority.evaluate(
            base: routers[index].instance.priority, items: routers[index].trackedItems)
        routers[index].trackerFault = fault
        guard routers[index].started else { return [] }
        return run(routers[index].router.setTotalPriority(total, now: now), index, now: now)
    }

    /// Recomputes every router's fault (its link, its weight-0 trackers, its sync group) and tells each router what
    /// changed.
    mutating func refreshFaults(now: MonotonicTime) -> [Action] {
        for index in routers.indices {
            let source = cachedSource(for: index)
            if let source { routers[index].router.primaryAddress = source }
            routers[index].individualFault = linkFault(at: index, source: source) ?? routers[index].trackerFault
        }
        // Each group's members in FAULT on their own, in the group's order: one pass, not one per member.
        var faultedMembers = [String: [(id: RouterID, name: String)]]()
        if !groups.isEmpty {
            var positions = [RouterID: Int]()
            for index in routers.indices { positions[routers[index].id] = index }
            for group in groups {
                faultedMembers[group.config.name] = group.members.compactMap { id in
                    guard let index = positions[id], routers[index].individualFault != nil else { return nil }
                    return (id, routers[index].name)
                }
            }
        }
        var actions = [Action]()
        for index in routers.indices where routers[index].started {
            var reason = routers[index].individualFault
            if reason == nil, let name = routers[index].group, let faulted = faultedMembers[name] {
                let own = routers[index].id
                if let other = faulted.first(where: { $0.id != own }) {
                    reason = "sync group \(name): \(other.name) is in FAULT"
                }
            }
            if (reason != nil) != routers[index].router.isFaulted {
                actions += run(routers[index].router.setFault(reason, now: now), index, now: now)
            }
        }
        return actions
    }

    // MARK: - Sync groups

    /// A member's Master_Down timer fired: it may go MASTER only if the group is MASTER or every other member wants
    /// MASTER too.
    func syncAllowsMaster(_ index: Int) -> Bool {
        guard let name = routers[index].group, let group = groups.first(where: { $0.config.name == name }) else {
            return true
        }
        return group.state.mayGoMaster(routers[index].name) { member in
            router(named: member)?.router.wantsMaster ?? true
        }
    }

    /// A member changed state: the group follows (MASTER together, BACKUP together; FAULT through
    /// `refreshFaults`), and says so.
    mutating func synchronize(
        _ name: String, after member: RouterID, movedTo state: VirtualRouter.State, now: MonotonicTime
    ) -> [Action] {
        guard let groupIndex = groups.firstIndex(where: { $0.config.name == name }) else { return [] }
        let (propagation, changed) = groups[groupIndex].state.memberChanged(to: state)
        var actions = [Action]()
        if changed {
            actions.append(.log(.info, "VRRP_Group(\(name)) Syncing instances to \(state) state"))
            actions.append(.notify(.group(groups[groupIndex].config, state)))
        }
        for id in groups[groupIndex].members where id != member {
            guard let index = index(of: id) else { continue }
            switch propagation {
            case .allMaster: actions += run(routers[index].router.syncToMaster(now: now), index, now: now)
            case .allBackup: actions += run(routers[index].router.syncToBackup(now: now), index, now: now)
            case .allFault, .none: break
            }
        }
        return actions
    }
}

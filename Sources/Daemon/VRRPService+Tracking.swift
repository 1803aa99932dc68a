import Glibc
import LinuxNet
import VRRP
import VigilConfig

/// A `vrrp_script` at run time: its rise/fall health, the running check, and when it runs next.
final class ScriptRuntime {
    let script: VRRPScript
    var health: ScriptHealth
    var process: ChildProcess?
    var timeout: EventLoop.TimerID?
    var timedOut = false
    var started: Int64 = 0
    /// The argv and user, worked out once (user lookups can be slow); the safety check runs every time.
    var prepared: (arguments: [String], credentials: ChildProcess.Credentials?)?
    /// A reload removed or changed this script: its pending run does nothing.
    var retired = false
    /// A run is scheduled.
    var scheduled = false

    init(script: VRRPScript) {
        self.script = script
        health = ScriptHealth(rise: script.rise, fall: script.fall, initFail: script.initFail)
    }
}

/// A value that belongs to the VRRP loop's thread, carried through another thread and back by `loop.post`;
/// only the loop's thread may touch `value`.
struct LoopConfined<Value: AnyObject>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A `vrrp_sync_group` at run time.
final class GroupRuntime {
    let config: SyncGroup
    var state: SyncGroupState
    var members: [RouterDriver] = []

    init(config: SyncGroup) {
        self.config = config
        state = SyncGroupState(name: config.name, members: config.members.map(\.text))
    }

    var name: String { config.name }
}

extension VRRPService {
    // MARK: - Setting up

    func setUpTracking() {
        buildTracking()
        for runtime in scripts.values { runScript(runtime) }
        if needsPolling { startPolling() }
        // Routers waiting for their scripts start anyway once every script has had its time.
        let longest = scripts.values.map { $0.script.effectiveTimeout }.max() ?? .zero
        loop.schedule(at: (now + longest + .seconds(1)).nanoseconds) { [unowned self] in
            for driver in drivers where !driver.started { startRouter(driver) }
        }
        refreshTrackers()
    }

    var needsPolling: Bool {
        drivers.contains { $0.trackedItems.contains { $0.kind == .file || $0.kind == .process } }
    }

    func startPolling() {
        guard !polling else { return }
        polling = true
        pollFilesAndProcesses()
    }

    /// Sync groups, every router's tracked items, and a runtime for every script in use (not started).
    func buildTracking() {
        let scriptsByName = Dictionary(configuration.vrrpScripts.map { ($0.name, $0) }) { first, _ in first }
        let filesByName = Dictionary(configuration.trackFiles.map { ($0.name, $0) }) { first, _ in first }
        let processesByName = Dictionary(configuration.trackProcesses.map { ($0.name, $0) }) { first, _ in first }
        for config in configuration.syncGroups {
            let group = GroupRuntime(config: config)
            group.members = drivers.filter { driver in config.members.contains { $0.text == driver.name } }
            for member in group.members { member.group = group }
            groups.append(group)
        }
        for driver in drivers {
            var items = [TrackedItem]()
            // A sync group's trackers apply to every member; without sync_group_tracking_weight their weights
            // are ignored (failure means FAULT), as in keepalived.
            let groupConfig = driver.group?.config
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
                        if scripts[reference.name] == nil { scripts[reference.name] = ScriptRuntime(script: script) }
                    case .file:
                        guard let file = filesByName[reference.name] else { continue }
                        weight = weight ?? file.weight
                        reverse = reverse ?? file.reverse
                    case .process:
                        guard let process = processesByName[reference.name] else { continue }
                        weight = weight ?? process.weight
                        reverse = reverse ?? process.reverse
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
            let instance = driver.instance
            add(instance.trackScripts, kind: .script, fromGroup: false)
            add(instance.trackFiles, kind: .file, fromGroup: false)
            add(instance.trackProcesses, kind: .process, fromGroup: false)
            interfaces(instance.trackInterfaces, fromGroup: false)
            if let groupConfig {
                add(groupConfig.trackScripts, kind: .script, fromGroup: true)
                add(groupConfig.trackFiles, kind: .file, fromGroup: true)
                add(groupConfig.trackProcesses, kind: .process, fromGroup: true)
                interfaces(groupConfig.trackInterfaces, fromGroup: true)
            }
            driver.trackedItems = items
        }
    }

    /// A router whose tracked scripts have not all reported waits, as keepalived's instances wait in INIT.
    func waitsForScripts(_ driver: RouterDriver) -> Bool {
        driver.trackedItems.contains { $0.kind == .script && scripts[$0.name]?.health.status == .unknown }
    }

    func startRouter(_ driver: RouterDriver) {
        guard !driver.started, !stopping else { return }
        driver.started = true
        refreshTrackers(driver)
        refreshFaults()
        run(driver.router.start(now: now), driver)
    }

    // MARK: - Scripts

    func runScript(_ runtime: ScriptRuntime) {
        runtime.scheduled = false
        guard !stopping, !runtime.retired, runtime.process == nil, let command = runtime.script.command else { return }
        runtime.started = loop.now
        runtime.timedOut = false
        do {
            if runtime.prepared == nil {
                runtime.prepared = try launcher.prepare(command, user: runtime.script.user, group: runtime.script.group)
            }
            let prepared = runtime.prepared!
            try launcher.checkSafety(prepared.arguments[0])
            let process = try ChildProcess(prepared.arguments, credentials: prepared.credentials)
            runtime.process = process
            try loop.add(process.pidfd.rawValue) { [unowned self] in self.scriptEnded(runtime) }
            runtime.timeout = loop.schedule(at: (now + runtime.script.effectiveTimeout).nanoseconds) { [runtime] in
                runtime.timedOut = true
                runtime.process?.killGroup()
            }
        } catch {
            logger.error("VRRP_Script(\(runtime.script.name)) cannot run: \(error)")
            record(runtime, success: false, detail: "cannot run")
            scheduleNext(runtime)
        }
    }

    func scriptEnded(_ runtime: ScriptRuntime) {
        guard let process = runtime.process, let ending = process.reap() else { return }
        loop.remove(process.pidfd.rawValue)
        runtime.process = nil
        if let timeout = runtime.timeout { loop.cancel(timeout) }
        runtime.timeout = nil
        guard !runtime.retired else { return }
        let success = ending.succeeded && !runtime.timedOut
        let detail: String
        if runtime.timedOut {
            detail = "timed_out"
        } else if case .signaled(let signal) = ending {
            detail = "failed (due to signal \(signal))"
        } else if case .exited(let code) = ending, code != 0 {
            detail = "failed (exited with status \(code))"
        } else {
            detail = "succeeded"
        }
        record(runtime, success: success, detail: detail)
        scheduleNext(runtime)
    }

    func record(_ runtime: ScriptRuntime, success: Bool, detail: String) {
        let wasUnknown = runtime.health.status == .unknown
        guard runtime.health.record(success: success) || wasUnknown else { return }
        let name = runtime.script.name
        logger.info("VRRP_Script(\(name)) \(runtime.health.status == .good ? "succeeded" : detail)")
        refreshTrackers(kind: .script, name: name)
        for driver in drivers where !driver.started && !waitsForScripts(driver) { startRouter(driver) }
    }

    func scheduleNext(_ runtime: ScriptRuntime) {
        let interval = runtime.script.interval
        guard !runtime.retired else { return }
        let next = max(runtime.started + MonotonicTime(interval).nanoseconds, loop.now)
        runtime.scheduled = true
        loop.schedule(at: next) { [unowned self] in self.runScript(runtime) }
    }

    // MARK: - Files and processes

    /// Tracked files and processes are read every second, on the probe thread: a slow file system or a long
    /// process table must not hold the loop (and its adverts) up. The results come back through the loop.
    func pollFilesAndProcesses() {
        guard !stopping else { return }
        let files = configuration.trackFiles.map { ($0.name, $0.path ?? "") }
        let processes = configuration.trackProcesses
        let service = LoopConfined(self)
        let loop = self.loop
        probes.submit {
            let values = files.map { ($0.0, Self.readNumber($0.1)) }
            var counts = [(TrackProcess, Int)]()
            if !processes.isEmpty {
                let table = ProcessTable.read()
                counts = processes.map { ($0, table.count(matching: $0)) }
            }
            loop.post {
                service.value.applyProbes(files: values, processes: counts)
                loop.schedule(at: loop.now + 1_000_000_000) { service.value.pollFilesAndProcesses() }
            }
        }
    }

    func applyProbes(files: [(String, Int)], processes: [(TrackProcess, Int)]) {
        guard !stopping else { return }
        var changed = false
        for (name, value) in files where fileValues[name] != value {
            fileValues[name] = value
            logger.info("Tracked file \(name) now has value \(value)")
            changed = true
        }
        for (tracked, count) in processes {
            let up = count >= tracked.quorum && (tracked.quorumMaximum.map { count <= $0 } ?? true)
            if processUp[tracked.name] != up {
                processUp[tracked.name] = up
                logger.info("Process \(tracked.name) \(up ? "quorum reached" : "quorum lost") (\(count) running)")
                changed = true
            }
        }
        if changed { refreshTrackers() }
    }

    /// The first integer in a file; 0 when it is missing or holds none (keepalived's rule).
    static func readNumber(_ path: String) -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return 0 }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        let token = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).first ?? ""
        return Int(token) ?? 0
    }

    // MARK: - Priority and faults

    /// Refreshes the values of tracked items (all, those of one kind, or one item) and what follows from them.
    func refreshTrackers(kind: TrackedItem.Kind? = nil, name: String? = nil) {
        for driver in drivers {
            if let kind, !driver.trackedItems.contains(where: { $0.kind == kind && (name == nil || $0.name == name) }) {
                continue
            }
            refreshTrackers(driver)
        }
        refreshFaults()
    }

    func refreshTrackers(_ driver: RouterDriver) {
        guard !driver.trackedItems.isEmpty else { return }
        for index in driver.trackedItems.indices {
            let item = driver.trackedItems[index]
            switch item.kind {
            case .script:
                switch scripts[item.name]?.health.status {
                case .good: driver.trackedItems[index].value = .up(true)
                case .failed: driver.trackedItems[index].value = .up(false)
                case .unknown, nil: driver.trackedItems[index].value = .unknown
                }
            case .interface:
                driver.trackedItems[index].value = .up(table.link(named: item.name)?.isUp ?? false)
            case .file:
                driver.trackedItems[index].value = .number(fileValues[item.name] ?? 0)
            case .process:
                driver.trackedItems[index].value = processUp[item.name].map { .up($0) } ?? .unknown
            }
        }
        let (total, fault) = TrackedPriority.evaluate(base: driver.instance.priority, items: driver.trackedItems)
        driver.trackerFault = fault
        if driver.started { run(driver.router.setTotalPriority(total, now: now), driver) }
    }

    // MARK: - Sync groups

    /// A member's Master_Down timer fired: it may go MASTER only if the group is MASTER or every other member
    /// wants MASTER too.
    func syncAllowsMaster(_ driver: RouterDriver) -> Bool {
        guard let group = driver.group else { return true }
        return group.state.mayGoMaster(driver.name) { name in
            group.members.first { $0.name == name }?.router.wantsMaster ?? true
        }
    }

    /// A member changed state: the group follows (MASTER together, BACKUP together; FAULT through
    /// `refreshFaults`), and says so.
    func synchronize(_ group: GroupRuntime, after driver: RouterDriver, movedTo state: VirtualRouter.State) {
        let (propagation, changed) = group.state.memberChanged(to: state)
        if changed {
            logger.info("VRRP_Group(\(group.name)) Syncing instances to \(state) state")
            notifier.group(group.config, state: state)
        }
        switch propagation {
        case .allMaster:
            for member in group.members where member !== driver { run(member.router.syncToMaster(now: now), member) }
        case .allBackup:
            for member in group.members where member !== driver { run(member.router.syncToBackup(now: now), member) }
        case .allFault, .none:
            break
        }
    }
}

/// The processes running now, as `vrrp_track_process` matches them: by name (`comm`, or the program's base
/// name) and, with parameters, by their command line.
struct ProcessTable {
    struct Entry {
        var name: String
        var arguments: [String]
    }

    var entries: [Entry] = []

    static func read() -> ProcessTable {
        var table = ProcessTable()
        guard let directory = opendir("/proc") else { return table }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let first = name.utf8.first, first >= 0x30 && first <= 0x39 else { continue }
            let comm = readSmall("/proc/\(name)/comm").split(separator: "\n").first.map(String.init) ?? ""
            let cmdline = readSmall("/proc/\(name)/cmdline").split(separator: "\0", omittingEmptySubsequences: false)
                .map(String.init)
            table.entries.append(Entry(name: comm, arguments: cmdline.last == "" ? Array(cmdline.dropLast()) : cmdline))
        }
        return table
    }

    static func readSmall(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = Glibc.read(fd, &buffer, buffer.count)
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
    }

    func count(matching tracked: TrackProcess) -> Int {
        guard let process = tracked.process else { return 0 }
        return entries.filter { entry in
            let program = entry.arguments.first ?? ""
            let base = program.split(separator: "/").last.map(String.init) ?? program
            let nameMatches =
                tracked.fullCommand || process.contains("/")
                ? program == process : (entry.name == String(process.prefix(15)) || base == process)
            guard nameMatches else { return false }
            guard !tracked.parameters.isEmpty else { return true }
            let parameters = Array(entry.arguments.dropFirst())
            switch tracked.parameterMatch {
            case .exact: return parameters == tracked.parameters
            case .initial: return parameters.starts(with: tracked.parameters)
            case .partial:
                return parameters.joined(separator: " ").contains(tracked.parameters.joined(separator: " "))
            }
        }.count
    }
}

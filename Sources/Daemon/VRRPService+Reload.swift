import LinuxNet
import Logging
import VRRP
import VigilConfig

extension VRRPService {
    /// SIGHUP: read the file again off the loop (a large file must not delay an advert), then apply it here.
    /// A file with errors changes nothing: its diagnostics are logged and the running configuration stays.
    func reload() {
        guard !stopping, let loadConfiguration else {
            logger.warning("reload requested, but this process cannot read its configuration again")
            return
        }
        guard !reloading else {
            logger.warning("reload requested while one is in progress; ignored")
            return
        }
        reloading = true
        logger.info("Reloading the configuration")
        let service = LoopConfined(self)
        let loop = self.loop
        reloader.submit {
            let result = loadConfiguration()
            loop.post { service.value.finishReload(result) }
        }
    }

    func finishReload(_ result: ConfigLoader.Result) {
        reloading = false
        guard !stopping else { return }
        // Script security is tolerated at start-up (keepalived's SECURITY VIOLATION does not stop it either).
        let blocking = result.diagnostics.filter {
            $0.severity == .fatal || ($0.severity == .error && $0.code != .scriptSecurity)
        }
        guard blocking.isEmpty else {
            for diagnostic in result.diagnostics where diagnostic.severity >= .warning {
                logger.error("reload: \(diagnostic.location): \(diagnostic.message)")
            }
            logger.error(
                "Reload refused: the new configuration has \(blocking.count) error\(blocking.count == 1 ? "" : "s"); still running the previous one"
            )
            notifySystemd("READY=1\nSTATUS=reload refused: \(blocking.count) errors in the new configuration")
            return
        }
        apply(result.configuration)
        notifySystemd("READY=1\nSTATUS=\(statusLine)")
    }

    /// Moves the running routers to `new`: matched instances keep their state and every address that is still
    /// configured; removed instances resign (priority 0) and give their addresses up; new ones start.
    func apply(_ new: Configuration) {
        let old = configuration
        configuration = new
        var unmatched = new.instances
        var kept = [RouterDriver]()
        var removed = [RouterDriver]()
        for driver in drivers {
            if let index = unmatched.firstIndex(where: { InstanceIdentity($0) == driver.identity }) {
                let instance = unmatched.remove(at: index)
                reconfigure(driver, to: instance)
                kept.append(driver)
            } else {
                removed.append(driver)
            }
        }
        for driver in removed { retire(driver) }
        drivers = kept
        var added = [RouterDriver]()
        for instance in unmatched {
            let driver = RouterDriver(instance: instance, global: new.global)
            drivers.append(driver)
            do {
                try attach(driver)
                added.append(driver)
            } catch {
                logger.error("(\(driver.name)) cannot start: \(error)")
            }
        }
        virtualAddresses = Set(
            new.instances.flatMap { ($0.virtualAddresses + $0.excludedVirtualAddresses).map(\.prefix.address) })
        if old.global != new.global { replaceNotifier() }
        rebuildTracking(previous: old)
        for driver in added where !waitsForScripts(driver) { startRouter(driver) }
        logger.info(
            "Reloaded: \(kept.count) instance\(kept.count == 1 ? "" : "s") kept, \(added.count) added, \(removed.count) removed"
        )
    }

    /// A matched instance: new settings, and while MASTER exactly the addresses that changed move.
    func reconfigure(_ driver: RouterDriver, to instance: VRRPInstance) {
        let resolve: (String) -> Int32? = { self.table.link(named: $0)?.index }
        let before = driver.interfaceAddresses(resolve: resolve, tag: Self.addressProtocol)
        let usedAuthenticationHeader = driver.usesAuthenticationHeader
        run(driver.reconfigure(instance, global: configuration.global, now: now), driver)
        if driver.usesAuthenticationHeader && !usedAuthenticationHeader {
            do { try attach(driver) } catch { logger.error("(\(driver.name)) cannot open the AH socket: \(error)") }
        }
        guard driver.router.state == .master else { return }
        let after = driver.interfaceAddresses(resolve: resolve, tag: Self.addressProtocol)
        func key(_ address: InterfaceAddress) -> String { "\(address.index) \(address.prefix)" }
        let wanted = Set(after.map(key))
        let present = Set(before.map(key))
        // Addresses no longer configured go; the rest stay exactly where they are.
        let leaving = driver.owned.filter { !wanted.contains(key($0)) }
        for address in leaving {
            do {
                let outcome = try netlink.changeAddress(add: false, address, protocol: nil)
                if !outcome.succeeded {
                    logger.error("(\(driver.name)) cannot remove \(address.prefix): \(outcome.description)")
                }
            } catch {
                logger.error("(\(driver.name)) cannot remove \(address.prefix): \(error)")
            }
        }
        driver.owned.removeAll { !wanted.contains(key($0)) }
        let arriving = after.filter { !present.contains(key($0)) }
        guard !arriving.isEmpty else { return }
        for address in arriving {
            do {
                let outcome = try netlink.changeAddress(add: true, address, protocol: Self.addressProtocol)
                if outcome.succeeded {
                    driver.owned.append(address)
                } else {
                    logger.error("(\(driver.name)) cannot add \(address.prefix): \(outcome.description)")
                }
            } catch {
                logger.error("(\(driver.name)) cannot add \(address.prefix): \(error)")
            }
        }
        // Only the new addresses are announced; the kept ones never left.
        announce(driver, rounds: driver.router.settings.garp.masterRepeat, only: Set(arriving.map(\.prefix.address)))
    }

    /// A removed instance: a master resigns with priority 0 and gives its addresses up; its timers and socket
    /// share go.
    func retire(_ driver: RouterDriver) {
        run(driver.router.stop(now: now), driver)
        for timer in driver.timers.values { loop.cancel(timer) }
        driver.timers.removeAll()
        for key in driversBySocket.keys where driversBySocket[key]?.contains(where: { $0 === driver }) == true {
            driversBySocket[key]?.removeAll { $0 === driver }
            if driversBySocket[key]?.isEmpty == true, let socket = sockets.removeValue(forKey: key) {
                loop.remove(socket.descriptor.rawValue)
                driversBySocket[key] = nil
            }
        }
    }

    /// Scripts whose definition did not change keep running with their rise/fall state; the others start over.
    /// Sync groups and every router's tracked items are built again.
    func rebuildTracking(previous: Configuration) {
        let oldScripts = Dictionary(previous.vrrpScripts.map { ($0.name, $0) }) { first, _ in first }
        let newScripts = Dictionary(configuration.vrrpScripts.map { ($0.name, $0) }) { first, _ in first }
        for (name, runtime) in scripts where newScripts[name] != oldScripts[name] || newScripts[name] == nil {
            runtime.retired = true
            runtime.process?.killGroup()
            scripts[name] = nil
        }
        let oldGroups = groups
        groups = []
        for driver in drivers { driver.group = nil }
        buildTracking()
        let tracked = Set(drivers.flatMap { $0.trackedItems.filter { $0.kind == .script }.map(\.name) })
        for (name, runtime) in scripts where !tracked.contains(name) {
            runtime.retired = true
            runtime.process?.killGroup()
            scripts[name] = nil
        }
        // A group with the same members carries its state over.
        for group in groups {
            if let previousGroup = oldGroups.first(where: { $0.config.members == group.config.members }) {
                group.state = previousGroup.state
            }
        }
        for runtime in scripts.values where runtime.process == nil && !runtime.scheduled { runScript(runtime) }
        if needsPolling { startPolling() }
        refreshTrackers()
    }

    /// Global notification settings changed: later notifications use the new ones; queued ones finish first.
    func replaceNotifier() {
        let previous = notifier
        notifier = Notifier(global: configuration.global, logger: logger)
        launcher = ScriptLauncher(global: configuration.global)
        reloader.submit { previous.drain(timeout: .seconds(10)) }
    }
}

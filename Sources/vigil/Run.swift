import Daemon
import Glibc
import LinuxNet
import Logging
import VigilConfig

/// `vigil [-f FILE] ...`: the supervisor, the VRRP process, or the configuration test.
struct Run {
    let options: RunOptions

    func main() -> Int32 {
        if let mask = options.umask { umask(mode_t(mask)) }
        for warning in options.warnings { printError(warning) }
        if !options.unexpectedArguments.isEmpty {
            // keepalived prints these on standard output, each word followed by a space, and carries on.
            print("Unexpected argument(s): " + options.unexpectedArguments.map { $0 + " " }.joined())
        }
        if options.configTest {
            if let path = options.configTestLog {
                let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o640)
                guard fd >= 0 else {
                    printError("Unable to open config-test log file \(path) \(errno) - \(String(cString: strerror(errno)))")
                    return 1
                }
                dup2(fd, 2)
                close(fd)
            }
            let result = load(options.config, environment: HostEnvironment())
            printDiagnostics(result.diagnostics)
            var code = result.configTestExitCode
            // keepalived counts a bad -S or -u as a configuration error.
            if !options.warnings.isEmpty && code == 0 { code = 5 }
            return code
        }
        // Before any thread exists: the signals the daemon handles through signalfd stay blocked in every thread,
        // or a helper thread would take them (and die of SIGTERM, or swallow SIGCHLD).
        Signals.blockDaemonSignals()
        let destination: LogWriter.Destination
        if let file = options.logFile {
            destination = .file(file)
        } else if options.logConsole {
            destination = getenv("JOURNAL_STREAM") != nil ? .journal : .console
        } else if options.noSyslog {
            destination = .discard
        } else {
            destination = .syslog(facility: options.logFacility.flatMap(VigilCommand.syslogFacility) ?? LOG_DAEMON)
        }
        let writer = LogWriter(destination: destination, identity: Self.logIdentity(options))
        let logger = Logger(label: "vigil") { _ in
            VigilLogHandler(writer: writer, level: options.logDetail > 0 ? .debug : .info)
        }
        defer { writer.flush() }
        var readers: gid_t?
        if let name = options.controlGroup {
            guard let group = getgrnam(name) else {
                logger.critical("--control-group: no group '\(name)' on this system; create it or name another")
                return 1
            }
            readers = group.pointee.gr_gid
        }
        let runtime = RuntimeDirectory(path: options.runtimeDirectory, readers: readers)
        do {
            try runtime.prepare()
        } catch {
            logger.critical("runtime directory: \(error)")
            return 1
        }
        switch options.role {
        case "vrrp":
            return runVRRP(logger: logger, runtime: runtime)
        case "checker":
            return runChecker(logger: logger, runtime: runtime)
        case "bfd":
            return runBFD(logger: logger, runtime: runtime)
        case nil:
            return supervise(logger: logger, runtime: runtime)
        case let other?:
            logger.critical("unknown role \(other)")
            return 1
        }
    }

    /// The syslog identity: Vigil, Vigil_vrrp, Vigil_checker; or keepalived's names with --keepalived-log-names.
    static func logIdentity(_ options: RunOptions) -> String {
        guard options.keepalivedLogNames else { return options.role.map { "Vigil_\($0)" } ?? "Vigil" }
        switch options.role {
        case "vrrp": return "Keepalived_vrrp"
        case "checker": return "Keepalived_healthcheckers"
        case "bfd": return "Keepalived_bfd"
        default: return "Keepalived"
        }
    }

    /// The arguments a child gets: the same configuration and logging, and its role.
    func childArguments(role: String) -> [String] {
        var arguments = ["-f", options.config.file, "--role", role, "--runtime-dir", options.runtimeDirectory]
        if let id = options.config.configID { arguments += ["-i", id] }
        if options.config.allIncludesRequired { arguments.append("-e") }
        if options.logConsole { arguments.append("-l") }
        arguments += Array(repeating: "-D", count: options.logDetail)
        if let facility = options.logFacility { arguments += ["-S", facility] }
        if options.noSyslog { arguments.append("-G") }
        if options.keepalivedLogNames { arguments.append("--keepalived-log-names") }
        if let group = options.controlGroup { arguments.append("--control-group=\(group)") }
        if options.dontReleaseVRRP { arguments.append("-V") }
        if options.releaseVIPs { arguments.append("-X") }
        if options.dontReleaseIPVS { arguments.append("-I") }
        if options.addressMonitoring { arguments.append("-a") }
        if let metrics = options.metricsListen { arguments += ["--metrics", metrics] }
        if let file = options.logFile { arguments += ["--log-file=\(file)"] }
        if let pid = options.vrrpPidFile, role == "vrrp" { arguments += ["-r", pid] }
        if let pid = options.checkersPidFile, role == "checker" { arguments += ["-c", pid] }
        if let pid = options.bfdPidFile, role == "bfd" { arguments += ["-b", pid] }
        return arguments
    }

    func supervise(logger: Logger, runtime: RuntimeDirectory) -> Int32 {
        // The configuration lives only in this scope: the supervisor keeps the few things it acts on (which children,
        // the lifecycle scripts), and the children read the file themselves. Nothing else of a large file stays
        // in this process for its lifetime.
        let children: [Supervisor.Child]
        let processEvents: ProcessEvents?
        let global: GlobalDefinitions
        let trackFiles: [TrackFile]
        let dump: String?
        // In the foreground (daemonizing starts again from the top, with -n), the pid file first: a second Vigil
        // stops here, before it starts anything.
        let pidPath = options.pidFile ?? runtime.file("vigil.pid")
        if options.dontFork {
            do {
                try RuntimeDirectory.createPidFile(pidPath)
            } catch {
                logger.critical("\(error)")
                return 1
            }
        }
        defer { if options.dontFork { RuntimeDirectory.removePidFile(pidPath) } }
        let supervisor = Supervisor(
            executable: Daemonizer.executablePath(), children: [], logger: logger, respawn: !options.dontRespawn)
        // The VRRP process reads the file while this one does (two cores, one file's time), and waits before it
        // touches anything until this one has checked the file. Not when -s names a namespace (it must start
        // inside); one the file names, process tracking or a startup script send it away below.
        if options.dontFork && options.networkNamespace == nil && !options.checkOnly {
            supervisor.startEarly(Supervisor.Child(role: "vrrp", arguments: childArguments(role: "vrrp")))
        }
        do {
            let result = load(options.config, environment: HostEnvironment())
            for diagnostic in result.diagnostics {
                if diagnostic.severity >= .warning {
                    logger.warning("\(diagnostic.location): \(diagnostic.message)")
                } else {
                    logger.info("\(diagnostic.location): \(diagnostic.message)")
                }
            }
            if result.diagnostics.contains(where: { $0.severity == .fatal }) {
                supervisor.abandonEarly()
                return 4
            }
            if !options.dontFork {
                // Daemonize: start again in a new session, detached, and let this process end.
                return Daemonizer.respawnDetached(adding: "-n")
            }
            let configuration = result.configuration
            // The kernel's process events reach only the host's first network namespace: open them here, before
            // moving, for the VRRP process.
            processEvents = configuration.trackProcesses.isEmpty ? nil : try? ProcessEvents()
            let wantsVRRP = !options.checkOnly && (options.allChildren || !configuration.instances.isEmpty)
            let early = EarlyStart.decide(
                wantsVRRP: wantsVRRP, namespaceInFile: configuration.networkNamespace != nil,
                processEvents: processEvents != nil, startupScript: configuration.global.startupScript != nil)
            if case .abandon = early { supervisor.abandonEarly() }
            if let namespace = options.networkNamespace ?? configuration.networkNamespace {
                if let written = configuration.networkNamespace, options.networkNamespace != nil, written != namespace {
                    logger.notice("Overriding config net_namespace '\(written)' with command line namespace '\(namespace)'")
                }
                // Before any child starts: they inherit it.
                do {
                    try NetworkNamespace.enter(named: namespace)
                } catch {
                    logger.critical("Unable to set network namespace \(namespace) (\(error)); create it with `ip netns add \(namespace)`; not starting")
                    return 1
                }
                logger.info("Running in network namespace \(namespace)")
            }
            dump = options.dumpConfiguration ? ConfigurationDump.render(configuration).text() : nil
            var roles = [Supervisor.Child]()
            if wantsVRRP && !supervisor.startedEarly("vrrp") {
                roles.append(Supervisor.Child(role: "vrrp", arguments: childArguments(role: "vrrp")))
            }
            if !options.vrrpOnly && (options.allChildren || !configuration.virtualServers.isEmpty) {
                roles.append(Supervisor.Child(role: "checker", arguments: childArguments(role: "checker")))
            }
            if !options.noBFD && (options.allChildren || !configuration.bfdInstances.isEmpty) {
                roles.append(Supervisor.Child(role: "bfd", arguments: childArguments(role: "bfd")))
            }
            children = roles
            global = configuration.global
            trackFiles = configuration.trackFiles
        }
        logger.info("Starting Vigil \(VigilVersion.number)")
        for ignored in options.ignored { logger.notice("accepted but not acted on: \(ignored)") }
        for line in dump?.split(separator: "\n") ?? [] { logger.info("\(line)") }
        let core = CoreDumps(enabled: options.coreDump, pattern: options.coreDumpPattern, logger: logger)
        defer { core.restore() }
        supervisor.add(children)
        supervisor.processEvents = processEvents
        TrackFileInitializer.apply(trackFiles, logger: logger)
        supervisor.launcher = ScriptLauncher(global: global)
        supervisor.startupScript = global.startupScript.map {
            LifecycleScript($0, timeout: global.startupScriptTimeout, what: "startup")
        }
        supervisor.shutdownScript = global.shutdownScript.map {
            LifecycleScript($0, timeout: global.shutdownScriptTimeout, what: "shutdown")
        }
        let code = supervisor.run()
        logger.info("Stopped Vigil \(VigilVersion.number)")
        return code
    }

    func runBFD(logger: Logger, runtime: RuntimeDirectory) -> Int32 {
        withPidFile(options.bfdPidFile ?? runtime.file("bfd.pid"), logger: logger) {
            let result = load(options.config, environment: HostEnvironment())
            do {
                let service = try BFDService(configuration: result.configuration, logger: logger, runtime: runtime)
                service.heartbeat = heartbeat
                let source = options.config
                service.loadConfiguration = { load(source, environment: HostEnvironment()) }
                return try service.run()
            } catch {
                logger.critical("BFD: \(error)")
                return 1
            }
        }
    }

    func runChecker(logger: Logger, runtime: RuntimeDirectory) -> Int32 {
        withPidFile(options.checkersPidFile ?? runtime.file("checkers.pid"), logger: logger) {
            let result = load(options.config, environment: HostEnvironment())
            do {
                var serviceOptions = CheckerService.Options()
                serviceOptions.releaseOnStop = !options.dontReleaseIPVS
                let service = try CheckerService(
                    configuration: result.configuration, logger: logger, runtime: runtime, options: serviceOptions)
                service.metricsListen = options.metricsListen
                service.heartbeat = heartbeat
                service.servesMetrics = options.checkOnly || result.configuration.instances.isEmpty
                let source = options.config
                service.loadConfiguration = { load(source, environment: HostEnvironment()) }
                return try service.run()
            } catch {
                logger.critical("Checkers: \(error)")
                return 1
            }
        }
    }

    /// The beat a child sends the supervisor for systemd's watchdog, when the supervisor asked for one.
    var heartbeat: Heartbeat? {
        guard let descriptor = options.heartbeatDescriptor, let milliseconds = options.heartbeatMilliseconds else {
            return nil
        }
        return Heartbeat(descriptor: descriptor, interval: .milliseconds(max(10, milliseconds)))
    }

    /// Runs `body` with the process's pid file in place (created safely), removing it afterwards.
    func withPidFile(_ path: String, logger: Logger, _ body: () -> Int32) -> Int32 {
        do {
            try RuntimeDirectory.createPidFile(path)
        } catch {
            logger.critical("\(error)")
            return 1
        }
        defer { RuntimeDirectory.removePidFile(path) }
        return body()
    }

    func runVRRP(logger: Logger, runtime: RuntimeDirectory) -> Int32 {
        withPidFile(options.vrrpPidFile ?? runtime.file("vrrp.pid"), logger: logger) {
            let result = load(options.config, environment: HostEnvironment())
            if let gate = options.gateDescriptor {
                // Started before the supervisor read the file: go on only when it says so.
                var answer: UInt8 = 0
                var count = read(gate, &answer, 1)
                while count < 0 && errno == EINTR { count = read(gate, &answer, 1) }
                close(gate)
                guard count == 1, answer == UInt8(ascii: "g") else { return 0 }
            }
            do {
                var serviceOptions = VRRPService.Options()
                serviceOptions.releaseOnStop = !options.dontReleaseVRRP
                serviceOptions.releaseEveryAddress = options.releaseVIPs
                serviceOptions.addressMonitoring = options.addressMonitoring
                serviceOptions.logDetail = options.logDetail > 0
                let service = try VRRPService(
                    configuration: result.configuration, logger: logger, runtime: runtime, options: serviceOptions)
                service.metricsListen = options.metricsListen
                service.heartbeat = heartbeat
                service.inheritedProcessEvents = options.processEventsDescriptor
                let source = options.config
                service.loadConfiguration = { load(source, environment: HostEnvironment()) }
                return try service.run()
            } catch {
                logger.critical("VRRP: \(error)")
                return 1
            }
        }
    }
}

import ArgumentParser
import Daemon
import Glibc
import Logging
import VigilConfig

/// `vigil [-f FILE] [-t] ...`: keepalived's command line.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon, or test the configuration with -t (keepalived's flags)."
    )

    @OptionGroup var config: ConfigOptions

    @Flag(
        name: [.customShort("t"), .customLong("config-test")],
        help:
            "Check the configuration and exit (0 clean, 4 cannot run, 5 errors or warnings, 6 scripts without script security)."
    )
    var configTest = false

    @Flag(name: [.customShort("n"), .customLong("dont-fork")], help: "Stay in the foreground.")
    var dontFork = false

    @Flag(name: [.customShort("l"), .customLong("log-console")], help: "Log to the console.")
    var logConsole = false

    @Flag(name: [.customShort("D"), .customLong("log-detail")], help: "Detailed log messages.")
    var logDetail = false

    @Option(name: [.customShort("S"), .customLong("log-facility")], help: "syslog facility 0-7 (local0-local7).")
    var logFacility: Int?

    @Flag(name: [.customShort("P"), .customLong("vrrp")], help: "Run only the VRRP part.")
    var vrrpOnly = false

    @Flag(name: [.customShort("C"), .customLong("check")], help: "Run only the health checkers.")
    var checkOnly = false

    @Option(name: [.customShort("p"), .customLong("pid")], help: "The supervisor's pid file.")
    var pidFile: String?

    @Option(name: [.customShort("r"), .customLong("vrrp_pid")], help: "The VRRP process's pid file.")
    var vrrpPidFile: String?

    @Option(name: [.customShort("c"), .customLong("checkers_pid")], help: "The checker process's pid file.")
    var checkersPidFile: String?

    @Option(name: .customLong("runtime-dir"), help: "Vigil's private runtime directory (pid files, dumps).")
    var runtimeDirectory = RuntimeDirectory.defaultPath

    @Option(name: .customLong("role"), help: .hidden)
    var role: String?

    func run() throws {
        if configTest {
            let result = config.load(environment: LocalEnvironment())
            printDiagnostics(result.diagnostics)
            throw ExitCode(result.configTestExitCode)
        }
        let writer = LogWriter(
            destination: logConsole ? .console : .syslog(facility: Self.facility(logFacility)),
            identity: role.map { "Vigil_\($0)" } ?? "Vigil")
        let logger = Logger(label: "vigil") { _ in VigilLogHandler(writer: writer, level: logDetail ? .debug : .info) }
        defer { writer.flush() }
        let runtime = RuntimeDirectory(path: runtimeDirectory)
        do {
            try runtime.prepare()
        } catch {
            logger.critical("runtime directory: \(error)")
            throw ExitCode(1)
        }
        switch role {
        case "vrrp":
            throw ExitCode(runVRRP(logger: logger, runtime: runtime))
        case nil:
            throw ExitCode(supervise(logger: logger, runtime: runtime))
        case let other?:
            logger.critical("unknown role \(other)")
            throw ExitCode(1)
        }
    }

    static func facility(_ number: Int?) -> Int32 {
        guard let number, (0...7).contains(number) else { return LOG_DAEMON }
        return (16 + Int32(number)) << 3  // LOG_LOCAL0 + n
    }

    /// The arguments a child gets: the same configuration and logging, and its role.
    func childArguments(role: String) -> [String] {
        var arguments = ["-f", config.file, "--role", role, "--runtime-dir", runtimeDirectory]
        if let id = config.configID { arguments += ["-i", id] }
        if logConsole { arguments.append("-l") }
        if logDetail { arguments.append("-D") }
        if let logFacility { arguments += ["-S", String(logFacility)] }
        if let vrrpPidFile, role == "vrrp" { arguments += ["-r", vrrpPidFile] }
        if let checkersPidFile, role == "checker" { arguments += ["-c", checkersPidFile] }
        return arguments
    }

    func supervise(logger: Logger, runtime: RuntimeDirectory) -> Int32 {
        let result = config.load(environment: LocalEnvironment())
        for diagnostic in result.diagnostics where diagnostic.severity >= .warning {
            logger.warning("\(diagnostic.location): \(diagnostic.message)")
        }
        if result.diagnostics.contains(where: { $0.severity == .fatal }) { return 4 }
        if !dontFork {
            // Daemonize: start again in a new session, detached, and let this process end.
            return Daemonizer.respawnDetached(adding: "-n")
        }
        let pidPath = pidFile ?? runtime.file("vigil.pid")
        do {
            try RuntimeDirectory.createPidFile(pidPath)
        } catch {
            logger.critical("\(error)")
            return 1
        }
        defer { RuntimeDirectory.removePidFile(pidPath) }
        logger.info("Starting Vigil \(VigilVersion.number)")
        var children = [Supervisor.Child]()
        if !checkOnly && !result.configuration.instances.isEmpty {
            children.append(Supervisor.Child(role: "vrrp", arguments: childArguments(role: "vrrp")))
        }
        let supervisor = Supervisor(executable: Daemonizer.executablePath(), children: children, logger: logger)
        let code = supervisor.run()
        logger.info("Stopped Vigil \(VigilVersion.number)")
        return code
    }

    func runVRRP(logger: Logger, runtime: RuntimeDirectory) -> Int32 {
        let result = config.load(environment: LocalEnvironment())
        let pidPath = vrrpPidFile ?? runtime.file("vrrp.pid")
        do {
            try RuntimeDirectory.createPidFile(pidPath)
        } catch {
            logger.critical("\(error)")
            return 1
        }
        defer { RuntimeDirectory.removePidFile(pidPath) }
        do {
            let service = try VRRPService(configuration: result.configuration, logger: logger, runtime: runtime)
            return try service.run()
        } catch {
            logger.critical("VRRP: \(error)")
            return 1
        }
    }
}

import ArgumentParser
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

    func run() throws {
        if configTest {
            let result = config.load(environment: LocalEnvironment())
            printDiagnostics(result.diagnostics)
            throw ExitCode(result.configTestExitCode)
        }
        printError("vigil: running the daemon is not built yet; use -t to check a configuration")
        throw ExitCode(1)
    }
}

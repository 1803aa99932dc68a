import Glibc
import Testing

@testable import Daemon

/// keepalived 2.2.7's command line, option by option, read as its getopt_long reads it (Debian's build).
@Suite("Command line: keepalived's flags")
struct CommandLineTests {
    func run(_ arguments: String) throws -> RunOptions {
        try run(arguments.split(separator: " ").map(String.init))
    }

    func run(_ arguments: [String]) throws -> RunOptions {
        guard case .run(let options) = try VigilCommand.parse(arguments) else {
            Issue.record("not a run command: \(arguments)")
            return RunOptions()
        }
        return options
    }

    func error(_ arguments: String) -> String? {
        do {
            _ = try VigilCommand.parse(arguments.split(separator: " ").map(String.init))
            return nil
        } catch {
            return error.message
        }
    }

    @Test("keepalived's usual invocation")
    func usual() throws {
        let options = try run("-n -l -D -f /etc/k.conf -p /run/k.pid -r /run/v.pid -c /run/c.pid -i lb01")
        #expect(options.dontFork && options.logConsole && options.logDetail == 1)
        #expect(options.config == ConfigSource(file: "/etc/k.conf", configID: "lb01"))
        #expect(
            options.pidFile == "/run/k.pid" && options.vrrpPidFile == "/run/v.pid"
                && options.checkersPidFile == "/run/c.pid")
    }

    @Test("clusters, attached and separate values, long forms with = or a separate word, unique prefixes")
    func forms() throws {
        let options = try run("-nlDP -f/etc/x.conf --config-id=node9 --log-facility 3 --runtime-dir=/tmp/r")
        #expect(options.dontFork && options.logConsole && options.logDetail == 1 && options.vrrpOnly)
        #expect(options.config.file == "/etc/x.conf")
        #expect(options.config.configID == "node9")
        #expect(options.logFacility == "3")
        #expect(options.runtimeDirectory == "/tmp/r")
        #expect(try run("-nf /etc/y.conf").config.file == "/etc/y.conf", "a value after a cluster")
        #expect(try run("--use=/etc/z.conf").config.file == "/etc/z.conf", "a unique prefix of --use-file")
        #expect(try run("--dont-f").dontFork, "--dont-f is --dont-fork")
        #expect(error("--dont") == "Unknown option --dont", "an ambiguous prefix")
        #expect(try run("-f -n").config.file == "-n", "a required value is the next word, whatever it looks like")
    }

    @Test("options after arguments are read (GNU permutation); leftovers are reported, not refused")
    func permutation() throws {
        let options = try run("stray -n other -l")
        #expect(options.dontFork && options.logConsole)
        #expect(options.unexpectedArguments == ["stray", "other"])
        #expect(try run("-n -- -l").unexpectedArguments == ["-l"], "-- ends the options")
    }

    @Test("every error at once, as keepalived reports them, then exit 1")
    func mistakes() {
        #expect(error("-Z") == "Unknown option -Z")
        #expect(error("-nZ") == "Unknown option -Z", "inside a cluster")
        #expect(error("--bogus=3") == "Unknown option --bogus=3")
        #expect(error("--dont-fork=x") == "Unknown option --dont-fork=x", "a flag with a value")
        #expect(error("-f") == "Missing parameter for option -f")
        #expect(error("--use-file") == "Missing parameter for option --use-file")
        #expect(error("--use-file=") == "Missing parameter for option --use-file")
        #expect(error("-Z -Y") == "Unknown option -Z\nUnknown option -Y")
        #expect(error("-L") == "Unknown option -L", "not in Debian's build")
        #expect(error("--flush-log-file") == "Unknown option --flush-log-file", "not in Debian's build")
    }

    @Test("optional values must be attached: -t, -g, -M")
    func optionalValues() throws {
        let attached = try run("-t/tmp/test.log")
        #expect(attached.configTest && attached.configTestLog == "/tmp/test.log")
        #expect(try run("--config-test=/tmp/t.log").configTestLog == "/tmp/t.log")
        let separate = try run("-t /tmp/x")
        #expect(separate.configTest && separate.configTestLog == nil)
        #expect(separate.unexpectedArguments == ["/tmp/x"])
        #expect(try run("-g").logFile == "/tmp/keepalived.log")
        #expect(try run("-g/var/log/k.log").logFile == "/var/log/k.log")
        #expect(try run("--log-file=/var/log/k.log").logFile == "/var/log/k.log")
        let pattern = try run("-Mcore.%p")
        #expect(pattern.coreDump && pattern.coreDumpPattern == "core.%p")
        let defaultPattern = try run("-M -n")
        #expect(defaultPattern.coreDumpPattern == "core" && defaultPattern.dontFork, "-M does not swallow -n")
        let coreOnly = try run("-m -n")
        #expect(coreOnly.coreDump && coreOnly.coreDumpPattern == nil && coreOnly.dontFork, "-m takes no value")
    }

    @Test("-S takes 0-7, local0-local7, daemon or user; anything else is reported and ignored")
    func logFacility() throws {
        for good in ["0", "7", "local3", "daemon", "user"] {
            let options = try run(["-S", good])
            #expect(options.logFacility == good && options.warnings.isEmpty, "\(good)")
        }
        #expect(VigilCommand.syslogFacility("3") == Int32((16 + 3) << 3))
        #expect(VigilCommand.syslogFacility("local7") == Int32((16 + 7) << 3))
        #expect(VigilCommand.syslogFacility("daemon") == LOG_DAEMON)
        #expect(VigilCommand.syslogFacility("user") == LOG_USER)
        for bad in ["8", "local8", "mail", "-1"] {
            let options = try run(["-S", bad])
            #expect(options.logFacility == nil && options.warnings == ["Invalid log facility '\(bad)'"], "\(bad)")
        }
    }

    @Test("-u takes a number as strtoll reads it (0 octal, 0x hex), up to 0777")
    func umask() throws {
        #expect(try run("-u 0077").umask == 0o77)
        #expect(try run("--umask=0x3f").umask == 0x3f)
        #expect(try run("-u 18").umask == 18)
        let bad = try run("-u 01000")
        #expect(bad.umask == nil && bad.warnings == ["Invalid --umask option 01000"])
        #expect(try run("-u nope").warnings == ["Invalid --umask option nope"])
    }

    @Test("each of keepalived's flags sets what it should", arguments: [
        ("-P", \RunOptions.vrrpOnly), ("--vrrp", \RunOptions.vrrpOnly), ("-C", \RunOptions.checkOnly),
        ("--check", \RunOptions.checkOnly), ("-l", \RunOptions.logConsole), ("-G", \RunOptions.noSyslog),
        ("--no-syslog", \RunOptions.noSyslog), ("-X", \RunOptions.releaseVIPs),
        ("--release-vips", \RunOptions.releaseVIPs), ("-V", \RunOptions.dontReleaseVRRP),
        ("--dont-release-vrrp", \RunOptions.dontReleaseVRRP), ("-I", \RunOptions.dontReleaseIPVS),
        ("--dont-release-ipvs", \RunOptions.dontReleaseIPVS), ("-R", \RunOptions.dontRespawn),
        ("--dont-respawn", \RunOptions.dontRespawn), ("-n", \RunOptions.dontFork), ("-d", \RunOptions.dumpConfiguration),
        ("--dump-conf", \RunOptions.dumpConfiguration), ("-a", \RunOptions.addressMonitoring),
        ("--address-monitoring", \RunOptions.addressMonitoring), ("-m", \RunOptions.coreDump),
        ("--core-dump", \RunOptions.coreDump), ("-t", \RunOptions.configTest), ("--all", \RunOptions.allChildren),
    ] as [(String, KeyPath<RunOptions, Bool> & Sendable)])
    func flag(_ flag: String, _ field: KeyPath<RunOptions, Bool> & Sendable) throws {
        #expect(try run([flag])[keyPath: field])
        #expect(try !run([])[keyPath: field])
    }

    @Test("options with values")
    func valued() throws {
        #expect(try run("-b /run/b.pid").bfdPidFile == "/run/b.pid")
        #expect(try run("-B").noBFD)
        #expect(try run("-s blue").networkNamespace == "blue")
        #expect(try run("--namespace=blue").networkNamespace == "blue")
        #expect(try run("-e").config.allIncludesRequired)
        #expect(try run("--all-config").config.allIncludesRequired)
        #expect(try run("-DD").logDetail == 2, "-D twice: more detail")
        #expect(try run("-x").ignored.first?.hasPrefix("--snmp") == true)
        #expect(try run("-A /run/agentx").ignored.first?.hasPrefix("--snmp-agent-socket") == true)
        #expect(try run("-B").ignored.isEmpty, "-B: there is no BFD process to leave out")
        #expect(try run("--config-fd=5").ignored.isEmpty, "keepalived's internal option is accepted")
        let all = try run("-P --all")
        #expect(all.allChildren && !all.vrrpOnly, "--all overrides an earlier -P")
    }

    @Test("help, version, --signum and -T end the parsing at once")
    func immediate() throws {
        #expect(try VigilCommand.parse(["--help"]) == .help(topic: .daemon))
        #expect(try VigilCommand.parse(["-h", "-Z"]) == .help(topic: .daemon))
        #expect(try VigilCommand.parse(["-v"]) == .version)
        #expect(try VigilCommand.parse(["--signum=STOP"]) == .signalNumber("STOP"))
        #expect(try VigilCommand.parse(["--signum", "JSON"]) == .signalNumber("JSON"))
        #expect(try VigilCommand.parse(["-T", "-s", "198.51.100.10", "-p", "80"]) == .genhash(["-s", "198.51.100.10", "-p", "80"]))
        #expect(try VigilCommand.parse(["--genhash", "http://x/"]) == .genhash(["http://x/"]))
        #expect(VigilCommand.signalNumber("STOP") == SIGTERM)
        #expect(VigilCommand.signalNumber("RELOAD") == SIGHUP)
        #expect(VigilCommand.signalNumber("DATA") == SIGUSR1)
        #expect(VigilCommand.signalNumber("STATS") == SIGUSR2)
        #expect(VigilCommand.signalNumber("JSON") == 36, "SIGRTMIN + 2 on glibc")
        #expect(VigilCommand.signalNumber("STATS_CLEAR") == 63, "SIGRTMAX - 1 on glibc")
        #expect(VigilCommand.signalNumber("TDUMP") == nil, "not in Debian's build")
    }

    @Test("subcommands, and --help on every one of them")
    func subcommands() throws {
        #expect(try VigilCommand.parse(["lab"]) == .lab)
        #expect(
            try VigilCommand.parse(["config", "dump", "--json", "-f", "x.conf"])
                == .configDump(ConfigSource(file: "x.conf"), json: true))
        #expect(try VigilCommand.parse(["config", "keywords", "--markdown"]) == .configKeywords(markdown: true))
        #expect(try VigilCommand.parse(["status", "--json"]) == .control(request: "status json", runtimeDirectory: "/run/vigil"))
        #expect(try VigilCommand.parse(["reload", "--runtime-dir=/tmp/r"]) == .control(request: "reload", runtimeDirectory: "/tmp/r"))
        for (word, topic) in [
            ("status", HelpTopic.status), ("reload", .reload), ("config", .config), ("genhash", .genhash), ("lab", .lab),
        ] {
            #expect(try VigilCommand.parse([word, "--help"]) == .help(topic: topic))
            #expect(try VigilCommand.parse([word, "-h"]) == .help(topic: topic))
            #expect(!topic.text.isEmpty)
        }
        #expect(throws: CommandLineError.self) { try VigilCommand.parse(["status", "--bogus"]) }
        #expect(throws: CommandLineError.self) { try VigilCommand.parse(["config", "dump", "stray"]) }
    }

    @Test("Vigil's own options")
    func vigilOptions() throws {
        let options = try run("--runtime-dir /tmp/r --metrics=127.0.0.1:9650 --role vrrp --heartbeat-fd 3 --heartbeat-ms 500")
        #expect(options.runtimeDirectory == "/tmp/r" && options.metricsListen == "127.0.0.1:9650")
        #expect(options.role == "vrrp" && options.heartbeatDescriptor == 3 && options.heartbeatMilliseconds == 500)
    }

    @Test("every option of the table is handled")
    func everyOptionHandled() throws {
        for spec in VigilCommand.options {
            let value = spec.argument == .required ? ["1"] : []
            let word = spec.long.map { "--\($0)" } ?? "-\(spec.short!)"
            // An unhandled option would throw "is in the table but not handled".
            #expect(throws: Never.self) { _ = try VigilCommand.parse([word] + value) }
        }
    }
}

import Glibc

/// Vigil's command line: keepalived 2.2.7's options, read as its getopt_long reads them (clusters, attached or
/// separate required values, attached-only optional values, unique prefixes of long names, options after
/// arguments), and a few subcommands of Vigil's own. Parsed by hand so that the daemon links no Foundation.
public enum VigilCommand: Equatable, Sendable {
    case run(RunOptions)
    case configDump(ConfigSource, json: Bool)
    case configTime(ConfigSource, repetitions: Int)
    /// `vigil config keywords [--markdown]`: every keyword keepalived accepts and what Vigil does with it.
    case configKeywords(markdown: Bool)
    case lab
    /// Internal, for `vigil lab`: an ARP request for TARGET from SOURCE on INTERFACE; prints who answers.
    case labProbe(interface: String, source: String, target: String)
    /// `vigil genhash URL` (or keepalived's `-T`/`--genhash` followed by genhash's options).
    case genhash([String])
    /// `vigil status [--json]`, `vigil reload`: a request to the running VRRP process's control socket.
    case control(request: String, runtimeDirectory: String)
    /// Help on the daemon's options (`-h`: on standard error, as keepalived) or on a subcommand (standard output).
    case help(topic: HelpTopic)
    case version
    /// `--signum=SIGFUNC`: the signal number that asks for STOP, RELOAD, DATA, STATS, STATS_CLEAR or JSON.
    case signalNumber(String)
}

public enum HelpTopic: String, Equatable, Sendable {
    case daemon, config, status, reload, genhash, lab
}

/// Which configuration to read.
public struct ConfigSource: Equatable, Sendable {
    public var file = "/etc/keepalived/keepalived.conf"
    public var configID: String?
    /// `-e`/`--all-config`: a missing include is an error, as `includet` would make it.
    public var allIncludesRequired = false

    public init(file: String = "/etc/keepalived/keepalived.conf", configID: String? = nil) {
        self.file = file
        self.configID = configID
    }
}

/// keepalived's options, and Vigil's own.
public struct RunOptions: Equatable, Sendable {
    public var config = ConfigSource()
    /// `-t[FILE]`, `--config-test[=FILE]`: check and exit; with FILE, the report goes there instead of stderr.
    public var configTest = false
    public var configTestLog: String?
    public var dontFork = false
    public var logConsole = false
    /// `-D` once: detailed logs; twice: more detail still (Vigil logs at debug level for both).
    public var logDetail = 0
    /// `-S`: the syslog facility as written (`0`-`7`, `local0`-`local7`, `daemon`, `user`).
    public var logFacility: String?
    /// `-G`: no syslog (logs go only to the console or file, if asked for).
    public var noSyslog = false
    /// `--keepalived-log-names` (Vigil's own): log as Keepalived, Keepalived_vrrp and Keepalived_healthcheckers,
    /// so that syslog filters written for keepalived keep matching.
    public var keepalivedLogNames = false
    /// `--control-group=GROUP` (Vigil's own): members of GROUP may read `vigil status` (not reload).
    public var controlGroup: String?
    /// `-g[FILE]`, `--log-file[=FILE]`.
    public var logFile: String?
    public var vrrpOnly = false
    public var checkOnly = false
    /// `--all`: start the VRRP and checker processes even when the file has nothing for them.
    public var allChildren = false
    public var pidFile: String?
    public var vrrpPidFile: String?
    public var checkersPidFile: String?
    public var bfdPidFile: String?
    /// `-B`: no BFD process (tracked BFD instances then stay down, as in keepalived).
    public var noBFD = false
    public var dontRespawn = false
    public var dontReleaseVRRP = false
    /// `-X`: when leaving MASTER, remove every configured address, not only those Vigil added.
    public var releaseVIPs = false
    /// `-I`: leave the load balancer's services in place on stop.
    public var dontReleaseIPVS = false
    /// `-d`: log the configuration as read at start.
    public var dumpConfiguration = false
    /// `-a`: log every address added or removed on the machine.
    public var addressMonitoring = false
    /// `-u`: the file creation mask.
    public var umask: UInt32?
    /// `-m`: allow core dumps; `-M[PATTERN]` also sets the kernel's core pattern (default `core`) while running.
    public var coreDump = false
    public var coreDumpPattern: String?
    /// `-s NAME`: the network namespace to run in (overrides `net_namespace`).
    public var networkNamespace: String?
    public var runtimeDirectory = RuntimeDirectory.defaultPath
    /// `--metrics=ADDRESS:PORT`.
    public var metricsListen: String?
    /// Internal: which process this is (`vrrp` for the VRRP child); nil for the supervisor.
    public var role: String?
    /// Internal: the socket a child beats on for the supervisor's watchdog relay, and how often.
    public var heartbeatDescriptor: Int32?
    public var heartbeatMilliseconds: Int?
    /// A process events socket the supervisor opened for the VRRP process (`--proc-events-fd`).
    public var processEventsDescriptor: Int32?
    /// Internal: a child started before the supervisor read the file waits on this pipe (`--gate-fd`).
    public var gateDescriptor: Int32?
    /// Lines for standard error about options that were taken but not as written (keepalived prints them and
    /// carries on; `-t` then exits 5).
    public var warnings: [String] = []
    /// Words that are not options; keepalived prints them and carries on.
    public var unexpectedArguments: [String] = []
    /// keepalived options Vigil accepts but does not act on, with why, to be logged once at start.
    public var ignored: [String] = []

    public init() {}
}

public struct CommandLineError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// One option of keepalived's getopt table (and Vigil's own long ones).
struct OptionSpec: Sendable {
    enum Argument: Sendable { case none, required, optional }
    var short: Character?
    var long: String?
    var argument: Argument
    /// The option's name in `apply` (its long name, or the short letter).
    var name: String { long ?? String(short!) }
}

extension VigilCommand {
    /// keepalived 2.2.7's options as Debian builds it (VRRP, LVS, BFD and SNMP compiled in), then Vigil's own.
    static let options: [OptionSpec] = [
        .init(short: "f", long: "use-file", argument: .required),
        .init(short: "P", long: "vrrp", argument: .none),
        .init(short: "C", long: "check", argument: .none),
        .init(short: "B", long: "no_bfd", argument: .none),
        .init(short: nil, long: "all", argument: .none),
        .init(short: "l", long: "log-console", argument: .none),
        .init(short: "D", long: "log-detail", argument: .none),
        .init(short: "S", long: "log-facility", argument: .required),
        .init(short: "g", long: "log-file", argument: .optional),
        .init(short: "G", long: "no-syslog", argument: .none),
        .init(short: "u", long: "umask", argument: .required),
        .init(short: "X", long: "release-vips", argument: .none),
        .init(short: "V", long: "dont-release-vrrp", argument: .none),
        .init(short: "I", long: "dont-release-ipvs", argument: .none),
        .init(short: "R", long: "dont-respawn", argument: .none),
        .init(short: "n", long: "dont-fork", argument: .none),
        .init(short: "d", long: "dump-conf", argument: .none),
        .init(short: "p", long: "pid", argument: .required),
        .init(short: "r", long: "vrrp_pid", argument: .required),
        .init(short: "T", long: "genhash", argument: .none),
        .init(short: "c", long: "checkers_pid", argument: .required),
        .init(short: "a", long: "address-monitoring", argument: .none),
        .init(short: "b", long: "bfd_pid", argument: .required),
        .init(short: "x", long: "snmp", argument: .none),
        .init(short: "A", long: "snmp-agent-socket", argument: .required),
        .init(short: "m", long: "core-dump", argument: .none),
        .init(short: "M", long: "core-dump-pattern", argument: .optional),
        .init(short: "e", long: "all-config", argument: .none),
        .init(short: "s", long: "namespace", argument: .required),
        .init(short: "i", long: "config-id", argument: .required),
        .init(short: nil, long: "signum", argument: .required),
        .init(short: "t", long: "config-test", argument: .optional),
        .init(short: nil, long: "config-fd", argument: .required),
        .init(short: "v", long: "version", argument: .none),
        .init(short: "h", long: "help", argument: .none),
        // Vigil's own.
        .init(short: nil, long: "runtime-dir", argument: .required),
        .init(short: nil, long: "metrics", argument: .required),
        .init(short: nil, long: "keepalived-log-names", argument: .none),
        .init(short: nil, long: "control-group", argument: .required),
        .init(short: nil, long: "role", argument: .required),
        .init(short: nil, long: "heartbeat-fd", argument: .required),
        .init(short: nil, long: "heartbeat-ms", argument: .required),
        .init(short: nil, long: "proc-events-fd", argument: .required),
        .init(short: nil, long: "gate-fd", argument: .required),
    ]

    /// The signal numbers keepalived's `--signum` prints (and Vigil's processes act on).
    public static func signalNumber(_ name: String) -> Int32? {
        switch name {
        case "STOP": SIGTERM
        case "RELOAD": SIGHUP
        case "DATA": SIGUSR1
        case "STATS": SIGUSR2
        case "STATS_CLEAR": Signals.statsClear
        case "JSON": Signals.json
        default: nil
        }
    }

    /// Parses the arguments after the program name.
    public static func parse(_ arguments: [String]) throws(CommandLineError) -> VigilCommand {
        if let first = arguments.first {
            let rest = Array(arguments.dropFirst())
            let wantsHelp = rest.contains("--help") || rest.contains("-h")
            switch first {
            case "lab":
                if wantsHelp { return .help(topic: .lab) }
                guard rest.isEmpty else { throw CommandLineError(message: "`vigil lab` takes no arguments") }
                return .lab
            case "lab-probe":
                guard rest.count == 3 else {
                    throw CommandLineError(message: "`vigil lab-probe` takes INTERFACE SOURCE TARGET")
                }
                return .labProbe(interface: rest[0], source: rest[1], target: rest[2])
            case "genhash":
                if wantsHelp { return .help(topic: .genhash) }
                return .genhash(rest)
            case "config":
                if wantsHelp { return .help(topic: .config) }
                return try parseConfig(rest)
            case "status", "reload":
                if wantsHelp { return .help(topic: first == "status" ? .status : .reload) }
                var request = first
                var directory = RuntimeDirectory.defaultPath
                var words = rest[...]
                while let word = words.popFirst() {
                    if word == "--json" && first == "status" {
                        request = "status json"
                    } else if word == "--runtime-dir" || word.hasPrefix("--runtime-dir=") {
                        let value = word.contains("=") ? String(word.drop { $0 != "=" }.dropFirst()) : words.popFirst()
                        guard let value, !value.isEmpty else {
                            throw CommandLineError(message: "--runtime-dir needs a directory")
                        }
                        directory = value
                    } else {
                        throw CommandLineError(message: "`vigil \(first)` takes \(first == "status" ? "--json and " : "")--runtime-dir=DIR, not '\(word)'; see vigil \(first) --help")
                    }
                }
                return .control(request: request, runtimeDirectory: directory)
            case "run":
                return try parseDaemon(rest)
            default:
                break
            }
        }
        return try parseDaemon(arguments)
    }

    static func parseConfig(_ arguments: [String]) throws(CommandLineError) -> VigilCommand {
        guard let action = arguments.first, ["dump", "time", "keywords"].contains(action) else {
            throw CommandLineError(message: "`vigil config` takes `dump`, `keywords` (or `time`); see vigil config --help")
        }
        if action == "keywords" {
            let rest = arguments.dropFirst()
            guard rest.allSatisfy({ $0 == "--markdown" }) else {
                throw CommandLineError(message: "`vigil config keywords` takes only --markdown")
            }
            return .configKeywords(markdown: !rest.isEmpty)
        }
        var json = false
        var repetitions = 5
        var others = [String]()
        var rest = arguments.dropFirst()[...]
        while let word = rest.popFirst() {
            switch word {
            case "--json": json = true
            case "--repeat":
                guard let value = rest.popFirst(), let count = Int(value), count > 0 else {
                    throw CommandLineError(message: "--repeat needs a count")
                }
                repetitions = count
            default:
                others.append(word)
            }
        }
        guard case .run(let options) = try parseDaemon(others) else {
            throw CommandLineError(message: "`vigil config \(action)` takes -f FILE and -i ID")
        }
        guard options.unexpectedArguments.isEmpty else {
            throw CommandLineError(message: "unexpected argument(s): \(options.unexpectedArguments.joined(separator: " "))")
        }
        return action == "dump"
            ? .configDump(options.config, json: json) : .configTime(options.config, repetitions: repetitions)
    }

    /// keepalived's getopt_long over the daemon's arguments. Like keepalived, every option is read before
    /// anything is refused: the errors (unknown options, missing values) come together, and then exit 1.
    static func parseDaemon(_ arguments: [String]) throws(CommandLineError) -> VigilCommand {
        var options = RunOptions()
        var errors = [String]()
        var words = arguments[...]
        var first = true
        while let word = words.popFirst() {
            defer { first = false }
            if word == "--" {
                options.unexpectedArguments += words
                break
            }
            if word.hasPrefix("--") {
                let body = word.dropFirst(2)
                let name = String(body.prefix { $0 != "=" })
                let attached: String? = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
                guard let spec = longOption(name) else {
                    errors.append("Unknown option \(word)")
                    continue
                }
                var value: String?
                switch spec.argument {
                case .none:
                    guard attached == nil else {
                        errors.append("Unknown option \(word)")
                        continue
                    }
                case .optional:
                    value = attached
                case .required:
                    value = attached ?? words.popFirst()
                    guard let given = value, !given.isEmpty else {
                        errors.append("Missing parameter for option --\(spec.long!)")
                        continue
                    }
                }
                if let early = try apply(spec, value, &options, first: first, rest: &words) { return early }
                continue
            }
            guard word.hasPrefix("-"), word.count > 1 else {
                options.unexpectedArguments.append(word)
                continue
            }
            // A cluster of short options: -nlD, -fFILE, -f FILE, -Mpattern.
            var letters = Substring(word.dropFirst())
            while let letter = letters.first {
                letters = letters.dropFirst()
                guard let spec = shortOption(letter) else {
                    errors.append("Unknown option -\(letter)")
                    continue
                }
                var value: String?
                switch spec.argument {
                case .none:
                    break
                case .optional:
                    value = letters.isEmpty ? nil : String(letters)
                    letters = ""
                case .required:
                    value = letters.isEmpty ? words.popFirst() : String(letters)
                    letters = ""
                    guard value != nil else {
                        errors.append("Missing parameter for option -\(letter)")
                        continue
                    }
                }
                if let early = try apply(spec, value, &options, first: first, rest: &words) { return early }
            }
        }
        guard errors.isEmpty else { throw CommandLineError(message: errors.joined(separator: "\n")) }
        return .run(options)
    }

    static func shortOption(_ letter: Character) -> OptionSpec? { options.first { $0.short == letter } }

    /// An exact long name, or a prefix of exactly one (glibc's rule).
    static func longOption(_ name: String) -> OptionSpec? {
        guard !name.isEmpty else { return nil }
        if let exact = options.first(where: { $0.long == name }) { return exact }
        let candidates = options.filter { $0.long?.hasPrefix(name) == true }
        return candidates.count == 1 ? candidates[0] : nil
    }

    /// The facility `-S` names: 0-7 or local0-local7 (LOG_LOCALn), daemon, user; nil for anything else.
    public static func syslogFacility(_ text: String) -> Int32? {
        if let number = Int32(text), (0...7).contains(number) { return (16 + number) << 3 }
        if text.hasPrefix("local"), let number = Int32(text.dropFirst(5)), (0...7).contains(number),
            text.count == 6
        {
            return (16 + number) << 3
        }
        if text == "daemon" { return 3 << 3 }
        if text == "user" { return 1 << 3 }
        return nil
    }

    /// Applies one option; returns a command that ends the parsing at once (help, version, signum, genhash).
    static func apply(
        _ spec: OptionSpec, _ value: String?, _ options: inout RunOptions, first: Bool, rest: inout ArraySlice<String>
    ) throws(CommandLineError) -> VigilCommand? {
        switch spec.name {
        case "use-file": options.config.file = value!
        case "config-id": options.config.configID = value!
        case "config-test":
            options.configTest = true
            options.configTestLog = value
        case "dont-fork": options.dontFork = true
        case "log-console": options.logConsole = true
        case "log-detail": options.logDetail += 1
        case "log-facility":
            if syslogFacility(value!) != nil {
                options.logFacility = value
            } else {
                options.warnings.append("Invalid log facility '\(value!)'")
            }
        case "no-syslog": options.noSyslog = true
        case "keepalived-log-names": options.keepalivedLogNames = true
        case "control-group": options.controlGroup = value!
        case "log-file": options.logFile = value ?? "/tmp/keepalived.log"
        case "vrrp": options.vrrpOnly = true
        case "check": options.checkOnly = true
        case "all":
            options.allChildren = true
            options.vrrpOnly = false
            options.checkOnly = false
        case "no_bfd": options.noBFD = true
        case "pid": options.pidFile = value
        case "vrrp_pid": options.vrrpPidFile = value
        case "checkers_pid": options.checkersPidFile = value
        case "bfd_pid": options.bfdPidFile = value
        case "dont-respawn": options.dontRespawn = true
        case "dont-release-vrrp": options.dontReleaseVRRP = true
        case "release-vips": options.releaseVIPs = true
        case "dont-release-ipvs": options.dontReleaseIPVS = true
        case "dump-conf": options.dumpConfiguration = true
        case "address-monitoring": options.addressMonitoring = true
        case "umask":
            if let mask = parseNumber(value!), (0...0o777).contains(mask) {
                options.umask = UInt32(mask)
            } else {
                options.warnings.append("Invalid --umask option \(value!)")
            }
        case "core-dump": options.coreDump = true
        case "core-dump-pattern":
            options.coreDump = true
            options.coreDumpPattern = value ?? "core"
        case "all-config": options.config.allIncludesRequired = true
        case "namespace": options.networkNamespace = value
        case "snmp": options.ignored.append("--snmp (Vigil has no SNMP agent; see vigil status and --metrics)")
        case "snmp-agent-socket": options.ignored.append("--snmp-agent-socket (Vigil has no SNMP agent)")
        case "config-fd": break  // keepalived's internal hand-over to its children; Vigil's read the file.
        case "signum": return .signalNumber(value!)
        case "genhash":
            if !first { options.warnings.append("Warning -- `-T` not used as first option, previous options ignored") }
            let command = VigilCommand.genhash(Array(rest))
            rest = []
            return command
        case "version": return .version
        case "help": return .help(topic: .daemon)
        case "runtime-dir": options.runtimeDirectory = value!
        case "metrics": options.metricsListen = value
        case "role": options.role = value
        case "heartbeat-fd", "heartbeat-ms", "proc-events-fd", "gate-fd":
            guard let number = Int(value!), number >= 0, number <= Int32.max else {
                throw CommandLineError(message: "--\(spec.name) needs a number")
            }
            switch spec.name {
            case "heartbeat-fd": options.heartbeatDescriptor = Int32(number)
            case "heartbeat-ms": options.heartbeatMilliseconds = number
            case "gate-fd": options.gateDescriptor = Int32(number)
            default: options.processEventsDescriptor = Int32(number)
            }
        default:
            throw CommandLineError(message: "option --\(spec.name) is in the table but not handled")
        }
        return nil
    }

    /// strtoll with base 0: decimal, 0x hexadecimal or 0 octal.
    static func parseNumber(_ text: String) -> Int? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return Int(text.dropFirst(2), radix: 16) }
        if text.hasPrefix("0") && text.count > 1 { return Int(text.dropFirst(), radix: 8) }
        return Int(text)
    }
}

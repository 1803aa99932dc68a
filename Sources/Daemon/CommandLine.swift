/// Vigil's command line: keepalived's flags (getopt style: `-nlD`, `-f FILE`, `-fFILE`, `--use-file=FILE`) for
/// running and testing, and a few subcommands of its own. Parsed by hand so that the daemon links no Foundation.
public enum VigilCommand: Equatable, Sendable {
    case run(RunOptions)
    case configDump(ConfigSource, json: Bool)
    case configTime(ConfigSource, repetitions: Int)
    /// `vigil config keywords [--markdown]`: every keyword keepalived accepts and what Vigil does with it.
    case configKeywords(markdown: Bool)
    case lab
    /// `vigil genhash URL`: the MD5 of a page, for a `digest` line.
    case genhash([String])
    /// `vigil status [--json]`, `vigil reload`: a request to the running VRRP process's control socket.
    case control(request: String, runtimeDirectory: String)
    case help
    case version
}

/// Which configuration to read.
public struct ConfigSource: Equatable, Sendable {
    public var file = "/etc/keepalived/keepalived.conf"
    public var configID: String?

    public init(file: String = "/etc/keepalived/keepalived.conf", configID: String? = nil) {
        self.file = file
        self.configID = configID
    }
}

/// keepalived's flags, and Vigil's own.
public struct RunOptions: Equatable, Sendable {
    public var config = ConfigSource()
    public var configTest = false
    public var dontFork = false
    public var logConsole = false
    public var logDetail = false
    public var logFacility: Int?
    public var vrrpOnly = false
    public var checkOnly = false
    public var pidFile: String?
    public var vrrpPidFile: String?
    public var checkersPidFile: String?
    public var dontRespawn = false
    public var dontReleaseVRRP = false
    public var runtimeDirectory = RuntimeDirectory.defaultPath
    /// `--metrics=ADDRESS:PORT`.
    public var metricsListen: String?
    /// `-g`/`--log-file=FILE`.
    public var logFile: String?
    /// Internal: which process this is (`vrrp` for the VRRP child); nil for the supervisor.
    public var role: String?
    /// Internal: the socket a child beats on for the supervisor's watchdog relay, and how often.
    public var heartbeatDescriptor: Int32?
    public var heartbeatMilliseconds: Int?
    /// keepalived flags Vigil accepts but does not act on, to be mentioned once at start.
    public var ignored: [String] = []

    public init() {}
}

public struct CommandLineError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension VigilCommand {
    public static let usage = """
        Usage: vigil [OPTION...]              run the daemon (as keepalived)
               vigil -t [-f FILE] [-i ID]     test a configuration: exit 0 clean, 4 cannot run,
                                              5 errors or warnings, 6 scripts without script security
               vigil config dump [--json] [-f FILE] [-i ID]
                                              the configuration as Vigil resolved it, passwords masked
               vigil config keywords [--markdown]
                                              every keepalived keyword and what Vigil does with it
               vigil status [--json] [--runtime-dir=DIR]
                                              every instance's state, priority, master and addresses
               vigil reload [--runtime-dir=DIR]
                                              read the configuration again (as SIGHUP)
               vigil lab                      demonstrate failover in network namespaces (root)
               vigil genhash URL              the MD5 of a page's body, for HTTP_GET's `digest`

        keepalived's options:
          -f, --use-file=FILE        the configuration file (default /etc/keepalived/keepalived.conf)
          -i, --config-id=ID         the id `@ID` lines are tested against (default: host name up to the first dot)
          -t, --config-test          check the configuration and exit
          -n, --dont-fork            stay in the foreground
          -l, --log-console          log to the console
          -D, --log-detail           detailed log messages
          -S, --log-facility=0-7     log to syslog facility local0-local7
          -g, --log-file=FILE        log to a file
          -P, --vrrp                 run only VRRP
          -C, --check                run only the health checkers
          -p, --pid=FILE             the supervisor's pid file
          -r, --vrrp_pid=FILE        the VRRP process's pid file
          -c, --checkers_pid=FILE    the checker process's pid file
          -R, --dont-respawn         do not restart a child process that dies
          -V, --dont-release-vrrp    leave the VIPs in place on exit
          -v, --version              print the version
          -h, --help                 print this help
        Vigil's options:
              --runtime-dir=DIR      private directory for pid files, dumps and the control socket
                                     (default /run/vigil)
              --metrics=ADDR:PORT    serve Prometheus metrics there (as `vigil_metrics_listen`)
        """

    /// Options that take a value, by short and long name.
    static let valued: [String: String] = [
        "f": "use-file", "i": "config-id", "S": "log-facility", "p": "pid", "r": "vrrp_pid", "c": "checkers_pid",
        "s": "namespace", "g": "log-file", "m": "core-dump-pattern", "A": "snmp-agent-socket",
    ]
    static let flags: [String: String] = [
        "t": "config-test", "n": "dont-fork", "l": "log-console", "D": "log-detail", "P": "vrrp", "C": "check",
        "R": "dont-respawn", "V": "dont-release-vrrp", "v": "version", "h": "help", "B": "no_bfd", "G": "no-syslog",
        "X": "release-vips", "I": "dont-release-ipvs", "d": "dump-conf", "a": "address-monitoring", "e": "all-config",
        "x": "snmp", "u": "dbus", "M": "core-dump",
    ]

    /// Parses the arguments after the program name.
    public static func parse(_ arguments: [String]) throws(CommandLineError) -> VigilCommand {
        if let first = arguments.first {
            switch first {
            case "lab":
                guard arguments.count == 1 else { throw CommandLineError(message: "`vigil lab` takes no arguments") }
                return .lab
            case "genhash":
                return .genhash(Array(arguments.dropFirst()))
            case "config":
                return try parseConfig(Array(arguments.dropFirst()))
            case "status", "reload":
                var options = RunOptions()
                var request = first
                var rest = arguments.dropFirst()[...]
                while let word = rest.popFirst() {
                    if word == "--json" && first == "status" {
                        request = "status json"
                    } else {
                        try parseOption(word, &rest, into: &options)
                    }
                }
                return .control(request: request, runtimeDirectory: options.runtimeDirectory)
            case "run":
                return .run(try parseRun(Array(arguments.dropFirst())))
            default:
                break
            }
        }
        var options = try parseRun(arguments)
        if options.ignored.contains("help") { return .help }
        if options.ignored.contains("version") { return .version }
        options.ignored.removeAll { $0 == "help" || $0 == "version" }
        return .run(options)
    }

    static func parseConfig(_ arguments: [String]) throws(CommandLineError) -> VigilCommand {
        guard let action = arguments.first, ["dump", "time", "keywords"].contains(action) else {
            throw CommandLineError(message: "`vigil config` takes `dump`, `keywords` (or `time`); see vigil --help")
        }
        if action == "keywords" {
            let rest = arguments.dropFirst()
            guard rest.allSatisfy({ $0 == "--markdown" }) else {
                throw CommandLineError(message: "`vigil config keywords` takes only --markdown")
            }
            return .configKeywords(markdown: !rest.isEmpty)
        }
        var options = RunOptions()
        var json = false
        var repetitions = 5
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
                try parseOption(word, &rest, into: &options)
            }
        }
        let source = options.config
        return action == "dump" ? .configDump(source, json: json) : .configTime(source, repetitions: repetitions)
    }

    static func parseRun(_ arguments: [String]) throws(CommandLineError) -> RunOptions {
        var options = RunOptions()
        var rest = arguments[...]
        while let word = rest.popFirst() {
            try parseOption(word, &rest, into: &options)
        }
        return options
    }

    /// One option word (and, for options with a value, possibly the next word).
    static func parseOption(
        _ word: String, _ rest: inout ArraySlice<String>, into options: inout RunOptions
    )
        throws(CommandLineError)
    {
        if word.hasPrefix("--") {
            let body = word.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            var value: String? = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
            switch name {
            case "runtime-dir", "role", "metrics", "heartbeat-fd", "heartbeat-ms":
                if value == nil { value = rest.popFirst() }
                guard let value else { throw CommandLineError(message: "--\(name) needs a value") }
                switch name {
                case "runtime-dir": options.runtimeDirectory = value
                case "metrics": options.metricsListen = value
                case "heartbeat-fd", "heartbeat-ms":
                    guard let number = Int(value), number >= 0 else {
                        throw CommandLineError(message: "--\(name) needs a number")
                    }
                    if name == "heartbeat-fd" {
                        options.heartbeatDescriptor = Int32(number)
                    } else {
                        options.heartbeatMilliseconds = number
                    }
                default: options.role = value
                }
                return
            case "config-test":
                options.configTest = true  // keepalived's optional log file is not used
                return
            default:
                break
            }
            if valued.values.contains(name) {
                if value == nil { value = rest.popFirst() }
                guard let value else { throw CommandLineError(message: "--\(name) needs a value") }
                try apply(name, value, &options)
            } else if flags.values.contains(name) {
                try apply(name, nil, &options)
            } else {
                throw CommandLineError(message: "unknown option --\(name); see vigil --help")
            }
            return
        }
        guard word.hasPrefix("-"), word.count > 1 else {
            throw CommandLineError(message: "unexpected argument '\(word)'; see vigil --help")
        }
        // A cluster of short options: -nlD, or -fFILE, or -f FILE.
        var letters = Substring(word.dropFirst())
        while let letter = letters.first.map(String.init) {
            letters = letters.dropFirst()
            if let long = valued[letter] {
                let value = letters.isEmpty ? rest.popFirst() : String(letters)
                guard let value else { throw CommandLineError(message: "-\(letter) needs a value") }
                try apply(long, value, &options)
                return
            } else if let long = flags[letter] {
                try apply(long, nil, &options)
            } else {
                throw CommandLineError(message: "unknown option -\(letter); see vigil --help")
            }
        }
    }

    static func apply(_ name: String, _ value: String?, _ options: inout RunOptions) throws(CommandLineError) {
        switch name {
        case "use-file": options.config.file = value!
        case "config-id": options.config.configID = value!
        case "config-test": options.configTest = true
        case "dont-fork": options.dontFork = true
        case "log-console": options.logConsole = true
        case "log-detail": options.logDetail = true
        case "log-facility":
            guard let facility = Int(value!), (0...7).contains(facility) else {
                throw CommandLineError(message: "-S takes a facility from 0 to 7 (local0-local7)")
            }
            options.logFacility = facility
        case "vrrp": options.vrrpOnly = true
        case "check": options.checkOnly = true
        case "pid": options.pidFile = value
        case "vrrp_pid": options.vrrpPidFile = value
        case "checkers_pid": options.checkersPidFile = value
        case "dont-respawn": options.dontRespawn = true
        case "dont-release-vrrp": options.dontReleaseVRRP = true
        case "log-file": options.logFile = value
        default: options.ignored.append(name)
        }
    }
}

import Testing

@testable import Daemon

@Suite("Command line: keepalived's flags")
struct CommandLineTests {
    func run(_ arguments: String) throws -> RunOptions {
        guard case .run(let options) = try VigilCommand.parse(arguments.split(separator: " ").map(String.init)) else {
            Issue.record("not a run command")
            return RunOptions()
        }
        return options
    }

    @Test("keepalived's usual invocation")
    func usual() throws {
        let options = try run("-n -l -D -f /etc/k.conf -p /run/k.pid -r /run/v.pid -c /run/c.pid -i lb01")
        #expect(options.dontFork && options.logConsole && options.logDetail)
        #expect(options.config == ConfigSource(file: "/etc/k.conf", configID: "lb01"))
        #expect(
            options.pidFile == "/run/k.pid" && options.vrrpPidFile == "/run/v.pid"
                && options.checkersPidFile == "/run/c.pid")
    }

    @Test("clustered short flags, attached values, long forms with =")
    func forms() throws {
        let options = try run("-nlDP -f/etc/x.conf --config-id=node9 --log-facility 3 --runtime-dir=/tmp/r")
        #expect(options.dontFork && options.logConsole && options.logDetail && options.vrrpOnly)
        #expect(options.config.file == "/etc/x.conf")
        #expect(options.config.configID == "node9")
        #expect(options.logFacility == 3)
        #expect(options.runtimeDirectory == "/tmp/r")
        #expect(try run("-t").configTest)
        #expect(try run("--config-test=/tmp/log").configTest)
    }

    @Test("keepalived flags Vigil does not act on are accepted and listed")
    func ignored() throws {
        #expect(try run("-x -a --snmp").ignored == ["snmp", "address-monitoring", "snmp"])
    }

    @Test("subcommands, help and version")
    func subcommands() throws {
        #expect(try VigilCommand.parse(["lab"]) == .lab)
        #expect(try VigilCommand.parse(["--help"]) == .help)
        #expect(try VigilCommand.parse(["-v"]) == .version)
        #expect(
            try VigilCommand.parse(["config", "dump", "--json", "-f", "x.conf"])
                == .configDump(ConfigSource(file: "x.conf"), json: true))
    }

    @Test("mistakes are errors that say what is wrong")
    func mistakes() {
        #expect(throws: CommandLineError.self) { try VigilCommand.parse(["-q"]) }
        #expect(throws: CommandLineError.self) { try VigilCommand.parse(["-f"]) }
        #expect(throws: CommandLineError.self) { try VigilCommand.parse(["--nope"]) }
        #expect(throws: CommandLineError.self) { try VigilCommand.parse(["-S", "9"]) }
        #expect(throws: CommandLineError.self) { try VigilCommand.parse(["stray"]) }
    }
}

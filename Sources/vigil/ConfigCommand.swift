import ArgumentParser
import VigilConfig

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Look at a configuration.",
        subcommands: [Dump.self]
    )

    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the configuration as Vigil resolved it: defaults filled in, passwords masked.")

        @OptionGroup var config: ConfigOptions

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let result = config.load()
            printDiagnostics(result.diagnostics)
            if result.diagnostics.contains(where: { $0.severity == .fatal }) { throw ExitCode(4) }
            let dump = ConfigurationDump.render(result.configuration)
            print(json ? dump.json() : dump.text())
        }
    }
}

import ArgumentParser
import VigilConfig

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Look at a configuration.",
        subcommands: [Dump.self, Time.self]
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

    /// Times reading the configuration in-process, without process start-up: the config-load benchmark.
    struct Time: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the median time to read and validate the configuration, in milliseconds.",
            shouldDisplay: false)

        @OptionGroup var config: ConfigOptions

        @Option(help: "How many times to read it.")
        var `repeat` = 5

        func run() throws {
            var samples = [Duration]()
            let clock = ContinuousClock()
            for _ in 0..<max(1, `repeat`) {
                samples.append(clock.measure { _ = config.load(environment: LocalEnvironment()) })
            }
            samples.sort()
            let median = samples[samples.count / 2]
            let (seconds, attoseconds) = median.components
            let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
            print("\((milliseconds * 10).rounded() / 10) ms")
        }
    }
}

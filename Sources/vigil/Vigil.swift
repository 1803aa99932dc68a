import ArgumentParser
import VigilConfig

#if canImport(Glibc)
    import Glibc
#endif

@main
struct Vigil: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "A keepalived-compatible high-availability daemon: VRRP, health checks, load balancing.",
        version: VigilVersion.text,
        subcommands: [RunCommand.self, ConfigCommand.self, LabCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

enum VigilVersion {
    static let number = "0.1.0"
    static let text = "Vigil v\(number) (keepalived 2.2.7 compatible)"
}

/// keepalived's default config id: the host name up to its first dot.
func defaultConfigID() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return String(name.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
}

/// Writes a line to standard error.
func printError(_ text: String) {
    var line = text
    line.append("\n")
    line.withUTF8 { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
            if written <= 0 { break }
            offset += written
        }
    }
}

/// The options every command that reads a configuration shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("use-file")], help: "The configuration file.")
    var file = "/etc/keepalived/keepalived.conf"

    @Option(name: [.customShort("i"), .customLong("config-id")], help: "The id `@ID` lines are tested against.")
    var configID: String?

    func load(environment: any ValidationEnvironment = OfflineEnvironment()) -> ConfigLoader.Result {
        var system = SystemRandomNumberGenerator()
        let seed = system.next()
        let options = ConfigLoader.Options(
            configID: configID ?? defaultConfigID(), randomSeed: seed, environment: environment)
        return ConfigLoader.load(path: file, options: options)
    }
}

/// Prints diagnostics the way compilers do, one per line, to standard error.
func printDiagnostics(_ diagnostics: [Diagnostic]) {
    for diagnostic in diagnostics {
        let location = diagnostic.location
        let place = location.line > 0 ? "\(location.file):\(location.line):\(location.column)" : location.file
        printError("\(place): \(diagnostic.severity.rawValue): \(diagnostic.message)")
    }
}

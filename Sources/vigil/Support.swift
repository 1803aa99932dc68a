import Daemon
import Glibc
import VigilConfig

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

/// Reads a configuration.
func load(_ source: ConfigSource, environment: any ValidationEnvironment = OfflineEnvironment()) -> ConfigLoader.Result
{
    var system = SystemRandomNumberGenerator()
    var options = ConfigLoader.Options(
        configID: source.configID ?? defaultConfigID(), randomSeed: system.next(), environment: environment)
    options.allIncludesRequired = source.allIncludesRequired
    return ConfigLoader.load(path: source.file, options: options)
}

/// Prints diagnostics the way compilers do, one per line, to standard error.
func printDiagnostics(_ diagnostics: [Diagnostic]) {
    for diagnostic in diagnostics {
        let location = diagnostic.location
        let place = location.line > 0 ? "\(location.file):\(location.line):\(location.column)" : location.file
        printError("\(place): \(diagnostic.severity.rawValue): \(diagnostic.message)")
    }
}

/// `vigil config time`: the median time to read and validate the configuration, in milliseconds (the
/// config-load benchmark), without process start-up.
func timeConfig(_ source: ConfigSource, repetitions: Int) -> Int32 {
    var samples = [Duration]()
    let clock = ContinuousClock()
    for _ in 0..<max(1, repetitions) {
        samples.append(clock.measure { _ = load(source, environment: HostEnvironment()) })
    }
    samples.sort()
    let (seconds, attoseconds) = samples[samples.count / 2].components
    let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
    print("\((milliseconds * 10).rounded() / 10) ms")
    return 0
}

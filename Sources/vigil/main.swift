import Daemon
import Glibc
import VigilConfig

let command: VigilCommand
do {
    command = try VigilCommand.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    printError("\(error)")
    exit(1)
}

switch command {
case .help(let topic):
    // keepalived prints its help and version on standard error; subcommands' help goes to standard output.
    if topic == .daemon { printError(topic.text) } else { print(topic.text) }
case .version:
    printError(VigilVersion.text)
case .signalNumber(let name):
    guard let number = VigilCommand.signalNumber(name) else {
        printError("Unknown sigfunc \(name)")
        exit(1)
    }
    print(number)
case .run(let options):
    exit(Run(options: options).main())
case .configDump(let source, let json):
    let result = load(source)
    printDiagnostics(result.diagnostics)
    if result.diagnostics.contains(where: { $0.severity == .fatal }) { exit(4) }
    let dump = ConfigurationDump.render(result.configuration)
    print(json ? dump.json() : dump.text())
case .configKeywords(let markdown):
    if markdown {
        print(KeywordInventory.markdownTable(), terminator: "")
    } else {
        for entry in KeywordInventory.entries {
            print("\(entry.context) \(entry.keyword): \(entry.support.state): \(entry.support.detail)")
        }
        print(KeywordInventory.counts().map { "\($0.count) \($0.state)" }.joined(separator: ", "))
    }
case .configTime(let source, let repetitions):
    exit(timeConfig(source, repetitions: repetitions))
case .lab:
    exit(runLab())
case .labProbe(let interface, let source, let target):
    exit(labProbe(interface: interface, source: source, target: target))
case .genhash(let arguments):
    exit(genhash(arguments))
case .control(let request, let runtimeDirectory):
    exit(control(request, runtimeDirectory: runtimeDirectory))
}

import Daemon
import Glibc
import VigilConfig

let command: VigilCommand
do {
    command = try VigilCommand.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    printError("vigil: \(error)")
    exit(1)
}

switch command {
case .help:
    print(VigilCommand.usage)
case .version:
    print(VigilVersion.text)
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
case .genhash(let arguments):
    exit(genhash(arguments))
case .control(let request, let runtimeDirectory):
    exit(control(request, runtimeDirectory: runtimeDirectory))
}

/// Reads a keepalived configuration from start to end: preprocess, parse, build the typed model, validate.
public enum ConfigLoader {
    public struct Options: Sendable {
        public var configID: String
        public var randomSeed: UInt64
        public var fileSystem: any ConfigFileSystem
        public var environment: any ValidationEnvironment
        /// `-e`/`--all-config`: a missing include is reported as `includet` would report it.
        public var allIncludesRequired = false

        public init(
            configID: String, randomSeed: UInt64 = 0x5eed, fileSystem: any ConfigFileSystem = LocalFileSystem(),
            environment: any ValidationEnvironment = OfflineEnvironment()
        ) {
            self.configID = configID
            self.randomSeed = randomSeed
            self.fileSystem = fileSystem
            self.environment = environment
        }
    }

    public struct Result: Sendable {
        public var configuration: Configuration
        /// Every diagnostic, in the order of the files' lines.
        public var diagnostics: [Diagnostic]

        /// keepalived 2.2.7's `-t` exit code: 0 clean; 4 cannot run (missing file, fatal error); 6 scripts
        /// without script security; 5 any other error or warning. Notes do not count.
        public var configTestExitCode: Int32 {
            if diagnostics.contains(where: { $0.severity == .fatal }) { return 4 }
            if diagnostics.contains(where: { $0.code == .scriptSecurity }) { return 6 }
            if diagnostics.contains(where: { $0.severity >= .warning }) { return 5 }
            return 0
        }

        public var hasErrors: Bool { diagnostics.contains { $0.severity >= .error } }

        /// What refuses a reload in every process: fatal diagnostics, and errors other than script security's
        /// (keepalived then runs on without the script, so a reload does too).
        public var reloadBlockers: [Diagnostic] {
            diagnostics.filter { $0.severity == .fatal || ($0.severity == .error && $0.code != .scriptSecurity) }
        }
    }

    public static func load(path: String, options: Options) -> Result {
        let stream = StreamingBuild(routingNames: RoutingNames(fileSystem: options.fileSystem))
        let preprocessing = Preprocessor.run(path: path, options: preprocessorOptions(options), into: stream)
        if preprocessing.contains(where: { $0.severity == .fatal }) {
            return Result(configuration: Configuration(), diagnostics: preprocessing)
        }
        return finish(stream, preprocessing, options)
    }

    public static func load(text: String, name: String = "keepalived.conf", options: Options) -> Result {
        let stream = StreamingBuild(routingNames: RoutingNames(fileSystem: options.fileSystem))
        let preprocessing = Preprocessor.run(
            text: text, name: name, options: preprocessorOptions(options), into: stream)
        return finish(stream, preprocessing, options)
    }

    private static func preprocessorOptions(_ options: Options) -> Preprocessor.Options {
        var preprocessor = Preprocessor.Options(
            configID: options.configID, randomSeed: options.randomSeed, fileSystem: options.fileSystem)
        preprocessor.allIncludesRequired = options.allIncludesRequired
        return preprocessor
    }

    /// The file goes through every stage a line and a statement at a time: each logical line is lexed as the
    /// preprocessor makes it, and each top-level statement is built as soon as it is complete and then let go, so a
    /// large file's lines and statement tree are never whole in memory; only the model is.
    final class StreamingBuild: LogicalLineConsumer {
        var parser = Parser()
        var builder: ConfigurationBuilder
        /// Files in the order they were read, for sorting the diagnostics.
        var fileRank = [String: Int]()

        init(routingNames: RoutingNames) { builder = ConfigurationBuilder(routingNames: routingNames) }

        func take(_ line: LogicalLine) {
            if fileRank[line.location.file] == nil { fileRank[line.location.file] = fileRank.count }
            parser.feed(line) { builder.buildTopLevel([$0]) }
        }
    }

    private static func finish(_ stream: StreamingBuild, _ preprocessing: [Diagnostic], _ options: Options) -> Result {
        let parsing = stream.parser.end { stream.builder.buildTopLevel([$0]) }
        var fileRank = stream.fileRank
        var built = Configuration()
        swap(&built, &stream.builder.configuration)
        let building = stream.builder.diagnostics
        // Handed over, not shared: the validator's first write to a shared array would copy it.
        let (configuration, validation) = Validator.validate(consume built, environment: options.environment)
        let all = preprocessing + parsing + building + validation
        for diagnostic in all where fileRank[diagnostic.location.file] == nil {
            fileRank[diagnostic.location.file] = fileRank.count
        }
        let diagnostics = all.enumerated().sorted { a, b in
            let (x, y) = (a.element.location, b.element.location)
            return (fileRank[x.file]!, x.line, x.column, a.offset) < (fileRank[y.file]!, y.line, y.column, b.offset)
        }.map(\.element)
        return Result(configuration: configuration, diagnostics: diagnostics)
    }
}

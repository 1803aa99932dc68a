/// keepalived's line preprocessor: comments, `include`, `@ID` conditional lines, `$NAME=` parameters and their
/// substitution, and `~SEQ` / `~SEQx` / `~LST` repetition. It turns the files into the logical lines the lexer
/// reads, each still carrying the file and line it came from.
///
/// Order for each line, as keepalived does it: strip the comment; keep or drop an `@ID` line; store a `$NAME=`
/// definition; unroll a `~SEQ`/`~LST` line; substitute parameters (and repeat these steps if the result needs it);
/// finally open an `include`.
/// Takes logical lines as the preprocessor makes them.
public protocol LogicalLineConsumer: AnyObject {
    func take(_ line: LogicalLine)
}

public struct Preprocessor {
    public struct Options: Sendable {
        /// The `@ID` every conditional line is tested against (`-i`; keepalived's default is the host name up to
        /// its first dot).
        public var configID: String
        /// Seeds `${_RANDOM}`.
        public var randomSeed: UInt64
        public var fileSystem: any ConfigFileSystem
        /// `-e`/`--all-config`: every include is checked, as `includet` would check it.
        public var allIncludesRequired = false

        public init(configID: String, randomSeed: UInt64 = 0x5eed, fileSystem: any ConfigFileSystem = LocalFileSystem())
        {
            self.configID = configID
            self.randomSeed = randomSeed
            self.fileSystem = fileSystem
        }
    }

    /// keepalived reads no more than this many bytes as one line; Vigil reads longer lines whole.
    public static let keepalivedLineLimit = 1023
    /// Includes nested deeper than this are refused (keepalived recurses until it runs out of file descriptors).
    public static let maximumIncludeDepth = 32
    /// A line whose parameter expansion grows past this is cut off: a definition that refers to itself.
    public static let maximumExpandedLength = 1 << 16
    /// `~SEQ` and `~LST` together may produce at most this many lines from one line.
    public static let maximumRepetitions = 1 << 20

    private let options: Options
    private var definitions: [String: [UInt8]] = [:]
    private var random: SplitMix64
    private var lines: [LogicalLine] = []
    /// Where lines go as they are made, when the caller streams them (`run(path:options:into:)`); else `lines`.
    private var consumer: (any LogicalLineConsumer)?
    private var diagnostics: [Diagnostic] = []
    /// Canonical paths of the files being read, outermost first, to refuse include loops.
    private var includeStack: [String] = []
    /// An open multi-line definition: its name, its value so far.
    private var pendingDefinition: (name: String, value: [UInt8], location: SourceLocation)?
    /// The directory of the file being read, for `${_PWD}` and relative includes.
    private var currentDirectory = "/"

    public init(options: Options) {
        self.options = options
        self.random = SplitMix64(seed: options.randomSeed)
    }

    /// Reads `path` and everything it includes. A missing or unreadable main file is a fatal diagnostic.
    public static func run(path: String, options: Options) -> (lines: [LogicalLine], diagnostics: [Diagnostic]) {
        var preprocessor = Preprocessor(options: options)
        preprocessor.readMain(path)
        return (preprocessor.lines, preprocessor.diagnostics)
    }

    /// Reads `path` and everything it includes, handing each logical line to `consumer` as soon as it is made: the
    /// lines of a large file are never all in memory.
    public static func run(path: String, options: Options, into consumer: any LogicalLineConsumer) -> [Diagnostic] {
        var preprocessor = Preprocessor(options: options)
        preprocessor.consumer = consumer
        preprocessor.readMain(path)
        return preprocessor.diagnostics
    }

    /// As `run(text:name:options:)`, streaming the lines to `consumer`.
    public static func run(
        text: String, name: String, options: Options, into consumer: any LogicalLineConsumer
    ) -> [Diagnostic] {
        var preprocessor = Preprocessor(options: options)
        preprocessor.consumer = consumer
        preprocessor.currentDirectory = options.fileSystem.currentDirectory()
        preprocessor.read(bytes: Array(text.utf8), file: name)
        preprocessor.finishDefinition()
        return preprocessor.diagnostics
    }

    private mutating func emit(_ line: LogicalLine) {
        if let consumer { consumer.take(line) } else { lines.append(line) }
    }

    /// Preprocesses text that did not come from a file (tests, `vigil -t -` on standard input).
    public static func run(
        text: String, name: String, options: Options
    ) -> (
        lines: [LogicalLine], diagnostics: [Diagnostic]
    ) {
        var preprocessor = Preprocessor(options: options)
        preprocessor.currentDirectory = options.fileSystem.currentDirectory()
        preprocessor.read(bytes: Array(text.utf8), file: name)
        preprocessor.finishDefinition()
        return (preprocessor.lines, preprocessor.diagnostics)
    }

    // MARK: - Files

    private mutating func readMain(_ path: String) {
        let fileSystem = options.fileSystem
        let matches = fileSystem.glob(path)
        let paths = matches.isEmpty ? [path] : matches
        currentDirectory = fileSystem.currentDirectory()
        for file in paths {
            var failure: ConfigFileError?
            do {
                let pieces = try fileSystem.pieces(of: file)
                withFile(file) { $0.read(pieces, file: file) }
                failure = pieces.failure
            } catch {
                failure = error
            }
            if let failure {
                diagnostics.append(
                    Diagnostic(
                        .fatal, .fileNotFound, at: SourceLocation(file: file, line: 0, column: 0),
                        "cannot read the configuration file: \(failure.explanation); give an existing file with -f"))
            }
        }
        finishDefinition()
    }

    /// Runs `body` with `file` as the current file: its directory for relative includes, its path on the stack.
    private mutating func withFile(_ file: String, _ body: (inout Preprocessor) -> Void) {
        let saved = currentDirectory
        let absolute = file.hasPrefix("/") ? file : Self.join(currentDirectory, file)
        // Like keepalived's chdir into the file's directory: relative includes and ${_PWD} follow the real path.
        let canonical = options.fileSystem.canonicalPath(absolute) ?? absolute
        currentDirectory = Self.directory(of: canonical)
        includeStack.append(canonical)
        body(&self)
        includeStack.removeLast()
        currentDirectory = saved
    }

    private mutating func read(bytes: [UInt8], file: String) {
        read(ConfigFilePieces(bytes: bytes), file: file)
    }

    /// Reads a file's lines as its pieces arrive: only a line that spans two pieces is copied.
    private mutating func read(_ pieces: ConfigFilePieces, file: String) {
        let fileID = SourceFiles.id(of: file)
        var lineNumber = 0
        var reportedBinary = false
        func line(_ text: ArraySlice<UInt8>) {
            lineNumber += 1
            var lineEnd = text.endIndex
            while lineEnd > text.startIndex && (text[lineEnd - 1] == 0x0d) { lineEnd -= 1 }
            if pendingDefinition == nil, let plain = Self.plainLine(text[text.startIndex..<lineEnd]) {
                if !plain.isEmpty {
                    let location = SourceLocation(
                        fileID: fileID, line: lineNumber, column: 1 + plain.startIndex - text.startIndex)
                    emit(LogicalLine(bytes: plain, location: location))
                }
                return
            }
            var physical = Array(text[text.startIndex..<lineEnd])
            if let nul = physical.firstIndex(of: 0) {
                if !reportedBinary {
                    diagnostics.append(
                        Diagnostic(
                            .error, .binaryContent, at: SourceLocation(file: file, line: lineNumber, column: nul + 1),
                            "the line holds a NUL byte, so this is probably not a text file; the rest of the line is ignored"
                        ))
                    reportedBinary = true
                }
                physical.removeSubrange(nul...)
            }
            processPhysical(physical, SourceLocation(fileID: fileID, line: lineNumber, column: 1))
        }
        var carried = [UInt8]()
        while let piece = pieces.next() {
            var start = piece.startIndex
            if !carried.isEmpty {
                guard let newline = piece.firstIndex(of: 0x0a) else {
                    carried += piece
                    continue
                }
                carried += piece[start..<newline]
                line(carried[...])
                carried.removeAll(keepingCapacity: true)
                start = newline + 1
            }
            while let newline = piece[start...].firstIndex(of: 0x0a) {
                line(piece[start..<newline])
                start = newline + 1
            }
            carried += piece[start...]
        }
        if !carried.isEmpty { line(carried[...]) }
    }

    // MARK: - Lines

    private mutating func processPhysical(_ physical: [UInt8], _ location: SourceLocation) {
        var (text, trailingBackslash) = Self.decomment(physical)
        var location = location
        location.column = 1 + (physical.firstIndex { $0 != 0x20 && $0 != 0x09 } ?? 0)
        if var pending = pendingDefinition {
            // A blank line ends a multi-line definition; a comment-only line does not.
            if Self.isBlankLine(physical) {
                finishDefinition()
                return
            }
            if text.isEmpty && !trailingBackslash { return }
            pending.value.append(0x0a)
            pending.value.append(contentsOf: text)
            pendingDefinition = pending
            if !trailingBackslash { finishDefinition() }
            return
        }
        if trailingBackslash { text.append(UInt8(ascii: "\\")) }
        guard !text.isEmpty else { return }
        process(text, location, depth: 0)
    }

    /// The steps every logical line goes through, also lines produced by `~SEQ` and multi-line definitions.
    private mutating func process(_ input: [UInt8], _ location: SourceLocation, depth: Int) {
        var text = input
        var rounds = 0
        // Lines a multi-line definition adds after this one.
        var following = [[UInt8]]()
        defer { for extra in following { process(extra, location, depth: depth + 1) } }
        while true {
            rounds += 1
            guard let first = text.first else { return }
            if first == UInt8(ascii: "@") {
                guard let kept = applyCondition(text) else { return }
                text = kept
                continue
            }
            if first == UInt8(ascii: "$"), defineParameter(text, location) { return }
            if first == UInt8(ascii: "~") {
                if repeatLine(text, location, depth: depth) { return }
                // Any other `~` line goes on unchanged; it will be an unknown keyword.
                break
            }
            guard text.contains(UInt8(ascii: "$")) else { break }
            let (expanded, extraLines, changed) = substitute(text, location)
            guard changed else { break }
            var (decommented, backslash) = Self.decomment(expanded)
            if backslash { decommented.append(UInt8(ascii: "\\")) }
            text = decommented
            following += extraLines
            if rounds > 64 {
                diagnostics.append(
                    Diagnostic(
                        .error, .parameterRecursion, at: location,
                        "parameter substitution keeps producing new parameters; check the definitions used on this line"
                    ))
                break
            }
            if text.first == UInt8(ascii: "@") || text.first == UInt8(ascii: "~")
                || (text.first == UInt8(ascii: "$") && Self.definitionName(text) != nil)
            {
                continue
            }
            break
        }
        guard !text.isEmpty else { return }
        if let (pattern, strict) = Self.includePattern(text) {
            include(pattern, strict: strict || options.allIncludesRequired, location)
            return
        }
        emit(LogicalLine(bytes: text, location: location))
    }

    // MARK: - Comments

    /// The line without its leading and trailing blanks when it needs no preprocessing at all: no comment, no
    /// escape, no parameter, not a conditional, sequence or include line. Most lines of a real file are like this
    /// and become logical lines without a copy.
    static func plainLine(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var start = line.startIndex
        while start < line.endIndex && (line[start] == 0x20 || line[start] == 0x09) { start += 1 }
        guard start < line.endIndex else { return line[start..<start] }
        switch line[start] {
        case UInt8(ascii: "@"), UInt8(ascii: "$"), UInt8(ascii: "~"): return nil
        case UInt8(ascii: "i") where line[start...].starts(with: "include".utf8): return nil
        default: break
        }
        var end = start
        for index in start..<line.endIndex {
            switch line[index] {
            case UInt8(ascii: "#"), UInt8(ascii: "!"), UInt8(ascii: "\\"), UInt8(ascii: "$"), 0: return nil
            case 0x20, 0x09: break
            default: end = index + 1
            }
        }
        return line[start..<end]
    }

    /// Strips leading blanks, the comment and trailing blanks; unescapes `\#` and `\!` outside double quotes.
    /// Returns whether the line ended in a backslash (which is removed, with the blanks before it).
    static func decomment(_ bytes: [UInt8]) -> (text: [UInt8], trailingBackslash: Bool) {
        var start = 0
        while start < bytes.count && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count - start)
        var inQuote = false
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                inQuote.toggle()
            } else if byte == UInt8(ascii: "\\") && index + 1 < bytes.count {
                let next = bytes[index + 1]
                if !inQuote && (next == UInt8(ascii: "#") || next == UInt8(ascii: "!")) {
                    out.append(next)
                } else {
                    out.append(byte)
                    out.append(next)
                }
                index += 2
                continue
            } else if !inQuote && (byte == UInt8(ascii: "#") || byte == UInt8(ascii: "!")) {
                break
            }
            out.append(byte)
            index += 1
        }
        while let last = out.last, last == 0x20 || last == 0x09 { out.removeLast() }
        var backslash = false
        if out.last == UInt8(ascii: "\\") {
            backslash = true
            out.removeLast()
            while let last = out.last, last == 0x20 || last == 0x09 { out.removeLast() }
        }
        return (out, backslash)
    }

    static func isBlankLine(_ bytes: [UInt8]) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }

    // MARK: - @ID

    /// `@ID rest` keeps `rest` only when ID is the config id; `@^ID rest` only when it is not.
    private func applyCondition(_ text: [UInt8]) -> [UInt8]? {
        var index = 1
        var negate = false
        if index < text.count && text[index] == UInt8(ascii: "^") {
            negate = true
            index += 1
        }
        let idStart = index
        while index < text.count && text[index] != 0x20 && text[index] != 0x09 { index += 1 }
        let id = String(decoding: text[idStart..<index], as: UTF8.self)
        while index < text.count && (text[index] == 0x20 || text[index] == 0x09) { index += 1 }
        guard index < text.count else { return nil }
        let matches = id == options.configID
        return matches != negate ? Array(text[index...]) : nil
    }

    // MARK: - $NAME=VALUE

    /// The name of a `$NAME=` definition line, or nil when the line is not one.
    static func definitionName(_ text: [UInt8]) -> String? {
        guard text.count >= 2, text[0] == UInt8(ascii: "$"), isNameStart(text[1]) else { return nil }
        var index = 2
        while index < text.count && isNameCharacter(text[index]) { index += 1 }
        guard index < text.count, text[index] == UInt8(ascii: "=") else { return nil }
        return String(decoding: text[1..<index], as: UTF8.self)
    }

    private mutating func defineParameter(_ text: [UInt8], _ location: SourceLocation) -> Bool {
        guard let name = Self.definitionName(text) else { return false }
        var index = name.utf8.count + 2
        while index < text.count && (text[index] == 0x20 || text[index] == 0x09) { index += 1 }
        var value = Array(text[index...])
        if value.last == UInt8(ascii: "\\") {
            value.removeLast()
            while let last = value.last, last == 0x20 || last == 0x09 { value.removeLast() }
            pendingDefinition = (name, value, location)
        } else {
            definitions[name] = value
        }
        return true
    }

    private mutating func finishDefinition() {
        guard let pending = pendingDefinition else { return }
        definitions[pending.name] = pending.value
        pendingDefinition = nil
    }

    @inline(__always) static func isNameStart(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte == 0x5f
    }
    @inline(__always) static func isNameCharacter(_ byte: UInt8) -> Bool {
        isNameStart(byte) || (byte >= 0x30 && byte <= 0x39)
    }

    // MARK: - Substitution

    /// Replaces `$NAME` (when followed by blank, `,`, `)` or the end) and `${NAME}` anywhere, recursively.
    /// A multi-line definition expands only at the end of a line: its first line joins the text before it and
    /// its later lines come back as `extraLines`. Undefined names stay as written.
    private mutating func substitute(
        _ text: [UInt8], _ location: SourceLocation
    ) -> (
        [UInt8], extraLines: [[UInt8]], changed: Bool
    ) {
        var out = text
        var extra = [[UInt8]]()
        var changed = false
        var index = 0
        var replacements = 0
        while index < out.count {
            guard out[index] == UInt8(ascii: "$") else {
                index += 1
                continue
            }
            guard let (name, arguments, end) = Self.reference(in: out, at: index) else {
                index += 1
                continue
            }
            guard let value = lookup(name, arguments: arguments) else {
                index = end
                continue
            }
            replacements += 1
            if replacements > 10_000 || out.count > Self.maximumExpandedLength {
                diagnostics.append(
                    Diagnostic(
                        .error, .parameterRecursion, at: location,
                        "the parameter $\(name) expands without end (does its definition refer to itself?); the rest of the line is dropped"
                    ))
                out.removeSubrange(index...)
                return (out, extra, true)
            }
            changed = true
            if let newline = value.firstIndex(of: 0x0a) {
                guard end == out.count else {
                    // keepalived expands a multi-line definition only at the end of a line.
                    index = end
                    continue
                }
                let rest = value[(newline + 1)...].split(separator: 0x0a, omittingEmptySubsequences: false)
                extra.append(contentsOf: rest.map(Array.init))
                out.replaceSubrange(index..<end, with: value[..<newline])
            } else {
                out.replaceSubrange(index..<end, with: value)
            }
            // Go on from the start of the inserted text: definitions may use other definitions.
        }
        return (out, extra, changed)
    }

    /// Finds a parameter reference starting at `index` (`$NAME` or `${NAME [args]}`).
    static func reference(in text: [UInt8], at index: Int) -> (name: String, arguments: [Int], end: Int)? {
        var cursor = index + 1
        guard cursor < text.count else { return nil }
        if text[cursor] == UInt8(ascii: "{") {
            cursor += 1
            let nameStart = cursor
            guard cursor < text.count, isNameStart(text[cursor]) else { return nil }
            while cursor < text.count && isNameCharacter(text[cursor]) { cursor += 1 }
            let name = String(decoding: text[nameStart..<cursor], as: UTF8.self)
            var arguments = [Int]()
            while cursor < text.count && text[cursor] == 0x20 {
                while cursor < text.count && text[cursor] == 0x20 { cursor += 1 }
                let numberStart = cursor
                if cursor < text.count && text[cursor] == UInt8(ascii: "-") { cursor += 1 }
                while cursor < text.count && text[cursor] >= 0x30 && text[cursor] <= 0x39 { cursor += 1 }
                guard let number = Int(String(decoding: text[numberStart..<cursor], as: UTF8.self)) else {
                    return nil
                }
                arguments.append(number)
            }
            guard cursor < text.count, text[cursor] == UInt8(ascii: "}") else { return nil }
            return (name, arguments, cursor + 1)
        }
        guard isNameStart(text[cursor]) else { return nil }
        let nameStart = cursor
        while cursor < text.count && isNameCharacter(text[cursor]) { cursor += 1 }
        if cursor < text.count {
            let next = text[cursor]
            guard next == 0x20 || next == 0x09 || next == UInt8(ascii: ",") || next == UInt8(ascii: ")") else {
                return nil
            }
        }
        return (String(decoding: text[nameStart..<cursor], as: UTF8.self), [], cursor)
    }

    private mutating func lookup(_ name: String, arguments: [Int]) -> [UInt8]? {
        if let value = definitions[name] {
            return arguments.isEmpty ? value : nil
        }
        switch name {
        case "_PWD": return arguments.isEmpty ? Array(currentDirectory.utf8) : nil
        case "_INSTANCE": return arguments.isEmpty ? Array(options.configID.utf8) : nil
        case "_HASH": return arguments.isEmpty ? [UInt8(ascii: "#")] : nil
        case "_BANG": return arguments.isEmpty ? [UInt8(ascii: "!")] : nil
        case "_RANDOM":
            let low = arguments.count > 0 ? arguments[0] : 0
            let high = arguments.count > 1 ? arguments[1] : 32767
            let value = high > low ? low + Int(random.next() % UInt64(high - low + 1)) : low
            return Array(String(value).utf8)
        default:
            return nil
        }
    }

    // MARK: - ~SEQ, ~SEQx, ~LST

    /// Unrolls a `~SEQ(var, ...)`, `~SEQx(...)` or `~LST(...)` line. Returns false for a line that starts with `~`
    /// but is none of them.
    private mutating func repeatLine(_ text: [UInt8], _ location: SourceLocation, depth: Int) -> Bool {
        let string = String(decoding: text, as: UTF8.self)
        let kind: RepetitionKind
        if string.hasPrefix("~SEQx") {
            kind = .hexSequence
        } else if string.hasPrefix("~SEQ") {
            kind = .sequence
        } else if string.hasPrefix("~LST") {
            kind = .list
        } else {
            return false
        }
        var rest = string.dropFirst(kind == .hexSequence ? 5 : 4)
        while rest.first == " " || rest.first == "\t" { rest = rest.dropFirst() }
        guard rest.first == "(", let close = Self.matchingParenthesis(rest) else {
            report(location, "`\(kind.keyword)` needs its arguments in parentheses: \(kind.usage)")
            return true
        }
        // Numbers may themselves use parameters.
        let argumentText = String(rest[rest.index(after: rest.startIndex)..<close])
        let expandedArguments: String
        if argumentText.contains("$") {
            let (expanded, _, _) = substitute(Array(argumentText.utf8), location)
            expandedArguments = String(decoding: expanded, as: UTF8.self)
        } else {
            expandedArguments = argumentText
        }
        var body = rest[rest.index(after: close)...]
        while body.first == " " || body.first == "\t" { body = body.dropFirst() }

        let assignments: [[(String, String)]]
        switch kind {
        case .sequence, .hexSequence:
            guard let values = sequenceValues(expandedArguments, hex: kind == .hexSequence, location) else {
                return true
            }
            assignments = values.variable.isEmpty ? [] : values.values.map { [(values.variable, $0)] }
        case .list:
            guard let list = listAssignments(expandedArguments, location) else { return true }
            assignments = list
        }
        guard assignments.count <= Self.maximumRepetitions else {
            report(
                location,
                "`\(kind.keyword)` would repeat this line \(assignments.count) times; the limit is \(Self.maximumRepetitions)"
            )
            return true
        }
        let bodyBytes = Array(body.utf8)
        for assignment in assignments {
            for (variable, value) in assignment { definitions[variable] = Array(value.utf8) }
            if !bodyBytes.isEmpty { process(bodyBytes, location, depth: depth + 1) }
        }
        return true
    }

    private enum RepetitionKind {
        case sequence, hexSequence, list
        var keyword: String {
            switch self {
            case .sequence: "~SEQ"
            case .hexSequence: "~SEQx"
            case .list: "~LST"
            }
        }
        var usage: String {
            switch self {
            case .sequence, .hexSequence:
                "\(keyword)(var, end), \(keyword)(var, start, end) or \(keyword)(var, start, step, end)"
            case .list: "~LST(var, value, ...) or ~LST({var1,var2}, {value1,value2}, ...)"
            }
        }
    }

    private static func matchingParenthesis(_ text: Substring) -> Substring.Index? {
        var depth = 0
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "(" { depth += 1 }
            if text[index] == ")" {
                depth -= 1
                if depth == 0 { return index }
            }
            index = text.index(after: index)
        }
        return nil
    }

    private mutating func sequenceValues(
        _ arguments: String, hex: Bool, _ location: SourceLocation
    ) -> (
        variable: String, values: [String]
    )? {
        let parts = arguments.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingBlanks()
        }
        let usage =
            hex
            ? "~SEQx(var, end), ~SEQx(var, start, end) or ~SEQx(var, start, step, end)"
            : "~SEQ(var, end), ~SEQ(var, start, end) or ~SEQ(var, start, step, end)"
        guard (2...4).contains(parts.count), Self.isName(parts[0]) else {
            report(location, "invalid sequence '\(arguments)': write \(usage)")
            return nil
        }
        var numbers = [Int]()
        for part in parts.dropFirst() {
            guard let number = Self.parseCInteger(part) else {
                report(location, "'\(part)' in the sequence is not a number")
                return nil
            }
            numbers.append(number)
        }
        let start: Int
        let step: Int
        let end: Int
        switch numbers.count {
        case 1:
            end = numbers[0]
            step = end < 1 ? -1 : 1
            start = end < 0 ? -1 : 1
        case 2:
            start = numbers[0]
            end = numbers[1]
            step = end < start ? -1 : 1
        default:
            start = numbers[0]
            step = numbers[1]
            end = numbers[2]
        }
        guard step != 0, (end - start).signum() * step.signum() >= 0 else {
            report(location, "the sequence from \(start) by \(step) never reaches \(end)")
            return nil
        }
        if hex && (start < 0 || end < 0) {
            report(location, "~SEQx only counts over numbers that are not negative")
            return nil
        }
        let count = (end - start) / step + 1
        guard count <= Self.maximumRepetitions else {
            report(location, "the sequence has \(count) values; the limit is \(Self.maximumRepetitions)")
            return nil
        }
        var values = [String]()
        values.reserveCapacity(count)
        var value = start
        for _ in 0..<count {
            values.append(hex ? String(value, radix: 16) : String(value))
            value += step
        }
        return (String(parts[0]), values)
    }

    private mutating func listAssignments(_ arguments: String, _ location: SourceLocation) -> [[(String, String)]]? {
        // Split at top-level commas, keeping `{a,b}` groups whole.
        var items = [String]()
        var current = ""
        var depth = 0
        for character in arguments {
            if character == "{" { depth += 1 }
            if character == "}" { depth -= 1 }
            if character == "," && depth == 0 {
                items.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        items.append(current)
        let trimmed = items.map { String($0.trimmingBlanks()) }
        guard trimmed.count >= 2, let head = trimmed.first, !head.isEmpty else {
            report(
                location,
                "invalid list '\(arguments)': write ~LST(var, value, ...) or ~LST({var1,var2}, {value1,value2}, ...)")
            return nil
        }
        func group(_ text: String) -> [String] {
            guard text.hasPrefix("{") && text.hasSuffix("}") else { return [text] }
            return text.dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false).map {
                String($0.trimmingBlanks())
            }
        }
        let variables = group(head)
        guard variables.allSatisfy(Self.isName) else {
            report(location, "'\(head)' is not a variable name (or a {name,name} group) for ~LST")
            return nil
        }
        var result = [[(String, String)]]()
        for item in trimmed.dropFirst() {
            let values = group(item)
            if values.count > variables.count {
                report(
                    location, "the ~LST value '\(item)' has more parts than there are variables (\(variables.count))")
                return nil
            }
            var assignment = [(String, String)]()
            for (position, variable) in variables.enumerated() {
                assignment.append((variable, position < values.count ? values[position] : ""))
            }
            result.append(assignment)
        }
        return result
    }

    static func isName(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, isNameStart(first) else { return false }
        return bytes.dropFirst().allSatisfy(isNameCharacter)
    }

    /// `strtol(text, 0)` without its leniency: decimal, `0x` hexadecimal or leading-zero octal, whole text.
    static func parseCInteger(_ text: some StringProtocol) -> Int? {
        var string = Substring(text)
        var negative = false
        if string.first == "-" || string.first == "+" {
            negative = string.first == "-"
            string = string.dropFirst()
        }
        let value: Int?
        if string.hasPrefix("0x") || string.hasPrefix("0X") {
            value = Int(string.dropFirst(2), radix: 16)
        } else if string.count > 1 && string.hasPrefix("0") {
            value = Int(string.dropFirst(), radix: 8)
        } else {
            value = Int(string)
        }
        return value.map { negative ? -$0 : $0 }
    }

    private mutating func report(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(.error, .badSequence, at: location, message))
    }

    // MARK: - include

    /// An include line: `include`, or its checking variants `includer|m|w|b|a`, then whitespace and a pattern.
    static func includePattern(_ text: [UInt8]) -> (pattern: String, strict: Bool)? {
        let word = Array("include".utf8)
        guard text.count > word.count, Array(text[0..<word.count]) == word else { return nil }
        var index = word.count
        var strict = false
        if [UInt8(ascii: "r"), UInt8(ascii: "m"), UInt8(ascii: "w"), UInt8(ascii: "b"), UInt8(ascii: "a")]
            .contains(text[index])
        {
            strict = true
            index += 1
        }
        guard index < text.count, text[index] == 0x20 || text[index] == 0x09 else { return nil }
        while index < text.count && (text[index] == 0x20 || text[index] == 0x09) { index += 1 }
        guard index < text.count else { return nil }
        return (String(decoding: text[index...], as: UTF8.self), strict)
    }

    private mutating func include(_ pattern: String, strict: Bool, _ location: SourceLocation) {
        guard includeStack.count < Self.maximumIncludeDepth else {
            diagnostics.append(
                Diagnostic(
                    .error, .includeTooDeep, at: location,
                    "includes are nested more than \(Self.maximumIncludeDepth) deep; '\(pattern)' is not read"))
            return
        }
        let absolutePattern = pattern.hasPrefix("/") ? pattern : Self.join(currentDirectory, pattern)
        let fileSystem = options.fileSystem
        let matches = fileSystem.glob(absolutePattern)
        if matches.isEmpty {
            var message = "'\(pattern)' matches no file, so nothing is included"
            if pattern.contains("\"") {
                message += "; the quotes are part of the pattern (keepalived reads them literally), remove them"
            }
            diagnostics.append(
                Diagnostic(strict || pattern.contains("\"") ? .warning : .note, .includeNotFound, at: location, message)
            )
            return
        }
        for match in matches {
            if match.hasSuffix("/") {
                diagnostics.append(
                    Diagnostic(.note, .includeNotFound, at: location, "'\(match)' is a directory and is skipped"))
                continue
            }
            let canonical = fileSystem.canonicalPath(match) ?? match
            if includeStack.contains(canonical) {
                diagnostics.append(
                    Diagnostic(
                        .error, .includeLoop, at: location,
                        "including '\(match)' here would read it inside itself (an include loop); this include is skipped"
                    ))
                continue
            }
            var failure: ConfigFileError?
            do {
                let pieces = try fileSystem.pieces(of: match)
                withFile(match) { $0.read(pieces, file: match) }
                failure = pieces.failure
            } catch {
                failure = error
            }
            if let failure {
                diagnostics.append(
                    Diagnostic(
                        strict ? .error : .warning, .fileUnreadable, at: location,
                        "cannot include '\(match)': \(failure.explanation)"))
            }
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    static func join(_ directory: String, _ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }
}

extension StringProtocol {
    func trimmingBlanks() -> SubSequence {
        var start = startIndex
        var end = endIndex
        while start < end && (self[start] == " " || self[start] == "\t") { start = index(after: start) }
        while end > start {
            let before = index(before: end)
            guard self[before] == " " || self[before] == "\t" else { break }
            end = before
        }
        return self[start..<end]
    }
}

/// A small deterministic generator for `${_RANDOM}`; the seed is injected so preprocessing stays pure.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

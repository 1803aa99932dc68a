/// Typed readers for keyword arguments. Each one reports what is wrong with the value, at the value, and says what
/// would be right; it returns nil so that the setting keeps its default.
extension ConfigurationBuilder {
    /// The first argument, or a diagnostic naming what the keyword needs.
    mutating func firstArgument(_ statement: Statement, _ expectation: @autoclosure () -> String) -> Token? {
        guard let first = statement.arguments.first else {
            error(.missingArgument, statement.location, "`\(statement.name)` needs \(expectation())")
            return nil
        }
        return first
    }

    mutating func word(_ statement: Statement, _ expectation: @autoclosure () -> String = "a value") -> String? {
        firstArgument(statement, expectation())?.text
    }

    mutating func integer(_ statement: Statement, _ range: ClosedRange<Int>, _ expectation: String? = nil) -> Int? {
        guard let token = statement.arguments.first else {
            error(
                .missingArgument, statement.location,
                "`\(statement.name)` needs \(expectation ?? Self.describe(range))")
            return nil
        }
        return integer(token, range, keyword: statement.name, expectation)
    }

    mutating func integer(
        _ token: Token, _ range: ClosedRange<Int>, keyword: String, _ expectation: String? = nil
    ) -> Int? {
        if let value = Int(token.text), range.contains(value) { return value }
        reportBadInteger(token, range, keyword: keyword, expectation)
        return nil
    }

    @inline(never)
    private mutating func reportBadInteger(
        _ token: Token, _ range: ClosedRange<Int>, keyword: String, _ expectation: String?
    ) {
        let expected = expectation ?? Self.describe(range)
        if let value = Int(token.text) {
            error(.outOfRange, token.location, "`\(keyword)` \(value) is out of range; it takes \(expected)")
        } else {
            error(
                .invalidValue, token.location, "'\(token.text)' is not a whole number; `\(keyword)` takes \(expected)")
        }
    }

    /// `*_cpu_affinity CPU...`: CPU numbers; one bad number voids the list (as keepalived).
    mutating func processors(_ statement: Statement) -> [Int] {
        guard !statement.arguments.isEmpty else {
            error(.missingArgument, statement.location, "`\(statement.name)` needs CPU numbers, as in \(statement.name) 0 1")
            return []
        }
        var cpus = [Int]()
        for token in statement.arguments {
            guard let cpu = integer(token, 0...1023, keyword: statement.name, "CPU numbers from 0") else { return [] }
            cpus.append(cpu)
        }
        return cpus
    }

    static func describe(_ range: ClosedRange<Int>) -> String {
        "a whole number from \(range.lowerBound) to \(range.upperBound)"
    }

    static func describe(_ range: ClosedRange<Duration>?) -> String {
        guard let range else { return "a time in seconds" }
        return "a time in seconds from \(format(range.lowerBound)) to \(format(range.upperBound))"
    }

    /// Decimal seconds with up to six decimals (keepalived's timer format), within `range`.
    mutating func seconds(
        _ statement: Statement, _ range: ClosedRange<Duration>? = nil, _ expectation: String? = nil
    ) -> Duration? {
        guard let token = statement.arguments.first else {
            error(
                .missingArgument, statement.location,
                "`\(statement.name)` needs \(expectation ?? Self.describe(range))")
            return nil
        }
        return seconds(token, range, keyword: statement.name, expectation)
    }

    mutating func seconds(
        _ token: Token, _ range: ClosedRange<Duration>?, keyword: String, _ expectation: String? = nil
    ) -> Duration? {
        if let value = Self.parseSeconds(token.text), range?.contains(value) ?? true { return value }
        reportBadSeconds(token, range, keyword: keyword, expectation)
        return nil
    }

    @inline(never)
    private mutating func reportBadSeconds(
        _ token: Token, _ range: ClosedRange<Duration>?, keyword: String, _ expectation: String?
    ) {
        let expected = expectation ?? Self.describe(range)
        if Self.parseSeconds(token.text) == nil {
            error(
                .invalidValue, token.location,
                "'\(token.text)' is not a time; `\(keyword)` takes \(expected), as in 1 or 0.5")
        } else {
            error(.outOfRange, token.location, "`\(keyword)` \(token.text) is out of range; it takes \(expected)")
        }
    }

    /// Parses `N` or `N.dddddd`: no sign, no exponent, at most microsecond resolution.
    static func parseSeconds(_ text: String) -> Duration? {
        var seconds: Int64 = 0
        var microseconds: Int64 = 0
        var fractionDigits = -1
        var wholeDigits = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard fractionDigits < 0 else { return nil }
                fractionDigits = 0
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                let digit = Int64(byte - UInt8(ascii: "0"))
                if fractionDigits < 0 {
                    seconds = seconds * 10 + digit
                    wholeDigits += 1
                    guard seconds < 1 << 40 else { return nil }
                } else {
                    fractionDigits += 1
                    guard fractionDigits <= 6 else { return nil }
                    microseconds = microseconds * 10 + digit
                }
            } else {
                return nil
            }
        }
        guard wholeDigits > 0 || fractionDigits > 0, fractionDigits != 0 else { return nil }
        for _ in 0..<max(0, 6 - max(fractionDigits, 0)) { microseconds *= 10 }
        return .seconds(seconds) + .microseconds(microseconds)
    }

    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let microseconds = attoseconds / 1_000_000_000_000
        guard microseconds != 0 else { return "\(seconds)" }
        var fraction = String(microseconds)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(seconds).\(fraction)"
    }

    /// `keyword` alone means true; otherwise `on|true|yes` or `off|false|no`.
    mutating func boolean(_ statement: Statement) -> Bool? {
        guard let token = statement.arguments.first else { return true }
        switch token.text {
        case "on", "true", "yes": return true
        case "off", "false", "no": return false
        default:
            error(
                .invalidValue, token.location,
                "'\(token.text)' is not a yes/no value; `\(statement.name)` takes on, off, true, false, yes or no (alone it means on)"
            )
            return nil
        }
    }

    mutating func address(_ statement: Statement, family: IPAddress.Family? = nil) -> IPAddress? {
        guard let token = firstArgument(statement, "an IP address") else { return nil }
        return address(token, keyword: statement.name, family: family)
    }

    mutating func address(_ token: Token, keyword: String, family: IPAddress.Family? = nil) -> IPAddress? {
        guard let value = IPAddress(token.text) else {
            error(.invalidValue, token.location, "'\(token.text)' is not an IP address (`\(keyword)`)")
            return nil
        }
        if let family, value.family != family {
            error(
                .familyMismatch, token.location,
                "`\(keyword)` needs an \(family) address; '\(token.text)' is \(value.family)")
            return nil
        }
        return value
    }

    mutating func port(_ token: Token, keyword: String) -> UInt16? {
        integer(token, 0...65535, keyword: keyword, "a port number from 0 to 65535").map { UInt16($0) }
    }

    /// A `weight W [reverse|noreverse]` tail: the weight within `range` and the direction when written.
    mutating func weight(
        _ tokens: ArraySlice<Token>, _ range: ClosedRange<Int>, keyword: String
    ) -> (weight: Int, reverse: Bool?)? {
        guard let first = tokens.first else { return nil }
        guard
            let value = integer(
                first, range, keyword: keyword, "a weight from \(range.lowerBound) to \(range.upperBound)")
        else { return nil }
        var reverse: Bool?
        for extra in tokens.dropFirst() {
            switch extra.text {
            case "reverse": reverse = true
            case "noreverse": reverse = false
            default:
                warning(
                    .extraArgument, extra.location,
                    "'\(extra.text)' after the weight is not understood; write `reverse` or nothing")
            }
        }
        return (value, reverse)
    }

    /// Arguments past the ones a keyword reads are ignored, as keepalived ignores them; say so.
    mutating func ignoreExtra(_ statement: Statement, after count: Int) {
        guard statement.arguments.count > count else { return }
        let extra = statement.arguments[count...].map(\.text).joined(separator: " ")
        report(
            .note, .extraArgument, statement.arguments[count].location,
            "`\(statement.name)` reads \(count == 1 ? "one value" : "\(count) values"); '\(extra)' is ignored")
    }

    /// A script line: the command (quoted when it has arguments), then optionally a user and a group.
    mutating func script(_ statement: Statement, takesUser: Bool = true) -> ScriptCommand? {
        let words: [String]
        switch ScriptLine.split(statement.rawArguments) {
        case .success(let split): words = split
        case .failure(let failure):
            error(
                .invalidValue, statement.location, "cannot read the command of `\(statement.name)`: \(failure.message)")
            return nil
        }
        guard let commandText = words.first, !commandText.isEmpty else {
            error(
                .missingArgument, statement.location,
                "`\(statement.name)` needs a command, as in \(statement.name) \"/path/to/script arg\"")
            return nil
        }
        let arguments: [String]
        switch ScriptLine.split(commandText) {
        case .success(let split) where !split.isEmpty: arguments = split
        case .success:
            error(.missingArgument, statement.location, "`\(statement.name)` needs a command")
            return nil
        case .failure(let failure):
            error(
                .invalidValue, statement.location, "cannot read the command of `\(statement.name)`: \(failure.message)")
            return nil
        }
        var command = ScriptCommand(arguments: arguments, location: statement.location)
        if takesUser {
            if words.count > 1 { command.user = words[1] }
            if words.count > 2 { command.group = words[2] }
            if words.count > 3 {
                report(
                    .note, .extraArgument, statement.location,
                    "`\(statement.name)` reads a command, a user and a group; '\(words[3...].joined(separator: " "))' is ignored"
                )
            }
        } else if words.count > 1 {
            report(
                .note, .extraArgument, statement.location,
                "only the first word of `\(statement.name)` is the command; '\(words[1...].joined(separator: " "))' is ignored. Quote the whole command line"
            )
        }
        return command
    }

    /// `keyword PATH [user [group]]` for FIFOs.
    mutating func fifo(_ statement: Statement) -> FIFOSpec? {
        guard let path = word(statement, "the path of a FIFO") else { return nil }
        let arguments = statement.arguments
        return FIFOSpec(
            path: path, user: arguments.count > 1 ? arguments[1].text : nil,
            group: arguments.count > 2 ? arguments[2].text : nil, location: statement.location)
    }

    /// Keeps a statement the typed model has no field for.
    func setting(_ statement: Statement) -> Setting {
        Setting(name: statement.name, arguments: statement.arguments.map(\.text), location: statement.location)
    }

    /// `[all] SECS` of `garp_extra_if` and `vrrp_garp_extra_if`.
    mutating func extraInterfaceAnnouncements(
        _ statement: Statement, range: ClosedRange<Int>
    ) -> ExtraInterfaceAnnouncements? {
        var arguments = statement.arguments[...]
        let all = arguments.first?.text == "all"
        if all { arguments = arguments.dropFirst() }
        guard let token = arguments.first else {
            error(.missingArgument, statement.location, "`\(statement.name)` needs a time in seconds (\(range.lowerBound) to \(range.upperBound))")
            return nil
        }
        guard let value = integer(token, range, keyword: statement.name) else { return nil }
        return ExtraInterfaceAnnouncements(interval: .seconds(value), allInterfaces: all)
    }
}

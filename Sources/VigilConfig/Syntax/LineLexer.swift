/// Splits one logical line (already stripped of its comment by the preprocessor) into words and braces, as
/// keepalived reads a line, and hands them to the parser as it goes.
///
/// - `{` and `}` outside double quotes act as line breaks, so `virtual_ipaddress { 198.51.100.1 }` is a line,
///   an opening brace, a line and a closing brace.
/// - A word that starts with `"` runs to the next `"`; the quotes are removed and the spaces kept. An unquoted
///   word ends at a blank or at a `"`.
enum LineLexer {
    /// Whitespace as keepalived splits on it: space, tab, newline, vertical tab, form feed, carriage return.
    @inline(__always)
    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0d)
    }

    static func lex(_ line: LogicalLine, into parser: inout Parser) {
        let bytes = line.bytes
        var segmentStart = bytes.startIndex
        var inQuote = false
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                inQuote.toggle()
            } else if !inQuote && (byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}")) {
                words(bytes, segmentStart..<index, line.location, &parser)
                var at = line.location
                at.column = line.location.column + index - bytes.startIndex
                if byte == UInt8(ascii: "{") { parser.open(at) } else { parser.close(at) }
                segmentStart = index + 1
            }
            index += 1
        }
        words(bytes, segmentStart..<bytes.endIndex, line.location, &parser)
    }

    private static func words(
        _ bytes: ArraySlice<UInt8>, _ range: Range<Int>, _ location: SourceLocation, _ parser: inout Parser
    ) {
        var keyword: Token?
        var arguments = [Token]()
        var rawStart = range.upperBound
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            if isBlank(byte) {
                index += 1
                continue
            }
            var at = location
            at.column = location.column + index - bytes.startIndex
            let token: Token
            if byte == UInt8(ascii: "\"") {
                var close = index + 1
                while close < range.upperBound && bytes[close] != UInt8(ascii: "\"") { close += 1 }
                if close == range.upperBound {
                    parser.report(
                        Diagnostic(
                            .error, .unterminatedQuote, at: at,
                            "this '\"' is never closed; the rest of the line is read as one word. Add the closing quote"
                        ))
                }
                token = Token(text(bytes[(index + 1)..<close]), at: at, quoted: true)
                index = min(close + 1, range.upperBound)
            } else {
                var end = index + 1
                while end < range.upperBound && !isBlank(bytes[end]) && bytes[end] != UInt8(ascii: "\"") { end += 1 }
                token = Token(text(bytes[index..<end]), at: at)
                index = end
            }
            if keyword == nil {
                keyword = token
                rawStart = index
            } else {
                arguments.append(token)
            }
        }
        guard let keyword else { return }
        var raw = ""
        // Only script keywords read the raw rest of the line; the others need no copy of it.
        if !arguments.isEmpty && isScriptKeyword(keyword.text) {
            var start = rawStart
            var end = range.upperBound
            while start < end && isBlank(bytes[start]) { start += 1 }
            while end > start && isBlank(bytes[end - 1]) { end -= 1 }
            raw = text(bytes[start..<end])
        }
        parser.statement(keyword: keyword, arguments: arguments, raw: raw)
    }

    @inline(__always)
    static func isScriptKeyword(_ name: String) -> Bool {
        // Every script keyword starts with one of these letters; most lines are settled without hashing.
        guard let first = name.utf8.first, "nsmqrlv".utf8.contains(first) else { return false }
        return KeywordIndex.scriptKeywords.contains(name)
    }

    @inline(__always)
    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

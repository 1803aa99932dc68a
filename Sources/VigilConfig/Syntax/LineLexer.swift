/// Splits one logical line (already stripped of its comment by the preprocessor) into words and braces, as
/// keepalived reads a line.
///
/// - `{` and `}` outside double quotes act as line breaks, so `virtual_ipaddress { 198.51.100.1 }` is three
///   pieces: a line, an opening brace, a line and a closing brace.
/// - A word that starts with `"` runs to the next `"`; the quotes are removed and the spaces kept.
public enum LineLexer {
    public enum Piece: Sendable {
        /// The words of a line segment. `raw` is the segment's text after its first word, for keywords that
        /// take the rest of the line with shell-like quoting.
        case words([Token], raw: String)
        case open(SourceLocation)
        case close(SourceLocation)
    }

    /// Whitespace as keepalived splits on it: space, tab, newline, vertical tab, form feed, carriage return.
    @inline(__always)
    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0d)
    }

    public static func lex(_ line: LogicalLine, into pieces: inout [Piece], diagnostics: inout [Diagnostic]) {
        let bytes = line.bytes
        var segmentStart = 0
        var inQuote = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                inQuote.toggle()
            } else if !inQuote && (byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}")) {
                appendWords(bytes, segmentStart..<index, line.location, &pieces, &diagnostics)
                var at = line.location
                at.column = line.location.column + index
                pieces.append(byte == UInt8(ascii: "{") ? .open(at) : .close(at))
                segmentStart = index + 1
            }
            index += 1
        }
        appendWords(bytes, segmentStart..<bytes.count, line.location, &pieces, &diagnostics)
    }

    private static func appendWords(
        _ bytes: [UInt8], _ range: Range<Int>, _ location: SourceLocation, _ pieces: inout [Piece],
        _ diagnostics: inout [Diagnostic]
    ) {
        var tokens = [Token]()
        var rawStart: Int? = nil
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            if isBlank(byte) {
                index += 1
                continue
            }
            var at = location
            at.column = location.column + index
            if byte == UInt8(ascii: "\"") {
                var close = index + 1
                while close < range.upperBound && bytes[close] != UInt8(ascii: "\"") { close += 1 }
                if close == range.upperBound {
                    diagnostics.append(
                        Diagnostic(
                            .error, .unterminatedQuote, at: at,
                            "this '\"' is never closed; the rest of the line is read as one word. Add the closing quote"
                        ))
                }
                tokens.append(Token(text(bytes[(index + 1)..<close]), at: at, quoted: true))
                index = min(close + 1, range.upperBound)
            } else {
                // An unquoted word ends at a blank or at a '"', which starts the next word.
                var end = index + 1
                while end < range.upperBound && !isBlank(bytes[end]) && bytes[end] != UInt8(ascii: "\"") { end += 1 }
                tokens.append(Token(text(bytes[index..<end]), at: at))
                index = end
            }
            if tokens.count == 1 { rawStart = index }
        }
        guard !tokens.isEmpty else { return }
        var raw = ""
        if let rawStart {
            var start = rawStart
            var end = range.upperBound
            while start < end && isBlank(bytes[start]) { start += 1 }
            while end > start && isBlank(bytes[end - 1]) { end -= 1 }
            raw = text(bytes[start..<end])
        }
        pieces.append(.words(tokens, raw: raw))
    }

    @inline(__always)
    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

/// Splits a script keyword's line the way a shell would (and keepalived does): blanks separate words, `"` and `'`
/// quote, quoted and unquoted parts join, and backslash escapes work everywhere (`\n`, `\t`, `\x41`, `\101`, ...).
enum ScriptLine {
    struct Failure: Error, Equatable {
        var message: String
    }

    static func split(_ text: String) -> Result<[String], Failure> {
        let bytes = Array(text.utf8)
        var words = [[UInt8]]()
        var current = [UInt8]()
        var inWord = false
        var quote: UInt8? = nil
        var index = 0
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0d) }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                guard index + 1 < bytes.count else {
                    return .failure(Failure(message: "a '\\' at the end of the line escapes nothing"))
                }
                let (decoded, consumed) = unescape(bytes, at: index + 1)
                current.append(contentsOf: decoded)
                inWord = true
                index += 1 + consumed
                continue
            }
            if let open = quote {
                if byte == open { quote = nil } else { current.append(byte) }
                index += 1
                continue
            }
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
                inWord = true
            } else if isBlank(byte) {
                if inWord {
                    words.append(current)
                    current.removeAll()
                    inWord = false
                }
            } else {
                current.append(byte)
                inWord = true
            }
            index += 1
        }
        if let open = quote {
            return .failure(Failure(message: "the \(open == UInt8(ascii: "'") ? "'" : "\"") quote is never closed"))
        }
        if inWord { words.append(current) }
        return .success(words.map { String(decoding: $0, as: UTF8.self) })
    }

    /// Decodes the escape whose letter is at `index`; returns the bytes and how many input bytes it used.
    private static func unescape(_ bytes: [UInt8], at index: Int) -> ([UInt8], Int) {
        let letter = bytes[index]
        switch letter {
        case UInt8(ascii: "a"): return ([0x07], 1)
        case UInt8(ascii: "b"): return ([0x08], 1)
        case UInt8(ascii: "E"): return ([0x1b], 1)
        case UInt8(ascii: "f"): return ([0x0c], 1)
        case UInt8(ascii: "n"): return ([0x0a], 1)
        case UInt8(ascii: "r"): return ([0x0d], 1)
        case UInt8(ascii: "t"): return ([0x09], 1)
        case UInt8(ascii: "v"): return ([0x0b], 1)
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            var value = 0
            var used = 0
            while used < 3, index + used < bytes.count,
                (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(bytes[index + used])
            {
                value = value * 8 + Int(bytes[index + used] - UInt8(ascii: "0"))
                used += 1
            }
            return ([UInt8(truncatingIfNeeded: value)], used)
        case UInt8(ascii: "x"):
            var value = 0
            var used = 1
            while index + used < bytes.count, let digit = hexValue(bytes[index + used]) {
                value = (value << 4 | digit) & 0xff
                used += 1
            }
            return used == 1 ? ([UInt8(ascii: "x")], 1) : ([UInt8(truncatingIfNeeded: value)], used)
        case UInt8(ascii: "c"):
            guard index + 1 < bytes.count else { return ([UInt8(ascii: "c")], 1) }
            return ([bytes[index + 1] & 0x1f], 2)
        default:
            return ([letter], 1)
        }
    }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}

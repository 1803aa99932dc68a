/// DNS_CHECK's query and the check of its answer (RFC 1035): one question, recursion desired; the server is
/// healthy when it answers the same id with no error and at least one answer record.
public enum DNSMessage {
    public static let types: [String: UInt16] = [
        "A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33,
    ]

    public static func query(id: UInt16, name: String, type: String) -> [UInt8]? {
        guard let code = types[type.uppercased()] else { return nil }
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") where !label.isEmpty {
            let utf8 = Array(label.utf8)
            guard utf8.count < 64 else { return nil }
            bytes.append(UInt8(utf8.count))
            bytes += utf8
        }
        bytes.append(0)
        bytes += [UInt8(code >> 8), UInt8(code & 0xff), 0, 1]
        return bytes
    }

    public enum Verdict: Sendable, Equatable {
        case healthy
        case failed(String)
        /// Not an answer to our query: keep waiting.
        case ignore
    }

    public static func check(response: [UInt8], id: UInt16) -> Verdict {
        guard response.count >= 12 else { return .ignore }
        guard UInt16(response[0]) << 8 | UInt16(response[1]) == id, response[2] & 0x80 != 0 else { return .ignore }
        let rcode = response[3] & 0x0f
        guard rcode == 0 else { return .failed("the server answered with error code \(rcode)") }
        let answers = UInt16(response[6]) << 8 | UInt16(response[7])
        guard answers > 0 else { return .failed("the server has no answer") }
        return .healthy
    }
}

/// UDP_CHECK's `require_reply`: hex digits, where `x`/`X` matches any nibble.
public enum ReplyPattern {
    public static func matches(_ reply: [UInt8], pattern: String) -> Bool {
        let nibbles = Array(pattern.lowercased().filter { !$0.isWhitespace })
        guard nibbles.count <= reply.count * 2 else { return false }
        for (index, character) in nibbles.enumerated() {
            if character == "x" { continue }
            guard let value = character.hexDigitValue else { return false }
            let byte = reply[index / 2]
            let actual = index % 2 == 0 ? byte >> 4 : byte & 0x0f
            if Int(actual) != value { return false }
        }
        return true
    }
}

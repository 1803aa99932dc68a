/// An HTTP/1.x response read from a hostile peer: fed bytes as they arrive, it never holds more than a bounded
/// head (status line and headers) and streams the body out in pieces; a malformed or oversized head is an error,
/// never a crash. (keepalived's checker once overflowed on a long status line.)
public struct HTTPResponseParser: Sendable {
    public static let maximumStatusLine = 8 * 1024
    public static let maximumHead = 64 * 1024

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case statusLineTooLong
        case headTooLong
        case malformedStatusLine(String)
        case malformedHeader
        case malformedChunk
        case truncated

        public var description: String {
            switch self {
            case .statusLineTooLong: "status line longer than \(HTTPResponseParser.maximumStatusLine) bytes"
            case .headTooLong: "headers longer than \(HTTPResponseParser.maximumHead) bytes"
            case .malformedStatusLine(let line): "malformed status line '\(line.prefix(80))'"
            case .malformedHeader: "malformed header line"
            case .malformedChunk: "malformed chunked encoding"
            case .truncated: "the connection closed before the response ended"
            }
        }
    }

    public enum Event: Sendable, Equatable {
        case status(Int)
        case body([UInt8])
        case end
    }

    enum Phase: Sendable {
        case head
        case body(remaining: Int?)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers
        case done
    }

    private var phase = Phase.head
    private var pending = [UInt8]()
    private var headSize = 0
    public private(set) var status: Int?
    private var contentLength: Int?
    private var chunked = false
    /// The request was HEAD, or the status has no body (1xx, 204, 304).
    private let noBody: Bool

    public init(headRequest: Bool = false) {
        noBody = headRequest
    }

    public var isComplete: Bool {
        if case .done = phase { return true }
        return false
    }

    /// Feeds received bytes; returns what they completed.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(Failure) -> [Event] {
        var events = [Event]()
        pending.append(contentsOf: bytes)
        var cursor = 0
        defer { pending.removeFirst(min(cursor, pending.count)) }
        parsing: while cursor < pending.count {
            switch phase {
            case .head:
                guard let newline = pending[cursor...].firstIndex(of: 0x0a) else {
                    let partial = pending.count - cursor
                    if status == nil && partial > Self.maximumStatusLine { throw .statusLineTooLong }
                    if headSize + partial > Self.maximumHead { throw .headTooLong }
                    break parsing
                }
                var line = Array(pending[cursor..<newline])
                headSize += line.count + 1
                cursor = newline + 1
                if line.last == 0x0d { line.removeLast() }
                if status == nil {
                    guard line.count <= Self.maximumStatusLine else { throw .statusLineTooLong }
                    let code = try Self.parseStatusLine(line)
                    status = code
                    events.append(.status(code))
                } else if line.isEmpty {
                    let code = status ?? 0
                    if noBody || (100..<200).contains(code) || code == 204 || code == 304 {
                        phase = .done
                        events.append(.end)
                        break parsing
                    }
                    phase = chunked ? .chunkSize : .body(remaining: contentLength)
                    if case .body(let remaining?) = phase, remaining == 0 {
                        phase = .done
                        events.append(.end)
                        break parsing
                    }
                } else {
                    try header(line)
                }
                if headSize > Self.maximumHead { throw .headTooLong }
            case .body(let remaining):
                let available = pending.count - cursor
                let take = remaining.map { min($0, available) } ?? available
                events.append(.body(Array(pending[cursor..<(cursor + take)])))
                cursor += take
                if let remaining {
                    if remaining - take == 0 {
                        phase = .done
                        events.append(.end)
                        break parsing
                    }
                    phase = .body(remaining: remaining - take)
                }
            case .chunkSize:
                guard let newline = pending[cursor...].firstIndex(of: 0x0a) else {
                    if pending.count - cursor > 1024 { throw .malformedChunk }
                    break parsing
                }
                guard newline - cursor <= 1024 else { throw .malformedChunk }
                let line = pending[cursor..<newline].prefix { $0 != 0x3b && $0 != 0x0d }
                cursor = newline + 1
                guard let size = Int(String(decoding: line, as: UTF8.self).trimmingSpaces, radix: 16), size >= 0,
                    size < 1 << 40
                else { throw .malformedChunk }
                phase = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let take = min(remaining, pending.count - cursor)
                events.append(.body(Array(pending[cursor..<(cursor + take)])))
                cursor += take
                phase = remaining - take == 0 ? .chunkEnd : .chunkData(remaining: remaining - take)
            case .chunkEnd:
                // Exactly CRLF (or a bare LF) after a chunk's data; anything else is malformed, however it arrives.
                let available = pending.count - cursor
                if pending[cursor] == 0x0a {
                    cursor += 1
                    phase = .chunkSize
                    continue parsing
                }
                guard pending[cursor] == 0x0d else { throw .malformedChunk }
                if available < 2 { break parsing }
                guard pending[cursor + 1] == 0x0a else { throw .malformedChunk }
                cursor += 2
                phase = .chunkSize
            case .trailers:
                guard let newline = pending[cursor...].firstIndex(of: 0x0a) else {
                    if pending.count - cursor > Self.maximumHead { throw .headTooLong }
                    break parsing
                }
                guard newline - cursor <= Self.maximumHead else { throw .headTooLong }
                let empty = newline == cursor || (newline == cursor + 1 && pending[cursor] == 0x0d)
                cursor = newline + 1
                if empty {
                    phase = .done
                    events.append(.end)
                    break parsing
                }
            case .done:
                // Anything after the response is ignored.
                cursor = pending.count
            }
        }
        return events
    }

    /// The peer closed the connection: the end of a body without a length, else a truncated response.
    public mutating func finish() throws(Failure) -> [Event] {
        switch phase {
        case .done: return []
        case .body(nil):
            phase = .done
            return [.end]
        default:
            throw .truncated
        }
    }

    static func parseStatusLine(_ line: [UInt8]) throws(Failure) -> Int {
        // HTTP/1.x SP 3DIGIT [SP reason]
        let text = String(decoding: line, as: UTF8.self)
        guard line.count >= 12, text.hasPrefix("HTTP/1."), line[8] == 0x20,
            line[9...11].allSatisfy({ (0x30...0x39).contains($0) }), line.count == 12 || line[12] == 0x20
        else { throw .malformedStatusLine(text) }
        return Int(line[9] - 0x30) * 100 + Int(line[10] - 0x30) * 10 + Int(line[11] - 0x30)
    }

    mutating func header(_ line: [UInt8]) throws(Failure) {
        guard let colon = line.firstIndex(of: 0x3a), colon > 0 else { throw .malformedHeader }
        let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
        let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingSpaces
        switch name {
        case "content-length":
            guard let length = Int(value), length >= 0 else { throw .malformedHeader }
            contentLength = length
        case "transfer-encoding":
            if value.lowercased().contains("chunked") { chunked = true }
        default:
            break
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}

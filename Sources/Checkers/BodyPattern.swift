import CLinux

/// An HTTP_GET/SSL_GET `regex`, compiled by PCRE2 (the library keepalived uses, loaded at run time).
public final class BodyPattern: @unchecked Sendable {
    let code: UnsafeMutableRawPointer
    let matchData: UnsafeMutableRawPointer
    /// How far before a match's start the pattern may look (PCRE2_INFO_MAXLOOKBEHIND): what a window keeps.
    let lookbehind: Int

    public struct CompileError: Error, CustomStringConvertible {
        public var message: String
        public var offset: Int
        public var description: String { "\(message) at offset \(offset)" }
    }

    /// Compiles `pattern` with PCRE2 compile `options` (keepalived's `regex_options`).
    public static func compile(_ pattern: String, options: UInt32) -> Result<BodyPattern, CompileError> {
        var message = [CChar](repeating: 0, count: 256)
        var offset = 0
        let bytes = Array(pattern.utf8)
        let compiled = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                vigil_regex_compile($0.baseAddress, $0.count, options, &message, message.count, &offset)
            }
        }
        guard let compiled else {
            return .failure(CompileError(message: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), offset: offset))
        }
        guard let data = vigil_regex_match_data(compiled) else {
            vigil_regex_free(compiled, nil)
            return .failure(CompileError(message: "no memory for the match data", offset: 0))
        }
        return .success(BodyPattern(code: compiled, matchData: data, lookbehind: Int(vigil_regex_max_lookbehind(compiled))))
    }

    private init(code: UnsafeMutableRawPointer, matchData: UnsafeMutableRawPointer, lookbehind: Int) {
        self.code = code
        self.matchData = matchData
        self.lookbehind = lookbehind
    }

    deinit { vigil_regex_free(code, matchData) }

    enum Outcome: Equatable {
        case match(at: Int)
        /// More input could complete a match that starts here.
        case partial(at: Int)
        case noMatch
        case failed
    }

    func match(_ subject: [UInt8], from offset: Int, partial: Bool) -> Outcome {
        var start = 0
        let result = subject.withUnsafeBufferPointer {
            vigil_regex_match(code, matchData, $0.baseAddress, $0.count, offset, partial ? 1 : 0, &start)
        }
        switch result {
        case 1: return .match(at: start)
        case 2: return .partial(at: start)
        case 0: return .noMatch
        default: return .failed
        }
    }
}

/// A body streamed through a `BodyPattern`, as keepalived matches it: chunk by chunk with PCRE2's partial matching,
/// keeping only what a match in progress (and the pattern's lookbehind) needs, so that a large body is never held.
/// The match must start within `regex_min_offset`...`regex_max_offset` of the body.
public struct BodyMatcher {
    let pattern: BodyPattern
    let minimumOffset: Int
    let maximumOffset: Int?
    /// The bytes kept, and the body offset of the first.
    private var window: [UInt8] = []
    private var windowOffset = 0
    /// Where in the window the next search starts (what came before was searched already).
    private var searchFrom = 0
    /// Decided: matched (or not) for good.
    public private(set) var matched = false
    public private(set) var decided = false
    /// A partial match may hold at most this much of the body.
    static let windowLimit = 65536

    public init(pattern: BodyPattern, minimumOffset: Int = 0, maximumOffset: Int? = nil) {
        self.pattern = pattern
        self.minimumOffset = minimumOffset
        self.maximumOffset = maximumOffset
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard !decided else { return }
        window.append(contentsOf: bytes)
        search(partial: true)
    }

    /// The body ended: whether the pattern matched.
    public mutating func finish() -> Bool {
        if !decided { search(partial: false) }
        decided = true
        return matched
    }

    private mutating func search(partial: Bool) {
        let start = max(searchFrom, minimumOffset - windowOffset)
        if let maximumOffset, windowOffset + start > maximumOffset {
            decided = true
            return
        }
        guard start <= window.count else {
            keep(from: window.count)
            return
        }
        switch pattern.match(window, from: start, partial: partial) {
        case .match(let at):
            decided = true
            matched = maximumOffset.map { windowOffset + at <= $0 } ?? true
        case .partial(let at):
            keep(from: at)
            if window.count > Self.windowLimit { decided = true }
        case .noMatch:
            if !partial { decided = true }
            keep(from: window.count)
        case .failed:
            decided = true
        }
    }

    /// Drops what no match can start in any more, keeping the lookbehind before `index`; the next search starts at
    /// `index`.
    private mutating func keep(from index: Int) {
        let drop = max(0, index - pattern.lookbehind)
        if drop > 0 {
            window.removeFirst(drop)
            windowOffset += drop
        }
        searchFrom = index - drop
    }
}

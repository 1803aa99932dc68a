/// Builds the statement tree from the lexer's words and braces: a `{` belongs to the statement just before it, a
/// `}` closes the innermost open block. Unbalanced braces become diagnostics; parsing always carries on.
public struct Parser {
    /// Deeper nesting than any keepalived block (five levels) by a wide margin; beyond it input is hostile.
    public static let maximumDepth = 32

    private var diagnostics: [Diagnostic] = []
    private var top: [Statement] = []
    private var stack: [OpenBlock] = []
    /// Whether the last piece was a statement that may still take a block.
    private var lastCanOpen = false
    /// Depth of `{` ignored past the nesting limit; their contents are skipped until balanced.
    private var skipping = 0

    private struct OpenBlock {
        var owner: Statement?
        var openedAt: SourceLocation
        var children: [Statement] = []
    }

    public static func parse(_ lines: [LogicalLine]) -> (statements: [Statement], diagnostics: [Diagnostic]) {
        var statements = [Statement]()
        let diagnostics = parse(lines) { statements.append($0) }
        return (statements, diagnostics)
    }

    /// Hands each top-level statement to `each` as soon as it is complete (the next top-level statement began, so
    /// no `{` can still join it), so that a caller can build it and let it go: a large file's statement tree is
    /// never whole in memory.
    public static func parse(_ lines: [LogicalLine], each: (Statement) -> Void) -> [Diagnostic] {
        var parser = Parser()
        for line in lines { parser.feed(line, each: each) }
        return parser.end(each: each)
    }

    /// One line in; the top-level statements it completed out.
    mutating func feed(_ line: LogicalLine, each: (Statement) -> Void) {
        LineLexer.lex(line, into: &self)
        if top.count > 1 {
            let complete = top.dropLast()
            top.removeFirst(complete.count)
            complete.forEach(each)
        }
    }

    /// The input ended: unclosed blocks are reported, the last statements go out, and the diagnostics.
    mutating func end(each: (Statement) -> Void) -> [Diagnostic] {
        let (rest, diagnostics) = finish()
        top = []
        rest.forEach(each)
        return diagnostics
    }

    mutating func report(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    private mutating func append(_ statement: Statement) {
        if stack.isEmpty { top.append(statement) } else { stack[stack.count - 1].children.append(statement) }
    }

    private mutating func removeLast() -> Statement? {
        if stack.isEmpty { return top.popLast() }
        return stack[stack.count - 1].children.popLast()
    }

    mutating func statement(keyword: Token, arguments: [Token], raw: String) {
        guard skipping == 0 else { return }
        append(Statement(keyword: keyword, arguments: arguments, rawArguments: raw))
        lastCanOpen = true
    }

    mutating func open(_ at: SourceLocation) {
        if skipping > 0 {
            skipping += 1
            return
        }
        defer { lastCanOpen = false }
        if stack.count >= Self.maximumDepth {
            report(
                Diagnostic(
                    .error, .nestingTooDeep, at: at,
                    "blocks are nested more than \(Self.maximumDepth) deep; everything inside this block is ignored"))
            skipping = 1
            return
        }
        if lastCanOpen, let owner = removeLast() {
            stack.append(OpenBlock(owner: owner, openedAt: at))
        } else {
            report(
                Diagnostic(
                    .error, .unexpectedOpenBrace, at: at,
                    "'{' has no keyword before it; its block is ignored. Put the keyword that opens the block before the brace"
                ))
            stack.append(OpenBlock(owner: nil, openedAt: at))
        }
    }

    mutating func close(_ at: SourceLocation) {
        if skipping > 0 {
            skipping -= 1
            return
        }
        lastCanOpen = false
        guard let open = stack.popLast() else {
            report(
                Diagnostic(
                    .error, .unbalancedCloseBrace, at: at, "'}' closes no block; remove it or add the '{' it belongs to"
                ))
            return
        }
        if let owner = open.owner {
            append(owner.with(block: open.children, openBrace: open.openedAt, closeBrace: at))
        }
    }

    /// Closes what is still open at the end of input, saying where each block was opened.
    private mutating func finish() -> (statements: [Statement], diagnostics: [Diagnostic]) {
        while let open = stack.popLast() {
            let what = open.owner.map { "'\($0.name)' block" } ?? "block"
            report(
                Diagnostic(
                    .error, .unclosedBlock, at: open.openedAt,
                    "the \(what) opened here is never closed; add the missing '}'"))
            if let owner = open.owner {
                append(owner.with(block: open.children, openBrace: open.openedAt, closeBrace: nil))
            }
        }
        return (top, diagnostics)
    }
}

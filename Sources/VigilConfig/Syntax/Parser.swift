/// Builds the statement tree from lexed pieces: a `{` belongs to the statement just before it, a `}` closes the
/// innermost open block. Unbalanced braces become diagnostics; parsing always carries on.
public struct Parser {
    /// Deeper nesting than any keepalived block (five levels) by a wide margin; beyond it input is hostile.
    public static let maximumDepth = 32

    private var diagnostics: [Diagnostic] = []

    public init() {}

    public static func parse(_ lines: [LogicalLine]) -> (statements: [Statement], diagnostics: [Diagnostic]) {
        var pieces = [LineLexer.Piece]()
        pieces.reserveCapacity(lines.count + lines.count / 2)
        var parser = Parser()
        for line in lines { LineLexer.lex(line, into: &pieces, diagnostics: &parser.diagnostics) }
        let statements = parser.build(pieces)
        return (statements, parser.diagnostics)
    }

    private struct OpenBlock {
        var owner: Statement?
        var openedAt: SourceLocation
        var children: [Statement] = []
    }

    private mutating func build(_ pieces: [LineLexer.Piece]) -> [Statement] {
        var top = [Statement]()
        var stack = [OpenBlock]()
        // Whether the last piece was a statement that may still take a block.
        var lastCanOpen = false
        // Depth of `{` ignored past the nesting limit; their contents are skipped until balanced.
        var skipping = 0

        func append(_ statement: Statement) {
            if stack.isEmpty { top.append(statement) } else { stack[stack.count - 1].children.append(statement) }
        }
        func removeLast() -> Statement? {
            if stack.isEmpty { return top.popLast() }
            return stack[stack.count - 1].children.popLast()
        }

        for piece in pieces {
            if skipping > 0 {
                switch piece {
                case .open: skipping += 1
                case .close: skipping -= 1
                case .words: break
                }
                continue
            }
            switch piece {
            case .words(let tokens, let raw):
                append(Statement(keyword: tokens[0], arguments: Array(tokens.dropFirst()), rawArguments: raw))
                lastCanOpen = true
            case .open(let at):
                if stack.count >= Self.maximumDepth {
                    diagnostics.append(
                        Diagnostic(
                            .error, .nestingTooDeep, at: at,
                            "blocks are nested more than \(Self.maximumDepth) deep; everything inside this block is ignored"
                        ))
                    skipping = 1
                    lastCanOpen = false
                    continue
                }
                if lastCanOpen, var owner = removeLast() {
                    owner.openBrace = at
                    stack.append(OpenBlock(owner: owner, openedAt: at))
                } else {
                    diagnostics.append(
                        Diagnostic(
                            .error, .unexpectedOpenBrace, at: at,
                            "'{' has no keyword before it; its block is ignored. Put the keyword that opens the block before the brace"
                        ))
                    stack.append(OpenBlock(owner: nil, openedAt: at))
                }
                lastCanOpen = false
            case .close(let at):
                lastCanOpen = false
                guard var open = stack.popLast() else {
                    diagnostics.append(
                        Diagnostic(
                            .error, .unbalancedCloseBrace, at: at,
                            "'}' closes no block; remove it or add the '{' it belongs to"))
                    continue
                }
                if var owner = open.owner {
                    owner.block = open.children
                    owner.closeBrace = at
                    append(owner)
                } else {
                    open.children.removeAll()
                }
            }
        }
        // Blocks still open at the end of input: keep what they hold, and say where each was opened.
        while var open = stack.popLast() {
            let what = open.owner.map { "'\($0.name)' block" } ?? "block"
            diagnostics.append(
                Diagnostic(
                    .error, .unclosedBlock, at: open.openedAt,
                    "the \(what) opened here is never closed; add the missing '}'"))
            if var owner = open.owner {
                owner.block = open.children
                append(owner)
            } else {
                open.children.removeAll()
            }
        }
        return top
    }
}

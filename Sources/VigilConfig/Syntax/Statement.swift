/// One keyword line of a configuration file and, when it opens one, its block.
///
/// The syntax tree knows nothing about which keywords exist: `virtual_ipaddress { 198.51.100.1 }` is a statement
/// `virtual_ipaddress` whose block holds a statement `198.51.100.1`. Meaning comes later, from the schema.
/// Statements are immutable and shared: a class, so passing one around costs one reference count.
public final class Statement: Sendable {
    public let keyword: Token
    public let arguments: [Token]
    /// The text after the keyword on its line segment, kept only for keywords that read it with shell-like
    /// quoting (`notify_master "/bin/script arg"`); empty otherwise.
    public let rawArguments: String
    /// The statements inside `{ }`, or nil when the keyword opened no block.
    public let block: [Statement]?
    public let openBrace: SourceLocation?
    public let closeBrace: SourceLocation?

    public init(
        keyword: Token, arguments: [Token] = [], rawArguments: String = "", block: [Statement]? = nil,
        openBrace: SourceLocation? = nil, closeBrace: SourceLocation? = nil
    ) {
        self.keyword = keyword
        self.arguments = arguments
        self.rawArguments = rawArguments
        self.block = block
        self.openBrace = openBrace
        self.closeBrace = closeBrace
    }

    /// The same statement with another block (or none).
    public func with(block: [Statement]?, openBrace: SourceLocation?, closeBrace: SourceLocation?) -> Statement {
        Statement(
            keyword: keyword, arguments: arguments, rawArguments: rawArguments, block: block, openBrace: openBrace,
            closeBrace: closeBrace)
    }

    public var name: String { keyword.text }
    public var location: SourceLocation { keyword.location }

    /// The keyword followed by its arguments, as one item of a list block reads (`198.51.100.1 dev eth0`).
    public var words: [Token] { [keyword] + arguments }
}

/// One keyword line of a configuration file and, when it opens one, its block.
///
/// The syntax tree knows nothing about which keywords exist: `virtual_ipaddress { 198.51.100.1 }` is a statement
/// `virtual_ipaddress` whose block holds a statement `198.51.100.1`. Meaning comes later, from the schema.
public struct Statement: Sendable {
    public var keyword: Token
    public var arguments: [Token]
    /// The text after the keyword on its line segment, for keywords that read it with shell-like quoting.
    public var rawArguments: String
    /// The statements inside `{ }`, or nil when the keyword opened no block.
    public var block: [Statement]?
    public var openBrace: SourceLocation?
    public var closeBrace: SourceLocation?

    public init(keyword: Token, arguments: [Token] = [], rawArguments: String = "", block: [Statement]? = nil) {
        self.keyword = keyword
        self.arguments = arguments
        self.rawArguments = rawArguments
        self.block = block
    }

    public var name: String { keyword.text }
    public var location: SourceLocation { keyword.location }

    /// The keyword followed by its arguments, as one item of a list block reads (`198.51.100.1 dev eth0`).
    public var words: [Token] { [keyword] + arguments }
}

/// A word of a configuration line, with where it stands.
public struct Token: Hashable, Sendable, CustomStringConvertible {
    public var text: String
    public var location: SourceLocation
    /// True when the word was written in double quotes.
    public var quoted: Bool

    public init(_ text: String, at location: SourceLocation, quoted: Bool = false) {
        self.text = text
        self.location = location
        self.quoted = quoted
    }

    public var description: String { text }
}

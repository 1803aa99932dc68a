/// A line as the parser sees it: after includes, conditionals, parameters and sequences were applied.
public struct LogicalLine: Sendable {
    /// The line's bytes, without the line terminator.
    public var bytes: [UInt8]
    /// Where the line came from; `column` is 1.
    public var location: SourceLocation

    public init(bytes: [UInt8], location: SourceLocation) {
        self.bytes = bytes
        self.location = location
    }

    public init(_ text: String, location: SourceLocation) {
        self.init(bytes: Array(text.utf8), location: location)
    }
}

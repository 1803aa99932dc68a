/// A line as the parser sees it: after includes, conditionals, parameters and sequences were applied.
public struct LogicalLine: Sendable {
    /// The line's bytes, without the line terminator. Usually a slice of the file as read, so most lines cost
    /// no copy; lines the preprocessor rewrote have storage of their own.
    public var bytes: ArraySlice<UInt8>
    /// Where the line came from; `column` is the column of the line's first byte.
    public var location: SourceLocation

    public init(bytes: ArraySlice<UInt8>, location: SourceLocation) {
        self.bytes = bytes
        self.location = location
    }

    public init(bytes: [UInt8], location: SourceLocation) {
        self.init(bytes: bytes[...], location: location)
    }

    public init(_ text: String, location: SourceLocation) {
        self.init(bytes: Array(text.utf8), location: location)
    }
}

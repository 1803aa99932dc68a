/// One thing the configuration layer has to say about a file: what is wrong, where, and what to do about it.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Hashable, Sendable, Comparable {
        case note
        case warning
        case error
        /// The configuration cannot be run at all (a missing main file, for example).
        case fatal

        private var rank: Int {
            switch self {
            case .note: 0
            case .warning: 1
            case .error: 2
            case .fatal: 3
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    public var severity: Severity
    public var location: SourceLocation
    /// A stable identifier for the kind of problem, for tests and machine readers (`unknown-keyword`).
    public var code: Code
    /// A sentence saying what is wrong and what to do.
    public var message: String

    public init(_ severity: Severity, _ code: Code, at location: SourceLocation, _ message: String) {
        self.severity = severity
        self.code = code
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(severity.rawValue): \(message) [\(code.rawValue)]" }
}

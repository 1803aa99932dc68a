extension Diagnostic {
    /// A stable name for a kind of problem. Tests and tools match on it; people read the message.
    public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }

        // Files and preprocessing
        public static let fileNotFound: Code = "file-not-found"
        public static let fileUnreadable: Code = "file-unreadable"
        public static let includeNotFound: Code = "include-not-found"
        public static let includeLoop: Code = "include-loop"
        public static let includeTooDeep: Code = "include-too-deep"
        public static let binaryContent: Code = "binary-content"
        public static let lineTooLong: Code = "line-too-long"
        public static let undefinedParameter: Code = "undefined-parameter"
        public static let parameterRecursion: Code = "parameter-recursion"
        public static let badSequence: Code = "bad-sequence"
        public static let unterminatedDefinition: Code = "unterminated-definition"

        // Syntax
        public static let unbalancedCloseBrace: Code = "unbalanced-close-brace"
        public static let unexpectedOpenBrace: Code = "unexpected-open-brace"
        public static let unclosedBlock: Code = "unclosed-block"
        public static let nestingTooDeep: Code = "nesting-too-deep"
        public static let unterminatedQuote: Code = "unterminated-quote"

        // Keywords
        public static let unknownKeyword: Code = "unknown-keyword"
        public static let misplacedKeyword: Code = "misplaced-keyword"
        public static let deprecatedKeyword: Code = "deprecated-keyword"
        public static let missingBlock: Code = "missing-block"
        public static let unexpectedBlock: Code = "unexpected-block"
        public static let missingArgument: Code = "missing-argument"
        public static let extraArgument: Code = "extra-argument"
        public static let invalidValue: Code = "invalid-value"
        public static let outOfRange: Code = "out-of-range"
        public static let duplicate: Code = "duplicate"
        public static let ignoredSetting: Code = "ignored-setting"
        /// A keyword Vigil does not act on (yet): `KeywordInventory` says what it does instead.
        public static let notSupported: Code = "not-supported"
        /// A keyword that has no bearing on how Vigil runs.
        public static let notApplicable: Code = "not-applicable"

        // Cross references and semantics
        public static let unknownReference: Code = "unknown-reference"
        public static let missingInterface: Code = "missing-interface"
        public static let missingSetting: Code = "missing-setting"
        public static let conflict: Code = "conflict"
        public static let duplicateVRID: Code = "duplicate-vrid"
        public static let familyMismatch: Code = "family-mismatch"
        public static let passwordTooLong: Code = "password-too-long"
        public static let scriptSecurity: Code = "script-security"
        /// A script with no user to run as (keepalived disables it; `-t` exits 5, not 6).
        public static let scriptUser: Code = "script-user"
        public static let scriptMissing: Code = "script-missing"
        /// A program Vigil itself needs for a setting (nft) is not installed.
        public static let missingProgram: Code = "missing-program"
        public static let noEffect: Code = "no-effect"
    }
}

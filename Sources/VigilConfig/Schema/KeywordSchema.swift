/// What a keyword looks like where it stands: whether it takes a value, a flag, a script line, a list block or a
/// keyword block. The schema drives the diagnostics for unknown and misplaced keywords; typed reading of the
/// values happens in the builders.
public struct KeywordSchema: Sendable {
    public enum Shape: Sendable, Equatable {
        /// A bare keyword (`nopreempt`).
        case flag
        /// `keyword [on|off|true|false|yes|no]`; bare means true.
        case bool
        /// `keyword value...`
        case value
        /// `keyword "command args" [user [group]]`, read with shell-like quoting.
        case script
        /// `keyword { item item ... }`: the block holds data, not keywords.
        case list
        /// `keyword [name] { keywords }`
        case block
    }

    public let name: String
    public let shape: Shape
    /// For `.block`, the keywords its block may hold.
    public let children: BlockSchema?
    /// When set, the keyword still works but is on its way out.
    public let deprecation: Deprecation?
    /// When set, the keyword is another spelling of this one and is read the same way.
    public let canonicalName: String?
    /// What Vigil does with it where it stands (`KeywordInventory`), set by its block: read with the keyword
    /// itself, not looked up again for every line of a file.
    public internal(set) var support: KeywordSupport?

    /// How strongly to say that a keyword is deprecated, and what to use instead. Warnings are for the keywords
    /// keepalived itself reports (so `-t` exit codes agree); notes for those it only logs.
    public enum Deprecation: Sendable {
        case warning(String)
        case note(String)
    }

    public init(
        _ name: String, _ shape: Shape, children: BlockSchema? = nil, deprecation: Deprecation? = nil,
        alias: String? = nil
    ) {
        self.name = name
        self.shape = shape
        self.children = children
        self.deprecation = deprecation
        self.canonicalName = alias
    }

    public static func flag(_ name: String, deprecated: Deprecation? = nil, alias: String? = nil) -> KeywordSchema {
        KeywordSchema(name, .flag, deprecation: deprecated, alias: alias)
    }
    public static func bool(_ name: String, deprecated: Deprecation? = nil) -> KeywordSchema {
        KeywordSchema(name, .bool, deprecation: deprecated)
    }
    public static func value(_ name: String, deprecated: Deprecation? = nil, alias: String? = nil) -> KeywordSchema {
        KeywordSchema(name, .value, deprecation: deprecated, alias: alias)
    }
    public static func script(_ name: String) -> KeywordSchema { KeywordSchema(name, .script) }
    public static func list(_ name: String) -> KeywordSchema { KeywordSchema(name, .list) }
    public static func block(
        _ name: String, _ children: BlockSchema, deprecated: Deprecation? = nil
    ) -> KeywordSchema {
        KeywordSchema(name, .block, children: children, deprecation: deprecated)
    }
}

/// The keywords one kind of block may hold.
public final class BlockSchema: Sendable {
    /// The block's keyword, as people write it (`vrrp_instance`), or `top level`.
    public let context: String
    public let keywords: [String: KeywordSchema]

    public init(_ context: String, _ keywords: [KeywordSchema]) {
        self.context = context
        var table = [String: KeywordSchema]()
        for var keyword in keywords {
            keyword.support = KeywordInventory.support(keyword.canonicalName ?? keyword.name, in: context)
            table[keyword.name] = keyword
        }
        self.keywords = table
    }

    public subscript(name: String) -> KeywordSchema? { keywords[name] }
}

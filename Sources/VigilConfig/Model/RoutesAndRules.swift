/// A route from `virtual_routes` or `static_routes`. The destination and the options Vigil acts on are typed;
/// the item is also kept word for word, so any `ip route` option keepalived accepts survives.
public struct Route: Hashable, Sendable {
    public var family: IPAddress.Family?
    public var type: String?
    /// nil for `default`.
    public var destination: IPPrefix?
    public var source: IPAddress?
    public var via: IPAddress?
    public var device: String?
    public var table: String?
    public var metric: UInt32?
    public var scope: String?
    public var noTrack = false
    public var words: [String]
    public var location: SourceLocation
}

/// A policy routing rule from `virtual_rules` or `static_rules`.
public struct Rule: Hashable, Sendable {
    public var family: IPAddress.Family?
    public var from: IPPrefix?
    public var to: IPPrefix?
    public var preference: UInt32?
    public var table: String?
    public var action: String?
    public var words: [String]
    public var location: SourceLocation
}

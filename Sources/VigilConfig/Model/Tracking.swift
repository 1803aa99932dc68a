/// `vrrp_script NAME { ... }`: a check run periodically whose result moves priority or causes FAULT.
public struct VRRPScript: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var command: ScriptCommand?
    public var interval: Duration = .seconds(1)
    /// nil means: the interval.
    public var timeout: Duration?
    public var weight = 0
    public var reverse = false
    public var rise = 1
    public var fall = 1
    public var user: String?
    public var group: String?
    public var initFail = false

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }

    public var effectiveTimeout: Duration { timeout ?? interval }
}

/// `track_file NAME { file PATH  weight W [reverse]  init_file [V] [overwrite] }`.
public struct TrackFile: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var path: String?
    public var weight = 1
    public var reverse = false
    public var initialValue: Int?
    public var overwrite = false

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

/// `vrrp_track_process NAME { ... }`: whether enough copies of a process run.
public struct TrackProcess: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var process: String?
    public var parameters: [String] = []
    /// How the parameters are compared; `none` (no parameters and no `param_match`): they are not.
    public var parameterMatch: ParameterMatch = .none
    public var weight = 0
    public var reverse = false
    public var quorum = 1
    public var quorumMaximum: Int?
    public var delay: Duration?
    public var terminateDelay: Duration?
    public var forkDelay: Duration?
    public var fullCommand = false

    public enum ParameterMatch: String, Hashable, Sendable {
        case none, exact, initial, partial
    }

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

/// `vrrp_sync_group NAME { group { ... } ... }`: instances that change state together.
public struct SyncGroup: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var members: [Token] = []
    public var trackInterfaces: [TrackedInterface] = []
    public var trackScripts: [TrackedReference] = []
    public var trackFiles: [TrackedReference] = []
    public var trackProcesses: [TrackedReference] = []
    public var trackBFDs: [TrackedReference] = []
    public var notify = NotifyScripts()
    public var smtpAlert: Bool?
    public var notifyPriorityChanges: Bool?
    public var trackingWeight = false

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

/// `bfd_instance NAME { ... }`: a single-hop BFD session to one neighbour (keepalived 2.2.7's BFD process).
public struct BFDInstance: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var neighbor: IPAddress?
    public var source: IPAddress?
    /// `min_rx`, `min_tx` (1 ms to 4294967 ms, default 10 ms) and `idle_tx` (at least 1 s, default 1 s).
    public var minRX: Duration = .milliseconds(10)
    public var minTX: Duration = .milliseconds(10)
    public var idleTX: Duration = .seconds(1)
    public var multiplier = 5
    public var passive = false
    /// `ttl`/`hoplimit`: what is sent and what packets must arrive with (less `max_hops`).
    public var ttl: Int?
    /// `max_hops`: how far below `ttl` a received TTL may be (255: not checked).
    public var maxHops = 0
    /// `weight W [reverse]`: the default for `track_bfd` in VRRP instances.
    public var weight = 0
    public var reverse = false
    /// `vrrp` / `checker`: which processes hear of it (neither: both).
    public var toVRRP = true
    public var toChecker = true

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }

    /// The TTL packets must arrive with, less `max_hops`: `ttl`, else keepalived's defaults (255 over IPv4, 64
    /// over IPv6).
    public var effectiveTTL: Int { ttl ?? (neighbor?.family == .ipv6 ? 64 : 255) }

    /// The TTL or hop limit packets leave with: `ttl`, else 255 over both families, as RFC 5881 requires of an
    /// unauthenticated session (keepalived sends 64 over IPv6, which FRR's bfdd and any RFC 5881 peer drop; 255
    /// still passes keepalived's own check).
    public var sendTTL: Int { ttl ?? 255 }
}

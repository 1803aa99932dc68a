/// A whole keepalived configuration, parsed and validated: what the daemon runs.
public struct Configuration: Hashable, Sendable {
    public var global = GlobalDefinitions()
    public var vrrpScripts: [VRRPScript] = []
    public var trackFiles: [TrackFile] = []
    public var trackProcesses: [TrackProcess] = []
    public var bfdInstances: [BFDInstance] = []
    public var syncGroups: [SyncGroup] = []
    public var instances: [VRRPInstance] = []
    public var staticAddresses: [VirtualAddress] = []
    public var staticRoutes: [Route] = []
    public var staticRules: [Rule] = []
    /// `garp_group` blocks: announcement pacing shared by a set of interfaces.
    public var garpGroups: [GarpGroup] = []
    /// `linkbeat_interfaces { IF ... }`, and the top-level `linkbeat_use_polling` (every interface an instance
    /// uses): links whose carrier is read every second rather than trusted to netlink.
    public var linkbeatInterfaces: [String] = []
    public var linkbeatAll = false
    public var ssl: SSLSettings?
    public var virtualServerGroups: [VirtualServerGroup] = []
    public var virtualServers: [VirtualServer] = []
    /// `net_namespace NAME`: the network namespace keepalived runs in.
    public var networkNamespace: String?
    /// Top-level keywords other than blocks (`net_namespace`, `instance`, `use_pid_dir`, ...) and blocks Vigil
    /// keeps as written (`garp_group`, `bfd_instance`, `track_group`, `linkbeat_interfaces`, ...).
    public var otherSettings: [Setting] = []

    public init() {}

    public func instance(named name: String) -> VRRPInstance? { instances.first { $0.name == name } }
    public func script(named name: String) -> VRRPScript? { vrrpScripts.first { $0.name == name } }

    /// What a script command is run for.
    public enum ScriptPurpose: Sendable, Equatable {
        case global, trackScript, syncGroupNotify, instanceNotify, vrrpFIFO, quorum, realServerNotify, miscCheck
    }

    /// Calls `body` with every script command the configuration would run, and what it is for.
    public func forEachScriptCommand(_ body: (ScriptPurpose, ScriptCommand) -> Void) {
        for script in [
            global.startupScript, global.shutdownScript, global.notifyFIFOScript, global.vrrpNotifyFIFOScript,
            global.lvsNotifyFIFOScript,
        ] {
            if let script { body(.global, script) }
        }
        for script in vrrpScripts { if let command = script.command { body(.trackScript, command) } }
        for group in syncGroups { for command in group.notify.all { body(.syncGroupNotify, command) } }
        for instance in instances {
            for command in instance.notify.all { body(.instanceNotify, command) }
            if let deleted = instance.notifyDeleted { body(.instanceNotify, deleted) }
            if let lower = instance.notifyMasterRxLowerPriority { body(.instanceNotify, lower) }
        }
        for serverIndex in virtualServers.indices {
            if let up = virtualServers[serverIndex].quorumUp { body(.quorum, up) }
            if let down = virtualServers[serverIndex].quorumDown { body(.quorum, down) }
            for realIndex in virtualServers[serverIndex].realServers.indices {
                let real = virtualServers[serverIndex].realServers[realIndex]
                if let up = real.notifyUp { body(.realServerNotify, up) }
                if let down = real.notifyDown { body(.realServerNotify, down) }
                for checker in real.checkers {
                    if case .misc(let misc) = checker.kind, let command = misc.command { body(.miscCheck, command) }
                }
            }
        }
    }
}

/// `garp_group { garp_interval S; gna_interval S; interface IF; interfaces { IF ... } }`: gratuitous ARPs (and
/// neighbour advertisements) sent on these interfaces, by any instance, are at least this far apart, all the
/// interfaces of the group counting as one.
public struct GarpGroup: Hashable, Sendable {
    public var arpInterval: Duration?
    public var naInterval: Duration?
    public var interfaces: [String] = []
    public var location: SourceLocation

    public init(location: SourceLocation) { self.location = location }
}

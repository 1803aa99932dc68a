/// A whole keepalived configuration, parsed and validated: what the daemon runs.
public struct Configuration: Hashable, Sendable {
    public var global = GlobalDefinitions()
    public var vrrpScripts: [VRRPScript] = []
    public var trackFiles: [TrackFile] = []
    public var trackProcesses: [TrackProcess] = []
    public var syncGroups: [SyncGroup] = []
    public var instances: [VRRPInstance] = []
    public var staticAddresses: [VirtualAddress] = []
    public var staticRoutes: [Route] = []
    public var staticRules: [Rule] = []
    public var ssl: SSLSettings?
    public var virtualServerGroups: [VirtualServerGroup] = []
    public var virtualServers: [VirtualServer] = []
    /// Top-level keywords other than blocks (`net_namespace`, `instance`, `use_pid_dir`, ...) and blocks Vigil
    /// keeps as written (`garp_group`, `bfd_instance`, `track_group`, `linkbeat_interfaces`, ...).
    public var otherSettings: [Setting] = []

    public init() {}

    public func instance(named name: String) -> VRRPInstance? { instances.first { $0.name == name } }
    public func script(named name: String) -> VRRPScript? { vrrpScripts.first { $0.name == name } }

    /// Every script command the configuration would run, with what it is for.
    public var scriptCommands: [(purpose: String, command: ScriptCommand)] {
        var result = [(String, ScriptCommand)]()
        for script in [
            global.startupScript, global.shutdownScript, global.notifyFIFOScript,
            global.vrrpNotifyFIFOScript, global.lvsNotifyFIFOScript,
        ].compactMap({ $0 }) {
            result.append(("global_defs", script))
        }
        for script in vrrpScripts {
            if let command = script.command { result.append(("vrrp_script \(script.name)", command)) }
        }
        for group in syncGroups {
            for command in group.notify.all { result.append(("vrrp_sync_group \(group.name)", command)) }
        }
        for instance in instances {
            var commands = instance.notify.all
            if let deleted = instance.notifyDeleted { commands.append(deleted) }
            if let lower = instance.notifyMasterRxLowerPriority { commands.append(lower) }
            for command in commands { result.append(("vrrp_instance \(instance.name)", command)) }
        }
        for server in virtualServers {
            for command in [server.quorumUp, server.quorumDown].compactMap({ $0 }) {
                result.append(("virtual_server \(server.address)", command))
            }
            for real in server.realServers {
                for command in [real.notifyUp, real.notifyDown].compactMap({ $0 }) {
                    result.append(("real_server \(real.address)", command))
                }
                for checker in real.checkers {
                    if case .misc(let misc) = checker.kind, let command = misc.command {
                        result.append(("MISC_CHECK", command))
                    }
                }
            }
        }
        return result
    }
}

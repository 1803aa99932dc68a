/// What becomes of the VRRP process started before the configuration was read (`Supervisor.startEarly`), once the
/// supervisor has read it: it goes on only if it is the process `run` would have started, in the same place.
public enum EarlyStart: Equatable, Sendable {
    /// It goes on when the gate opens.
    case keep
    /// It is sent away before it touched anything, for this reason.
    case abandon(Reason)

    public enum Reason: Equatable, Sendable {
        /// The file has no VRRP instance (and `--all` is not given): no VRRP process at all.
        case noVRRP
        /// The file names a `net_namespace`: the process must start inside it, and it started outside.
        case namespaceInFile
        /// Process tracking: the kernel's process events, opened by the supervisor, reach only a process started
        /// afterwards (at fd 4).
        case processEvents
        /// A `startup_script` runs first and may write what the file includes: the file is read after it.
        case startupScript
    }

    /// The decision, from what the file and the command line ask for.
    public static func decide(
        wantsVRRP: Bool, namespaceInFile: Bool, processEvents: Bool, startupScript: Bool
    ) -> EarlyStart {
        if !wantsVRRP { return .abandon(.noVRRP) }
        if namespaceInFile { return .abandon(.namespaceInFile) }
        if processEvents { return .abandon(.processEvents) }
        if startupScript { return .abandon(.startupScript) }
        return .keep
    }
}

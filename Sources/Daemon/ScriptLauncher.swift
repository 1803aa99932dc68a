import Glibc
import LinuxNet
import Logging
import VigilConfig

/// Turns a configured script into a process: the program found, a shell only when the line needs one, the
/// user it runs as (`script_user`, else `keepalived_script` if that user exists, else root), and script security.
public struct ScriptLauncher: Sendable {
    public let scriptSecurity: Bool
    let environment = LocalEnvironment()
    private let defaultUser: DefaultUser

    public init(global: GlobalDefinitions) {
        scriptSecurity = global.enableScriptSecurity
        defaultUser = DefaultUser(user: global.scriptUser, group: global.scriptGroup, scriptSecurity: scriptSecurity)
    }

    /// Whom a script without its own user runs as, looked up in the user database the first time a script needs it
    /// and then kept, as keepalived does: a configuration without such scripts costs no lookup (NSS may load
    /// modules and walk several databases for each), and every process of Vigil builds a launcher.
    private final class DefaultUser: @unchecked Sendable {
        let user: String?
        let group: String?
        let scriptSecurity: Bool
        private let lock = ConditionLock()
        private var resolved: (credentials: ChildProcess.Credentials?, refusal: String?)?

        init(user: String?, group: String?, scriptSecurity: Bool) {
            self.user = user
            self.group = group
            self.scriptSecurity = scriptSecurity
        }

        /// The credentials (nil: our own), or why no script without its own user may run (`script_user`
        /// missing, or script security without `keepalived_script`): keepalived disables them rather than run
        /// them as root.
        func resolve() -> (credentials: ChildProcess.Credentials?, refusal: String?) {
            lock.withLock {
                if let resolved { return resolved }
                let result: (ChildProcess.Credentials?, String?)
                if let user {
                    let found = ChildProcess.Credentials.lookup(user: user, group: group)
                    result = (found, found == nil ? "script_user \(user) does not exist" : nil)
                } else {
                    let found = ChildProcess.Credentials.lookup(user: "keepalived_script")
                    result = (
                        found,
                        found == nil && scriptSecurity
                            ? "keepalived_script does not exist and script_user is not set" : nil
                    )
                }
                resolved = result
                return result
            }
        }
    }

    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
    }

    /// The argv and credentials for `command`, with `extra` arguments appended (the `notify` script's four).
    public func prepare(
        _ command: ScriptCommand, user: String? = nil, group: String? = nil, extra: [String] = []
    )
        throws(Refusal) -> (arguments: [String], credentials: ChildProcess.Credentials?)
    {
        var credentials: ChildProcess.Credentials?
        if let user = user ?? command.user {
            guard let found = ChildProcess.Credentials.lookup(user: user, group: group ?? command.group) else {
                throw Refusal(description: "user \(user) (or its group) does not exist")
            }
            credentials = found
        } else {
            let fallback = defaultUser.resolve()
            if let refusal = fallback.refusal {
                throw Refusal(description: "no user to run it as (\(refusal))")
            }
            credentials = fallback.credentials
        }
        let program: String
        var arguments: [String]
        if command.needsShell {
            program = "/bin/sh"
            // Extra arguments reach the command as "$@".
            let line = command.shellLine + (extra.isEmpty ? "" : " \"$@\"")
            arguments = ["/bin/sh", "-c", line] + (extra.isEmpty ? [] : ["sh"] + extra)
        } else {
            switch environment.program(command.program) {
            case .found(let path, _): program = path
            case .notFound, .unknown: throw Refusal(description: "cannot find \(command.program)")
            }
            arguments = [program] + Array(command.arguments.dropFirst()) + extra
        }
        try checkSafety(program)
        return (arguments, credentials)
    }

    /// With `enable_script_security`, refuses a program that someone other than root could have changed.
    public func checkSafety(_ program: String) throws(Refusal) {
        if scriptSecurity, let unsafe = LocalEnvironment.firstUnsafeComponent(of: program) {
            throw Refusal(
                description:
                    "\(program) is not safe to run: \(unsafe) can be changed by users other than root (enable_script_security)"
            )
        }
    }

    /// Starts a script.
    public func start(
        _ command: ScriptCommand, user: String? = nil, group: String? = nil, extra: [String] = []
    )
        throws -> ChildProcess
    {
        let (arguments, credentials) = try prepare(command, user: user, group: group, extra: extra)
        return try ChildProcess(arguments, credentials: credentials)
    }
}

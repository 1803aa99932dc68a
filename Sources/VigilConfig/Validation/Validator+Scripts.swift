extension Validator {
    /// Scripts that cannot be found, scripts in places others can write to, and scripts that would run as root
    /// without `enable_script_security` (keepalived's SECURITY VIOLATION, exit code 6 under `-t`).
    mutating func checkScripts() {
        let global = configuration.global
        if let user = global.scriptUser, environment.userExists(user) == false {
            report(
                .error, .unknownReference, global.location ?? SourceLocation(file: "", line: 0),
                "script_user \(user) does not exist on this machine; create it or name an existing user")
        }
        let defaultUser: String? =
            global.scriptUser
            ?? environment.userExists("keepalived_script").map { $0 ? "keepalived_script" : "root" }

        var firstRootScript: ScriptCommand?
        func examine(_ command: ScriptCommand, user: String?, tracker: Bool) -> Bool {
            let program = command.needsShell ? "/bin/sh" : command.program
            switch environment.program(program) {
            case .unknown:
                return true
            case .notFound:
                if tracker {
                    report(
                        .warning, .scriptMissing, command.location,
                        "cannot find the program \(command.program) of this script, so the tracker is disabled (as keepalived does); give its full path or install it"
                    )
                    return false
                }
                report(
                    .note, .scriptMissing, command.location,
                    "cannot find the program \(command.program); it will not run. Give its full path or install it")
                return true
            case .found(let path, let unsafe):
                if global.enableScriptSecurity, let unsafe {
                    report(
                        .error, .scriptSecurity, command.location,
                        "\(path) is not safe to run: \(unsafe) can be changed by users other than root; with enable_script_security the script is refused. Make it owned by root and writable only by root"
                    )
                    return false
                }
                if (user ?? defaultUser) == "root" && !global.enableScriptSecurity && firstRootScript == nil {
                    firstRootScript = command
                }
                return true
            }
        }

        var disabledScripts = Set<String>()
        for script in configuration.vrrpScripts {
            guard let command = script.command else { continue }
            if !examine(command, user: script.user, tracker: true) { disabledScripts.insert(script.name) }
        }
        configuration.forEachScriptCommand { purpose, command in
            if purpose != .trackScript { _ = examine(command, user: command.user, tracker: false) }
        }
        if !disabledScripts.isEmpty {
            configuration.vrrpScripts.removeAll { disabledScripts.contains($0.name) }
            for index in configuration.instances.indices {
                configuration.instances[index].trackScripts.removeAll { disabledScripts.contains($0.name) }
            }
            for index in configuration.syncGroups.indices {
                configuration.syncGroups[index].trackScripts.removeAll { disabledScripts.contains($0.name) }
            }
        }
        if let command = firstRootScript {
            report(
                .error, .scriptSecurity, command.location,
                "scripts would run as root but `enable_script_security` is not set (keepalived calls this a SECURITY VIOLATION); add `enable_script_security` and a `script_user` to global_defs"
            )
        }
    }
}

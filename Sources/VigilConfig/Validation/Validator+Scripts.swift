extension Validator {
    /// Scripts that cannot be found, scripts in places others can write to, scripts with no user to run as, and
    /// scripts that would run as root without `enable_script_security` (keepalived's SECURITY VIOLATION, exit code
    /// 6 under `-t`).
    ///
    /// The user, as keepalived 2.2.7 decides it: a script's own `user`, else `script_user`, else
    /// `keepalived_script` if that user exists, else root. With `enable_script_security`, root is never the
    /// fallback: when neither `script_user` nor `keepalived_script` can be used, every script without its own user
    /// is removed (a tracker and a MISC_CHECK with it, as keepalived does), rather than run as root.
    mutating func checkScripts() {
        let global = configuration.global
        let location = global.location ?? SourceLocation(file: "", line: 0)
        var noDefaultUser: String?
        if let user = global.scriptUser, environment.userExists(user) == false {
            report(
                .error, .scriptUser, location,
                "script_user \(user) does not exist on this machine, so scripts without their own `user` are disabled (as keepalived does); create the user or name an existing one"
            )
            noDefaultUser = "script_user \(user) does not exist"
        }
        // keepalived looks `keepalived_script` up the first time a script without its own user needs it, not
        // before: a file without such scripts gets neither the lookup (NSS can be slow) nor its error.
        var defaultUserResolved = false
        var defaultUser: String?
        func resolveDefaultUser() {
            guard !defaultUserResolved, noDefaultUser == nil else { return }
            defaultUserResolved = true
            if let user = global.scriptUser {
                defaultUser = user
                return
            }
            let exists = environment.userExists("keepalived_script")
            if global.enableScriptSecurity, exists == false {
                report(
                    .error, .scriptUser, location,
                    "with enable_script_security and no script_user, scripts run as the user keepalived_script, which does not exist here; scripts without their own `user` are disabled (as keepalived does). Create keepalived_script or set script_user"
                )
                noDefaultUser = "no script user: keepalived_script does not exist and script_user is not set"
                return
            }
            defaultUser = exists.map { $0 ? "keepalived_script" : "root" }
        }

        // keepalived stops validating VRRP before its script-security check when an interface a VRRP instance
        // names is missing; its -t then reports no SECURITY VIOLATION for VRRP's scripts (exit 5, not 6).

        var firstRootScript: ScriptCommand?
        /// Whether the command may run: false removes it (with what uses it).
        func examine(_ command: ScriptCommand, user: String?, tracker: Bool, vrrp: Bool) -> Bool {
            if user == nil && command.user == nil { resolveDefaultUser() }
            let runsAs = user ?? command.user ?? defaultUser
            if runsAs == nil, let noDefaultUser {
                report(
                    .warning, .scriptUser, command.location,
                    "\(command.program) has no user to run as (\(noDefaultUser)), so it is disabled; give it a `user` or fix script_user"
                )
                return false
            }
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
                if runsAs == "root" && !global.enableScriptSecurity && firstRootScript == nil
                    && !(vrrp && vrrpInterfaceMissing)
                {
                    firstRootScript = command
                }
                return true
            }
        }

        var disabledScripts = Set<String>()
        for script in configuration.vrrpScripts {
            guard let command = script.command else { continue }
            if !examine(command, user: script.user, tracker: true, vrrp: true) { disabledScripts.insert(script.name) }
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
        // Moved out while filtered (`examine` reports into self), so that the filter's writes find the arrays
        // unshared and change them in place rather than copy them.
        var filtered = configuration
        configuration = Configuration()
        filtered.filterScriptCommands { purpose, command in
            let vrrp = [.syncGroupNotify, .instanceNotify, .vrrpFIFO].contains(purpose)
            return examine(command, user: nil, tracker: false, vrrp: vrrp)
        }
        configuration = filtered
        if let command = firstRootScript {
            report(
                .error, .scriptSecurity, command.location,
                "scripts would run as root but `enable_script_security` is not set (keepalived calls this a SECURITY VIOLATION); add `enable_script_security` and a `script_user` to global_defs"
            )
        }
    }
}

extension Configuration {
    /// Keeps the script commands (other than `vrrp_script`s) for which `keep` says true and removes the others; a
    /// MISC_CHECK whose script is removed goes with it, as in keepalived.
    mutating func filterScriptCommands(_ keep: (ScriptPurpose, ScriptCommand) -> Bool) {
        func filtered(_ command: ScriptCommand?, _ purpose: ScriptPurpose) -> ScriptCommand? {
            guard let command else { return nil }
            return keep(purpose, command) ? command : nil
        }
        global.startupScript = filtered(global.startupScript, .global)
        global.shutdownScript = filtered(global.shutdownScript, .global)
        global.notifyFIFOScript = filtered(global.notifyFIFOScript, .vrrpFIFO)
        global.vrrpNotifyFIFOScript = filtered(global.vrrpNotifyFIFOScript, .vrrpFIFO)
        global.lvsNotifyFIFOScript = filtered(global.lvsNotifyFIFOScript, .global)
        func notify(_ scripts: inout NotifyScripts, _ purpose: ScriptPurpose) {
            scripts.master = filtered(scripts.master, purpose)
            scripts.backup = filtered(scripts.backup, purpose)
            scripts.fault = filtered(scripts.fault, purpose)
            scripts.stop = filtered(scripts.stop, purpose)
            scripts.generic = filtered(scripts.generic, purpose)
        }
        for index in syncGroups.indices { notify(&syncGroups[index].notify, .syncGroupNotify) }
        // Written only where there is a script: a write to every instance would copy the whole array.
        let withScripts = instances.indices.filter {
            instances[$0].notify.isEmpty == false || instances[$0].notifyDeleted != nil
                || instances[$0].notifyMasterRxLowerPriority != nil
        }
        for index in withScripts {
            notify(&instances[index].notify, .instanceNotify)
            instances[index].notifyDeleted = filtered(instances[index].notifyDeleted, .instanceNotify)
            instances[index].notifyMasterRxLowerPriority = filtered(
                instances[index].notifyMasterRxLowerPriority, .instanceNotify)
        }
        for serverIndex in virtualServers.indices {
            if virtualServers[serverIndex].quorumUp != nil || virtualServers[serverIndex].quorumDown != nil {
                virtualServers[serverIndex].quorumUp = filtered(virtualServers[serverIndex].quorumUp, .quorum)
                virtualServers[serverIndex].quorumDown = filtered(virtualServers[serverIndex].quorumDown, .quorum)
            }
            let withScripts = virtualServers[serverIndex].realServers.indices.filter { realIndex in
                let real = virtualServers[serverIndex].realServers[realIndex]
                return real.notifyUp != nil || real.notifyDown != nil
                    || real.checkers.contains { if case .misc = $0.kind { true } else { false } }
            }
            for realIndex in withScripts {
                var real = virtualServers[serverIndex].realServers[realIndex]
                real.notifyUp = filtered(real.notifyUp, .realServerNotify)
                real.notifyDown = filtered(real.notifyDown, .realServerNotify)
                real.checkers.removeAll { checker in
                    guard case .misc(let misc) = checker.kind, let command = misc.command else { return false }
                    var withUser = command
                    withUser.user = misc.user ?? command.user
                    return !keep(.miscCheck, withUser)
                }
                virtualServers[serverIndex].realServers[realIndex] = real
            }
        }
    }
}

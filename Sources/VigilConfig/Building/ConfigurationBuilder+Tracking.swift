extension ConfigurationBuilder {
    mutating func buildVRRPScript(_ statement: Statement) {
        guard let name = blockName(statement, what: "script") else { return }
        if configuration.vrrpScripts.contains(where: { $0.name == name }) {
            error(
                .duplicate, statement.location, "a `vrrp_script` named \(name) is already defined; this one is ignored")
            return
        }
        var script = VRRPScript(name: name, location: statement.location)
        for (keyword, child) in known(statement.block ?? [], in: .vrrpScript) {
            switch keyword {
            case "script": script.command = self.script(child, takesUser: false)
            case "interval":
                if let value = integer(child, 0...4294, "an interval in whole seconds from 0 to 4294") {
                    script.interval = .seconds(max(value, 1))
                }
            case "timeout":
                if let value = integer(child, 0...4294, "a timeout in whole seconds from 0 to 4294") {
                    script.timeout = .seconds(max(value, 1))
                }
            case "weight":
                if let (weight, reverse) = weight(child.arguments[...], -253...253, keyword: "weight") {
                    script.weight = weight
                    script.reverse = reverse ?? false
                } else if child.arguments.isEmpty {
                    error(.missingArgument, child.location, "`weight` needs a number from -253 to 253")
                }
            case "rise": if let value = integer(child, 1...Int(Int32.max)) { script.rise = value }
            case "fall": if let value = integer(child, 1...Int(Int32.max)) { script.fall = value }
            case "user":
                script.user = word(child, "a user name, and optionally a group")
                if child.arguments.count > 1 { script.group = child.arguments[1].text }
            case "init_fail": script.initFail = true
            default: break
            }
        }
        if script.command == nil {
            warning(
                .missingSetting, statement.closeBrace ?? statement.location,
                "`vrrp_script \(name)` has no `script` line, so it is removed")
            return
        }
        configuration.vrrpScripts.append(script)
    }

    mutating func buildTrackFile(_ statement: Statement) {
        guard let name = blockName(statement, what: "tracked file") else { return }
        var file = TrackFile(name: name, location: statement.location)
        let schema: BlockSchema = statement.name == "track_file" ? .trackFile : .vrrpTrackFile
        for (keyword, child) in known(statement.block ?? [], in: schema) {
            switch keyword {
            case "file": file.path = word(child, "the path of the file to watch")
            case "weight":
                if let (weight, reverse) = weight(child.arguments[...], -254...254, keyword: "weight") {
                    file.weight = weight
                    file.reverse = reverse ?? false
                }
            case "init_file":
                for argument in child.arguments {
                    if argument.text == "overwrite" {
                        file.overwrite = true
                    } else if let value = Int(argument.text) {
                        file.initialValue = value
                    } else {
                        error(.invalidValue, argument.location, "`init_file` takes a number and/or `overwrite`")
                    }
                }
                if file.initialValue == nil { file.initialValue = 0 }
            default: break
            }
        }
        guard file.path != nil else {
            warning(
                .missingSetting, statement.location, "`\(statement.name) \(name)` has no `file` line, so it is removed")
            return
        }
        configuration.trackFiles.append(file)
    }

    mutating func buildTrackProcess(_ statement: Statement) {
        guard let name = blockName(statement, what: "tracked process") else { return }
        var process = TrackProcess(name: name, location: statement.location)
        for (keyword, child) in known(statement.block ?? [], in: .vrrpTrackProcess) {
            switch keyword {
            case "process":
                process.process = word(child, "a process name or path, and optionally its parameters")
                process.parameters = child.arguments.dropFirst().map(\.text)
                // keepalived: parameters mean the whole command line is matched, exactly unless said otherwise.
                if !process.parameters.isEmpty {
                    process.fullCommand = true
                    if process.parameterMatch == .none { process.parameterMatch = .exact }
                }
            case "param_match":
                process.fullCommand = true
                switch child.arguments.first?.text {
                case nil: process.parameterMatch = .exact
                case "initial": process.parameterMatch = .initial
                case "partial": process.parameterMatch = .partial
                case let other?:
                    error(
                        .invalidValue, child.arguments[0].location,
                        "`param_match` is initial or partial, not '\(other)'")
                }
            case "weight":
                if let (weight, reverse) = weight(child.arguments[...], -254...254, keyword: "weight") {
                    process.weight = weight
                    process.reverse = reverse ?? false
                }
            case "quorum": if let value = integer(child, 1...65535) { process.quorum = value }
            case "quorum_max": process.quorumMaximum = integer(child, 0...65535)
            case "delay": process.delay = seconds(child, .microseconds(1) ... .seconds(3600))
            case "terminate_delay": process.terminateDelay = seconds(child, .microseconds(1) ... .seconds(3600))
            case "fork_delay": process.forkDelay = seconds(child, .microseconds(1) ... .seconds(3600))
            case "full_command": process.fullCommand = true
            default: break
            }
        }
        if let maximum = process.quorumMaximum, maximum > 0, process.quorum > maximum {
            error(
                .conflict, statement.location,
                "`quorum` \(process.quorum) is above `quorum_max` \(maximum); the tracker could never be up")
        }
        guard process.process != nil else {
            warning(
                .missingSetting, statement.location,
                "`vrrp_track_process \(name)` has no `process` line, so it is removed")
            return
        }
        configuration.trackProcesses.append(process)
    }

    mutating func buildSyncGroup(_ statement: Statement) {
        guard let name = blockName(statement, what: "sync group") else { return }
        if configuration.syncGroups.contains(where: { $0.name == name }) {
            error(
                .duplicate, statement.location,
                "a `vrrp_sync_group` named \(name) is already defined; this one is ignored")
            return
        }
        var group = SyncGroup(name: name, location: statement.location)
        var sawGroup = false
        for (keyword, child) in known(statement.block ?? [], in: .vrrpSyncGroup) {
            switch keyword {
            case "group":
                if sawGroup {
                    error(.duplicate, child.location, "`\(name)` already has a `group` block; list every member in one")
                    continue
                }
                sawGroup = true
                group.members = (child.block ?? []).flatMap(\.words)
            case "track_interface": group.trackInterfaces += trackedInterfaces(child)
            case "track_script": group.trackScripts += trackedReferences(child, weightRange: -254...254)
            case "track_file": group.trackFiles += trackedReferences(child, weightRange: -254...254)
            case "track_process": group.trackProcesses += trackedReferences(child, weightRange: -254...254)
            case "track_bfd": group.trackBFDs += trackedReferences(child, weightRange: -253...253)
            case "notify_master": group.notify.master = script(child)
            case "notify_backup": group.notify.backup = script(child)
            case "notify_fault": group.notify.fault = script(child)
            case "notify_stop": group.notify.stop = script(child)
            case "notify": group.notify.generic = script(child)
            case "smtp_alert": group.smtpAlert = boolean(child)
            case "notify_priority_changes": group.notifyPriorityChanges = boolean(child)
            case "sync_group_tracking_weight", "global_tracking": group.trackingWeight = true
            default: break
            }
        }
        configuration.syncGroups.append(group)
    }
}

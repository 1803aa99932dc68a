extension ConfigurationBuilder {
    mutating func buildTopLevel(_ statements: [Statement]) {
        for (name, statement) in known(statements, in: .keepalived) {
            switch name {
            case "global_defs":
                buildGlobalDefinitions(statement)
            case "vrrp_instance":
                buildInstance(statement)
            case "vrrp_script":
                buildVRRPScript(statement)
            case "track_file", "vrrp_track_file":
                buildTrackFile(statement)
            case "vrrp_track_process":
                buildTrackProcess(statement)
            case "vrrp_sync_group":
                buildSyncGroup(statement)
            case "bfd_instance":
                buildBFDInstance(statement)
            case "static_ipaddress":
                configuration.staticAddresses += virtualAddresses(statement, family: nil, allowVMAC: false)
            case "static_routes":
                configuration.staticRoutes += routes(statement, virtual: false)
            case "static_rules":
                configuration.staticRules += rules(statement, virtual: false)
            case "virtual_server_group":
                buildVirtualServerGroup(statement)
            case "virtual_server":
                buildVirtualServer(statement)
            case "SSL":
                buildSSL(statement)
            case "garp_group":
                buildGarpGroup(statement)
            case "linkbeat_interfaces":
                configuration.linkbeatInterfaces += (statement.block ?? []).flatMap(\.words).map(\.text)
            case "linkbeat_use_polling":
                configuration.linkbeatAll = true
            case "net_namespace":
                configuration.networkNamespace = word(statement, "the name of a network namespace")
            default:
                // Blocks and keywords Vigil keeps as written: garp_group, track_group,
                // linkbeat_interfaces, interface_up_down_delays, net_namespace, instance, use_pid_dir, ...
                var kept = [Setting]()
                keep(statement, schema: BlockSchema.keepalived[name]?.children, into: &kept)
                configuration.otherSettings += kept
            }
        }
    }

    mutating func buildGarpGroup(_ statement: Statement) {
        var group = GarpGroup(location: statement.location)
        for (name, child) in known(statement.block ?? [], in: BlockSchema.garpGroup) {
            switch name {
            case "garp_interval", "gna_interval":
                guard let value = seconds(child, .zero ... .seconds(Int64(Int32.max) / 1_000_000)) else { break }
                if value >= .seconds(1) {
                    warning(.invalidValue, child.location, "`\(name) \(Self.format(value))` is very large")
                }
                if name == "garp_interval" { group.arpInterval = value } else { group.naInterval = value }
            case "interface":
                if let interface = word(child, "an interface name") { group.interfaces.append(interface) }
            case "interfaces":
                group.interfaces += (child.block ?? []).flatMap(\.words).map(\.text)
            default:
                break
            }
        }
        configuration.garpGroups.append(group)
    }

    /// Keeps a block Vigil does not act on (its keyword was reported): its lines are still checked against the
    /// schema, so a misspelt keyword inside is reported too.
    mutating func keep(_ statement: Statement, schema: BlockSchema?, into settings: inout [Setting]) {
        guard let schema, let block = statement.block else {
            keep(statement, into: &settings)
            return
        }
        settings.append(setting(statement))
        for (_, child) in known(block, in: schema, reportingSupport: false) {
            keep(child, schema: schema[child.name]?.children, into: &settings)
        }
    }

    /// Keeps a statement and, for a block, each of its lines, as settings.
    func keep(_ statement: Statement, into settings: inout [Setting]) {
        settings.append(setting(statement))
        for child in statement.block ?? [] { keep(child, into: &settings) }
    }

    /// The one name a named block takes (`vrrp_instance VI_1`), or nil after reporting what is wrong.
    mutating func blockName(_ statement: Statement, what: String) -> String? {
        guard let first = statement.arguments.first else {
            error(
                .missingArgument, statement.location,
                "`\(statement.name)` needs a name: \(statement.name) NAME { ... }; this block is ignored")
            return nil
        }
        if statement.arguments.count > 1 {
            warning(
                .extraArgument, statement.arguments[1].location,
                "`\(statement.name)` takes one name; '\(statement.arguments[1...].map(\.text).joined(separator: " "))' is ignored"
            )
        }
        return first.text
    }

    mutating func buildSSL(_ statement: Statement) {
        var ssl = SSLSettings(location: statement.location)
        for (name, child) in known(statement.block ?? [], in: .ssl) {
            switch name {
            case "password": ssl.password = word(child, "the key's password")
            case "ca": ssl.certificateAuthority = word(child, "a CA certificate file")
            case "certificate": ssl.certificate = word(child, "a certificate file")
            case "key": ssl.key = word(child, "a key file")
            default: break
            }
        }
        if configuration.ssl != nil {
            warning(.duplicate, statement.location, "a second `SSL` block replaces the first; merge them into one")
        }
        configuration.ssl = ssl
    }
}

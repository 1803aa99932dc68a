/// Settings a checker inherits from its real server, which inherits them from its virtual server.
struct InheritedCheckerSettings {
    var delayLoop: Duration?
    var connectTimeout: Duration?
    var retry: Int?
    var delayBeforeRetry: Duration?
    var warmup: Duration?
    var virtualhost: String?
    var alpha: Bool?

    /// This level's values where set, the outer level's otherwise.
    func over(_ outer: InheritedCheckerSettings) -> InheritedCheckerSettings {
        InheritedCheckerSettings(
            delayLoop: delayLoop ?? outer.delayLoop, connectTimeout: connectTimeout ?? outer.connectTimeout,
            retry: retry ?? outer.retry, delayBeforeRetry: delayBeforeRetry ?? outer.delayBeforeRetry,
            warmup: warmup ?? outer.warmup, virtualhost: virtualhost ?? outer.virtualhost, alpha: alpha ?? outer.alpha)
    }
}

extension ConfigurationBuilder {
    mutating func buildVirtualServerGroup(_ statement: Statement) {
        guard let name = blockName(statement, what: "group") else { return }
        var group = VirtualServerGroup(name: name, location: statement.location)
        for item in statement.block ?? [] {
            if item.name == "fwmark" {
                guard let markToken = item.arguments.first,
                    let mark = integer(markToken, 0...Int(UInt32.max), keyword: "fwmark", "a firewall mark")
                else { continue }
                var family: IPAddress.Family?
                if item.arguments.count > 1 { family = item.arguments[1].text == "inet6" ? .ipv6 : .ipv4 }
                group.entries.append(.firewallMark(UInt32(mark), family: family))
                reportSupport("virtual_server_group", as: "virtual_server_group", in: "top level", item.location, except: true)
                continue
            }
            guard let range = addressRange(item.keyword) else { continue }
            var port: UInt16?
            if let portToken = item.arguments.first, let value = self.port(portToken, keyword: "port"), value != 0 {
                port = value
            } else {
                reportSupport("virtual_server_group", as: "virtual_server_group", in: "top level", item.location, except: true)
            }
            group.entries.append(.addresses(first: range.first, last: range.last, port: port))
        }
        if group.entries.isEmpty {
            warning(
                .missingSetting, statement.location, "`virtual_server_group \(name)` has no entries, so it is removed")
            return
        }
        configuration.virtualServerGroups.append(group)
    }

    /// `IP`, `IP-LAST` (last byte or group), `IP-FULLADDRESS`, or `IP/LEN`.
    mutating func addressRange(_ token: Token) -> (first: IPAddress, last: IPAddress)? {
        let text = token.text
        if let slash = text.firstIndex(of: "/"), let prefix = IPPrefix(text) {
            _ = slash
            let bytes = prefix.address.bytes
            var last = bytes
            let hostBits = prefix.address.maximumPrefixLength - prefix.length
            for bit in 0..<hostBits {
                let byteIndex = bytes.count - 1 - bit / 8
                last[byteIndex] |= UInt8(1 << (bit % 8))
            }
            return (prefix.address, IPAddress(bytes: last)!)
        }
        let parts = text.split(separator: "-", maxSplits: 1)
        guard let first = IPAddress(parts[0]) else {
            error(.invalidValue, token.location, "'\(text)' is not an address or address range; this entry is ignored")
            return nil
        }
        guard parts.count == 2 else { return (first, first) }
        if let full = IPAddress(parts[1]) { return (first, full) }
        var bytes = first.bytes
        if first.family == .ipv4, let end = UInt8(parts[1]), end > bytes[3] {
            bytes[3] = end
            return (first, IPAddress(bytes: bytes)!)
        }
        if first.family == .ipv6, let end = UInt16(parts[1], radix: 16) {
            bytes[14] = UInt8(end >> 8)
            bytes[15] = UInt8(end & 0xff)
            if let last = IPAddress(bytes: bytes), first < last { return (first, last) }
        }
        error(.invalidValue, token.location, "'\(text)' is not a valid address range; the end must be above the start")
        return nil
    }

    mutating func buildVirtualServer(_ statement: Statement) {
        let arguments = statement.arguments
        guard let first = arguments.first else {
            error(
                .missingArgument, statement.location,
                "`virtual_server` needs `IP PORT`, `fwmark N` or `group NAME`; this block is ignored")
            return
        }
        let serviceAddress: VirtualServer.Address
        switch first.text {
        case "fwmark":
            guard arguments.count > 1,
                let mark = integer(
                    arguments[1], 1...Int(UInt32.max), keyword: "fwmark", "a firewall mark from 1 to 4294967295")
            else {
                if arguments.count < 2 { error(.missingArgument, first.location, "`fwmark` needs a number") }
                return
            }
            serviceAddress = .firewallMark(UInt32(mark))
            reportSupport(
                "virtual_server", as: "virtual_server", in: "top level", statement.location, except: true)
        case "group":
            guard arguments.count > 1 else {
                error(.missingArgument, first.location, "`group` needs the name of a virtual_server_group")
                return
            }
            serviceAddress = .group(arguments[1].text)
        default:
            guard let ip = address(first, keyword: "virtual_server") else { return }
            var port: UInt16 = 0
            if arguments.count > 1, let value = self.port(arguments[1], keyword: "virtual_server") { port = value }
            serviceAddress = .socket(ip, port: port)
        }
        var server = VirtualServer(address: serviceAddress, location: statement.location)
        if case .socket(let ip, _) = serviceAddress { server.family = ip.family }
        var inherited = InheritedCheckerSettings()
        var realServerStatements = [Statement]()
        var protocolLocation: SourceLocation?
        for (keyword, child) in known(statement.block ?? [], in: .virtualServer) {
            server.keywordLocations[keyword] = child.location
            switch keyword {
            case "ip_family":
                switch child.arguments.first?.text {
                case "inet": server.family = .ipv4
                case "inet6": server.family = .ipv6
                default: error(.invalidValue, child.location, "`ip_family` is inet or inet6")
                }
            case "delay_loop":
                if let value = seconds(child, .microseconds(1) ... .seconds(86400)) {
                    server.delayLoop = value
                    inherited.delayLoop = value
                }
            case "connect_timeout": inherited.connectTimeout = seconds(child, .microseconds(1) ... .seconds(86400))
            case "retry": inherited.retry = integer(child, 1...Int(UInt32.max))
            case "delay_before_retry": inherited.delayBeforeRetry = seconds(child, .zero ... .seconds(86400))
            case "warmup": inherited.warmup = seconds(child, .zero ... .seconds(86400))
            case "virtualhost":
                server.virtualhost = word(child, "a host name")
                inherited.virtualhost = server.virtualhost
            case "lvs_sched":
                guard
                    let value = word(child, "a scheduler: \(VirtualServer.schedulers.sorted().joined(separator: " "))")
                else { break }
                if VirtualServer.schedulers.contains(value) {
                    server.scheduler = value
                } else {
                    error(
                        .invalidValue, child.arguments[0].location,
                        "unknown scheduler '\(value)'; use one of \(VirtualServer.schedulers.sorted().joined(separator: ", "))"
                    )
                }
            case "lvs_method":
                if let (method, tunnel) = forwarding(child) {
                    server.forwardingMethod = method
                    server.tunnel = tunnel
                }
            case "hashed": server.schedulerFlags.insert(.hashed)
            case "flag-1", "sh-fallback", "mh-fallback": server.schedulerFlags.insert(.flag1)
            case "flag-2", "sh-port", "mh-port": server.schedulerFlags.insert(.flag2)
            case "flag-3": server.schedulerFlags.insert(.flag3)
            case "protocol":
                guard let value = word(child, "TCP, UDP or SCTP") else { break }
                if let transport = VirtualServer.TransportProtocol(rawValue: value) {
                    server.transportProtocol = transport
                    protocolLocation = child.location
                } else {
                    error(.invalidValue, child.arguments[0].location, "`protocol` is TCP, UDP or SCTP, not '\(value)'")
                }
            case "persistence_timeout":
                if child.arguments.isEmpty {
                    server.persistenceTimeout = .seconds(360)
                } else if let value = integer(child, 1...2_678_400) {
                    server.persistenceTimeout = .seconds(value)
                }
            case "persistence_granularity":
                server.persistenceGranularity = word(child, "a netmask or prefix length")
                if server.persistenceTimeout == nil { server.persistenceTimeout = .seconds(360) }
            case "persistence_engine": server.persistenceEngine = word(child, "an engine name")
            case "weight": if let value = integer(child, 1...Int(Int32.max)) { server.weight = value }
            case "quorum": if let value = integer(child, 1...Int(UInt32.max)) { server.quorum = value }
            case "hysteresis": if let value = integer(child, 0...Int(UInt32.max)) { server.hysteresis = value }
            case "alpha":
                server.alpha = true
                inherited.alpha = true
            case "omega": server.omega = true
            case "quorum_up": server.quorumUp = script(child)
            case "quorum_down": server.quorumDown = script(child)
            case "inhibit_on_failure": server.inhibitOnFailure = true
            case "sorry_server":
                guard let ip = address(child) else { break }
                var sorry = server.sorryServer ?? SorryServer(address: ip)
                sorry.address = ip
                if child.arguments.count > 1 { sorry.port = port(child.arguments[1], keyword: "sorry_server") }
                server.sorryServer = sorry
            case "sorry_server_inhibit":
                if server.sorryServer != nil {
                    server.sorryServer!.inhibit = true
                } else {
                    server.otherSettings.append(setting(child))
                }
            case "sorry_server_lvs_method":
                if let (method, tunnel) = forwarding(child) {
                    server.sorryServer?.forwardingMethod = method
                    server.sorryServer?.tunnel = tunnel
                }
            case "smtp_alert": server.smtpAlert = boolean(child)
            case "ops": server.operationMode = true
            case "ha_suspend": server.haSuspend = true
            case "real_server": realServerStatements.append(child)
            default: server.otherSettings.append(setting(child))
            }
        }
        if case .firewallMark(let mark) = serviceAddress, let protocolLocation {
            warning(
                .ignoredSetting, protocolLocation,
                "virtual server FWM \(mark) matches a firewall mark, so `protocol` is ignored; remove it")
        }
        if case .firewallMark(let mark) = serviceAddress, server.haSuspend {
            warning(
                .conflict, server.keywordLocations["ha_suspend"] ?? statement.location,
                "virtual server FWM \(mark): `ha_suspend` needs an address to watch, and a firewall mark has none; it is turned off (as keepalived does)")
            server.haSuspend = false
        }
        if server.operationMode && server.transportProtocol != .udp {
            warning(
                .conflict, statement.location, "`ops` (one-packet scheduling) needs `protocol UDP`; it is turned off")
            server.operationMode = false
        }
        // Sized once: grown by doubling, a block of 10 real servers would keep room for 16.
        server.realServers.reserveCapacity(realServerStatements.count)
        for real in realServerStatements {
            if let built = buildRealServer(real, in: server, inherited: inherited) { server.realServers.append(built) }
        }
        configuration.virtualServers.append(server)
    }

    /// `lvs_method NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`, with keepalived's rules: a
    /// gue tunnel needs a port and only gue takes one; ipip takes no checksum option, gre no remote one.
    mutating func forwarding(
        _ statement: Statement
    ) -> (VirtualServer.ForwardingMethod, VirtualServer.Tunnel?)? {
        guard let value = word(statement, "NAT, DR or TUN") else { return nil }
        guard let method = VirtualServer.ForwardingMethod(rawValue: value) else {
            error(
                .invalidValue, statement.arguments[0].location, "`\(statement.name)` is NAT, DR or TUN, not '\(value)'")
            return nil
        }
        guard method == .tunnel else {
            if statement.arguments.count > 1 {
                warning(
                    .extraArgument, statement.arguments[1].location,
                    "tunnel options apply to TUN only; '\(statement.arguments[1].text)' and what follows are ignored")
            }
            return (method, nil)
        }
        var tunnel = VirtualServer.Tunnel()
        var words = statement.arguments.dropFirst()[...]
        while let option = words.popFirst() {
            switch option.text {
            case "type":
                guard let kind = words.popFirst() else {
                    error(.missingArgument, option.location, "`type` needs ipip, gue or gre")
                    return nil
                }
                switch kind.text {
                case "ipip": tunnel.kind = .ipip
                case "gue": tunnel.kind = .gue
                case "gre": tunnel.kind = .gre
                default:
                    error(.invalidValue, kind.location, "unknown tunnel type '\(kind.text)'; use ipip, gue or gre")
                    return nil
                }
            case "port":
                guard let value = words.popFirst(), let port = UInt16(value.text), port > 0 else {
                    error(.invalidValue, option.location, "`port` needs a gue tunnel port from 1 to 65535")
                    return nil
                }
                tunnel.port = port
            case "nocsum": tunnel.checksum = .none
            case "csum": tunnel.checksum = .checksum
            case "remcsum": tunnel.checksum = .remote
            default:
                error(.invalidValue, option.location, "invalid tunnel option '\(option.text)'")
                return nil
            }
        }
        if (tunnel.kind == .gue) != (tunnel.port != 0) {
            error(.conflict, statement.location, "gue tunnels need a `port`, and only gue tunnels take one")
            return nil
        }
        if tunnel.kind == .ipip && tunnel.checksum != .none {
            error(.conflict, statement.location, "ipip tunnels take no checksum option")
            return nil
        }
        if tunnel.kind == .gre && tunnel.checksum == .remote {
            error(.conflict, statement.location, "gre tunnels take no remote checksum option")
            return nil
        }
        return (method, tunnel)
    }

    mutating func buildRealServer(
        _ statement: Statement, in server: VirtualServer, inherited outer: InheritedCheckerSettings
    ) -> RealServer? {
        guard let first = statement.arguments.first else {
            error(.missingArgument, statement.location, "`real_server` needs `IP [PORT]`; this block is ignored")
            return nil
        }
        guard let ip = address(first, keyword: "real_server") else { return nil }
        var port: UInt16?
        if statement.arguments.count > 1 { port = self.port(statement.arguments[1], keyword: "real_server") }
        var real = RealServer(address: ip, port: port, location: statement.location)
        real.weight = server.weight
        real.forwardingMethod = server.forwardingMethod
        real.tunnel = server.tunnel
        real.inhibitOnFailure = server.inhibitOnFailure
        real.virtualhost = server.virtualhost
        if let alert = server.smtpAlert { real.smtpAlert = alert }
        var own = InheritedCheckerSettings()
        var checkerStatements = [(String, Statement)]()
        for (keyword, child) in known(statement.block ?? [], in: .virtualServerRealServer) {
            if RealServer.locatedKeywords.contains(keyword) { real.keywordLocations[keyword] = child.location }
            switch keyword {
            case "weight": if let value = integer(child, 0...Int(Int32.max)) { real.weight = value }
            case "lvs_method":
                if let (method, tunnel) = forwarding(child) {
                    real.forwardingMethod = method
                    real.tunnel = tunnel
                }
            case "inhibit_on_failure": real.inhibitOnFailure = boolean(child) ?? real.inhibitOnFailure
            case "notify_up": real.notifyUp = script(child)
            case "notify_down": real.notifyDown = script(child)
            case "alpha": own.alpha = boolean(child)
            case "uthreshold": real.upperThreshold = integer(child, 0...Int(UInt32.max))
            case "lthreshold": real.lowerThreshold = integer(child, 0...Int(UInt32.max))
            case "smtp_alert": real.smtpAlert = boolean(child) ?? true
            case "virtualhost":
                own.virtualhost = word(child, "a host name")
                real.virtualhost = own.virtualhost
            case "delay_loop": own.delayLoop = seconds(child, .microseconds(1) ... .seconds(86400))
            case "connect_timeout": own.connectTimeout = seconds(child, .microseconds(1) ... .seconds(86400))
            case "retry": own.retry = integer(child, 1...Int(UInt32.max))
            case "delay_before_retry": own.delayBeforeRetry = seconds(child, .zero ... .seconds(86400))
            case "warmup": own.warmup = seconds(child, .zero ... .seconds(86400))
            case "MISC_CHECK", "SMTP_CHECK", "TCP_CHECK", "PING_CHECK", "UDP_CHECK", "HTTP_GET", "SSL_GET", "DNS_CHECK",
                "FILE_CHECK", "BFD_CHECK":
                checkerStatements.append((keyword, child))
            default: real.otherSettings.append(setting(child))
            }
        }
        let settings = own.over(outer)
        real.alpha = settings.alpha ?? false
        for (keyword, child) in checkerStatements {
            real.checkers += buildCheckers(keyword, child, real: real, inherited: settings)
        }
        return real
    }
}

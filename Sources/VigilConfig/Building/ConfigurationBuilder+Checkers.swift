extension ConfigurationBuilder {
    static func schema(forChecker keyword: String) -> BlockSchema {
        switch keyword {
        case "MISC_CHECK": .virtualServerRealServerMiscCheck
        case "SMTP_CHECK": .virtualServerRealServerSmtpCheck
        case "TCP_CHECK": .virtualServerRealServerTcpCheck
        case "PING_CHECK": .virtualServerRealServerPingCheck
        case "UDP_CHECK": .virtualServerRealServerUdpCheck
        case "HTTP_GET": .virtualServerRealServerHttpGet
        case "SSL_GET": .virtualServerRealServerSslGet
        case "DNS_CHECK": .virtualServerRealServerDnsCheck
        case "FILE_CHECK": .virtualServerRealServerFileCheck
        default: .virtualServerRealServerBfdCheck
        }
    }

    /// One checker block, as checkers: one, or none when it cannot check anything, or (SMTP_CHECK with `host`
    /// blocks) one per host, as keepalived splits it.
    mutating func buildCheckers(
        _ keyword: String, _ statement: Statement, real: RealServer, inherited: InheritedCheckerSettings
    ) -> [Checker] {
        var hosts = [SMTPHost]()
        var connectionSet = false
        guard var checker = buildChecker(keyword, statement, real: real, inherited: inherited, hosts: &hosts,
            connectionSet: &connectionSet)
        else { return [] }
        guard !hosts.isEmpty else { return [checker] }
        // keepalived: the block's own connection counts when it set one (else the first host takes its place).
        var result = connectionSet ? [checker] : []
        for host in hosts {
            checker.location = host.location
            host.endpoint.apply(to: &checker)
            checker.timing.connectTimeout = host.endpoint.connectTimeout ?? inherited.connectTimeout ?? .seconds(5)
            result.append(checker)
        }
        return result
    }

    /// Where a probe connects and from where: a checker's own settings, or an SMTP_CHECK `host { }` block's.
    struct Endpoint {
        var connectIP: IPAddress?
        var connectPort: UInt16?
        var bindTo: IPAddress?
        var bindPort: UInt16?
        var bindInterface: String?
        var firewallMark: UInt32?
        var connectTimeout: Duration?

        /// This endpoint on `checker` (its timeout is the caller's, which cascades).
        func apply(to checker: inout Checker) {
            checker.connectIP = connectIP
            checker.connectPort = connectPort
            checker.bindTo = bindTo
            checker.bindPort = bindPort
            checker.bindInterface = bindInterface
            checker.firewallMark = firewallMark
        }
    }

    /// An SMTP_CHECK `host { }` block.
    struct SMTPHost {
        var location: SourceLocation
        var endpoint = Endpoint()
    }

    /// Reads `connect_ip`, `connect_port`, `bindto`, `bind_port`, `bind_if`, `fwmark` or `connect_timeout` into
    /// `endpoint`; false for any other keyword.
    mutating func readEndpoint(_ name: String, _ statement: Statement, into endpoint: inout Endpoint) -> Bool {
        switch name {
        case "connect_ip": endpoint.connectIP = address(statement)
        case "connect_port":
            if let token = firstArgument(statement, "a port") { endpoint.connectPort = port(token, keyword: name) }
        case "bindto": endpoint.bindTo = address(statement)
        case "bind_port":
            if let token = firstArgument(statement, "a port") { endpoint.bindPort = port(token, keyword: name) }
        case "bind_if": endpoint.bindInterface = word(statement, "an interface name")
        case "fwmark": endpoint.firewallMark = integer(statement, 0...Int(UInt32.max)).map { UInt32($0) }
        case "connect_timeout": endpoint.connectTimeout = seconds(statement, .microseconds(1) ... .seconds(86400))
        default: return false
        }
        return true
    }

    mutating func buildChecker(
        _ keyword: String, _ statement: Statement, real: RealServer, inherited: InheritedCheckerSettings,
        hosts: inout [SMTPHost], connectionSet: inout Bool
    ) -> Checker? {
        var own = InheritedCheckerSettings()
        var http = HTTPCheck()
        var udp = UDPCheck()
        var dns = DNSCheck()
        var smtp = SMTPCheck()
        var misc = MiscCheck()
        var file = FileCheck()
        var bfdName: String?
        var checker = Checker(kind: .tcp, location: statement.location)
        var endpoint = Endpoint()
        for (name, child) in known(statement.block ?? [], in: Self.schema(forChecker: keyword)) {
            if readEndpoint(name, child, into: &endpoint) {
                connectionSet = true
                continue
            }
            switch name {
            case "retry", "nb_get_retry": own.retry = integer(child, 0...Int(UInt32.max))
            case "delay_before_retry": own.delayBeforeRetry = seconds(child, .zero ... .seconds(86400))
            case "warmup": own.warmup = seconds(child, .zero ... .seconds(86400))
            case "delay_loop": own.delayLoop = seconds(child, .microseconds(1) ... .seconds(86400))
            case "alpha": own.alpha = boolean(child)
            case "log_all_failures": checker.logAllFailures = boolean(child) ?? false
            // HTTP_GET / SSL_GET
            case "url":
                if let url = urlCheck(child, keyword: keyword) { http.urls.append(url) }
            case "virtualhost": http.virtualhost = word(child, "a host name")
            case "http_protocol":
                guard let value = word(child, "1.0, 1.1 or 1.0C") else { break }
                if let version = HTTPCheck.HTTPVersion(rawValue: value == "1.0c" ? "1.0C" : value) {
                    http.httpProtocol = version
                } else {
                    error(
                        .invalidValue, child.arguments[0].location,
                        "'\(value)' is not an HTTP version `http_protocol` knows: 1.0, 1.0C (1.0 with Connection: close) or 1.1")
                }
            case "enable_sni": http.enableSNI = boolean(child) ?? false
            case "fast_recovery": http.fastRecovery = boolean(child) ?? false
            // UDP_CHECK
            case "payload": udp.payload = hexBytes(child) ?? []
            case "require_reply":
                udp.requireReply = child.arguments.map(\.text).joined()
            case "min_reply_length": if let value = integer(child, 0...65535) { udp.minimumReplyLength = value }
            case "max_reply_length": if let value = integer(child, 0...65535) { udp.maximumReplyLength = value }
            // DNS_CHECK
            case "type": if let value = word(child, "a record type such as A or SOA") { dns.type = value.uppercased() }
            case "name":
                if let value = word(child, "a name") {
                    if keyword == "BFD_CHECK" { bfdName = value } else { dns.name = value }
                }
            // SMTP_CHECK
            case "helo_name": if let value = word(child, "a host name") { smtp.heloName = value }
            // MISC_CHECK
            case "misc_path": misc.command = script(child, takesUser: false)
            case "misc_timeout":
                if let value = integer(child, 0...4294, "a timeout in whole seconds") { misc.timeout = .seconds(value) }
            case "misc_dynamic": misc.dynamic = true
            case "user":
                misc.user = word(child, "a user name")
                if child.arguments.count > 1 { misc.group = child.arguments[1].text }
            // FILE_CHECK
            case "track_file": file.trackFile = word(child, "the name of a track_file")
            case "weight":
                if let (weight, reverse) = weight(
                    child.arguments[...], -2_147_483_647...2_147_483_647, keyword: "weight")
                {
                    file.weight = weight
                    file.reverse = reverse ?? false
                }
            case "host":
                var host = SMTPHost(location: child.location)
                for (name, setting) in known(child.block ?? [], in: .virtualServerRealServerSmtpCheckHost) {
                    if readEndpoint(name, setting, into: &host.endpoint) { continue }
                    switch name {
                    // The checker's timing, wherever it is written (keepalived keeps one per checker).
                    case "retry": own.retry = integer(setting, 0...Int(UInt32.max))
                    case "delay_before_retry": own.delayBeforeRetry = seconds(setting, .zero ... .seconds(86400))
                    case "warmup": own.warmup = seconds(setting, .zero ... .seconds(86400))
                    case "delay_loop": own.delayLoop = seconds(setting, .microseconds(1) ... .seconds(86400))
                    case "alpha": own.alpha = boolean(setting)
                    case "log_all_failures": checker.logAllFailures = boolean(setting) ?? false
                    default: break
                    }
                }
                hosts.append(host)
            default: checker.otherSettings.append(setting(child))
            }
        }
        switch keyword {
        case "TCP_CHECK": checker.kind = .tcp
        case "PING_CHECK": checker.kind = .ping
        case "HTTP_GET", "SSL_GET":
            http.urls = http.urls.map { url in
                var url = url
                url.virtualhost = url.virtualhost ?? http.virtualhost ?? inherited.virtualhost
                return url
            }
            guard !http.urls.isEmpty else {
                warning(
                    .missingSetting, statement.location,
                    "`\(keyword)` has no `url { path ... }`, so this check is removed")
                return nil
            }
            checker.kind = keyword == "HTTP_GET" ? .http(http) : .https(http)
        case "UDP_CHECK": checker.kind = .udp(udp)
        case "DNS_CHECK": checker.kind = .dns(dns)
        case "SMTP_CHECK": checker.kind = .smtp(smtp)
        case "MISC_CHECK":
            guard misc.command != nil else {
                warning(
                    .missingSetting, statement.location, "`MISC_CHECK` has no `misc_path`, so this check is removed")
                return nil
            }
            checker.kind = .misc(misc)
        case "FILE_CHECK":
            guard file.trackFile != nil else {
                warning(
                    .missingSetting, statement.location, "`FILE_CHECK` has no `track_file`, so this check is removed")
                return nil
            }
            checker.kind = .file(file)
        default:
            guard let bfdName else {
                warning(.missingSetting, statement.location, "`BFD_CHECK` has no `name`, so this check is removed")
                return nil
            }
            checker.kind = .bfd(name: bfdName)
        }
        endpoint.apply(to: &checker)
        if let timeout = endpoint.connectTimeout { own.connectTimeout = timeout }
        let settings = own.over(inherited)
        let delayLoop = settings.delayLoop ?? .seconds(60)
        checker.alpha = settings.alpha ?? false
        checker.timing.delayLoop = delayLoop
        checker.timing.connectTimeout = settings.connectTimeout ?? .seconds(5)
        let defaultRetry: Int
        let defaultDelay: Duration
        switch checker.kind {
        case .misc: (defaultRetry, defaultDelay) = (0, .seconds(1))
        case .dns: (defaultRetry, defaultDelay) = (3, delayLoop)
        case .http, .https: (defaultRetry, defaultDelay) = (1, .seconds(3))
        default: (defaultRetry, defaultDelay) = (1, .seconds(1))
        }
        checker.timing.retry = settings.retry ?? defaultRetry
        checker.timing.delayBeforeRetry = settings.delayBeforeRetry ?? defaultDelay
        checker.timing.warmup = settings.warmup
        return checker
    }

    mutating func urlCheck(_ statement: Statement, keyword: String) -> HTTPCheck.URLCheck? {
        var url = HTTPCheck.URLCheck(path: "", location: statement.location)
        var hasPath = false
        let schema: BlockSchema =
            keyword == "SSL_GET" ? .virtualServerRealServerSslGetUrl : .virtualServerRealServerHttpGetUrl
        for (name, child) in known(statement.block ?? [], in: schema) {
            switch name {
            case "path":
                if let path = word(child, "a URL path such as /health") {
                    url.path = path
                    hasPath = true
                }
            case "digest":
                guard let digest = word(child, "an MD5 digest: 32 hexadecimal digits") else { break }
                if digest.count == 32 && digest.allSatisfy(\.isHexDigit) {
                    url.digest = digest.lowercased()
                } else {
                    error(
                        .invalidValue, child.arguments[0].location,
                        "'\(digest)' is not an MD5 digest (32 hexadecimal digits); `vigil genhash URL` prints the right one"
                    )
                }
            case "status_code":
                for token in child.arguments {
                    let parts = token.text.split(separator: "-", maxSplits: 1)
                    guard let low = Int(parts[0]), (100...999).contains(low) else {
                        error(
                            .invalidValue, token.location,
                            "'\(token.text)' is not an HTTP status code or range such as 200-299")
                        continue
                    }
                    let high = parts.count == 2 ? Int(parts[1]) : low
                    guard let high, high >= low, high <= 999 else {
                        error(
                            .invalidValue, token.location,
                            "'\(token.text)' is not a status code range with its end above its start")
                        continue
                    }
                    url.statusCodes.append(low...high)
                }
            case "virtualhost": url.virtualhost = word(child, "a host name")
            case "regex":
                switch ScriptLine.split(child.rawArguments) {  // keepalived reads it quoted and escaped, as a script line
                case .success(let words) where words.count == 1: url.regex = words[0]
                case .success:
                    error(
                        .invalidValue, child.location,
                        "`regex` takes one pattern; quote a pattern with spaces, as in regex \"a b\"")
                case .failure(let failure):
                    error(.invalidValue, child.location, "cannot read the pattern of `regex`: \(failure.message)")
                }
            case "regex_no_match": url.regexNoMatch = true
            case "regex_options":
                for token in child.arguments {
                    if HTTPCheck.URLCheck.regexOptionNames.contains(token.text) {
                        url.regexOptions.append(token.text)
                    } else {
                        warning(
                            .invalidValue, token.location,
                            "'\(token.text)' is not a regex option (keepalived ignores it too); the options are \(HTTPCheck.URLCheck.regexOptionNames.joined(separator: ", "))")
                    }
                }
            case "regex_min_offset":
                if let value = integer(child, 0...Int(Int32.max), "an offset in bytes") { url.regexMinOffset = value }
            case "regex_max_offset":
                url.regexMaxOffset = integer(child, 0...Int(Int32.max), "an offset in bytes")
            case "regex_stack":
                // Sizes the JIT's stack; Vigil's matcher needs none (KeywordInventory).
                if child.arguments.count != 2 {
                    error(.invalidValue, child.location, "`regex_stack` takes a start and a maximum size")
                } else {
                    for token in child.arguments { _ = integer(token, 0...Int(Int32.max), keyword: "regex_stack") }
                }
            default: break
            }
        }
        guard hasPath else {
            warning(.missingSetting, statement.location, "this `url` has no `path`, so it is ignored")
            return nil
        }
        return url
    }

    /// All arguments as one hexadecimal string (`payload 0a 0b` or `payload 0a0b`).
    mutating func hexBytes(_ statement: Statement) -> [UInt8]? {
        let text = statement.arguments.map(\.text).joined()
        var bytes = [UInt8]()
        var digits = Array(text.utf8)
        if digits.count % 2 == 1 { digits.insert(UInt8(ascii: "0"), at: 0) }
        var index = 0
        while index < digits.count {
            guard let high = ScriptLine.hexValue(digits[index]), let low = ScriptLine.hexValue(digits[index + 1]) else {
                error(.invalidValue, statement.location, "`\(statement.name)` takes hexadecimal digits, as in 0a1b2c")
                return nil
            }
            bytes.append(UInt8(high << 4 | low))
            index += 2
        }
        return bytes
    }
}

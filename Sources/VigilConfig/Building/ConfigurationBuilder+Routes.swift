/// `virtual_routes`, `static_routes`, `virtual_rules` and `static_rules`: keepalived 2.2.7's grammar for each item
/// (the words of `ip route` and `ip rule`), read into the typed `Route` and `Rule`. An item that cannot be installed
/// as written is reported and ignored, never installed differently.
extension ConfigurationBuilder {
    /// The words of one item, read left to right.
    struct Words {
        let tokens: [Token]
        var index = 0
        var current: Token? { index < tokens.count ? tokens[index] : nil }
        var atEnd: Bool { index >= tokens.count }
        mutating func next() -> Token? {
            defer { index += 1 }
            return current
        }
    }

    /// Why an item is ignored; reported once at the word that caused it.
    struct Rejected: Error {
        let location: SourceLocation
        let message: String
    }

    static let routeTypeNumbers: [String: UInt8] = [
        "local": 2, "nat": 10, "broadcast": 3, "brd": 3, "anycast": 4, "multicast": 5, "prohibit": 8,
        "unreachable": 7, "blackhole": 6, "xresolve": 11, "unicast": 1, "throw": 9,
    ]

    /// keepalived's route type words, or a number up to 255.
    static func routeType(_ text: String) -> UInt8? {
        if let known = routeTypeNumbers[text] { return known }
        guard !text.hasPrefix("-"), let value = Preprocessor.parseCInteger(text), value >= 0, value <= 255 else {
            return nil
        }
        return UInt8(value)
    }

    // MARK: - Routes

    /// Items of `virtual_routes` and `static_routes`.
    mutating func routes(_ statement: Statement, virtual: Bool) -> [Route] {
        var result = [Route]()
        for item in statement.block ?? [] {
            do {
                result.append(try route(item, virtual: virtual))
            } catch {
                self.error(.invalidValue, error.location, error.message + "; this route is ignored")
            }
        }
        return result
    }

    mutating func route(_ item: Statement, virtual: Bool) throws(Rejected) -> Route {
        var route = Route(words: item.words.map(\.text), location: item.location)
        var words = Words(tokens: item.words)
        var family: IPAddress.Family?
        var destinationSeen = false
        var explicitProtocol: UInt8?
        var noTrack = false

        func value(_ option: Token) throws(Rejected) -> Token {
            guard let token = words.next() else {
                throw Rejected(location: option.location, message: "`\(option.text)` needs a value")
            }
            return token
        }
        func setFamily(_ new: IPAddress.Family, _ token: Token) throws(Rejected) {
            if let family, family != new {
                throw Rejected(location: token.location, message: "this route mixes IPv4 and IPv6 at '\(token.text)'")
            }
            family = new
        }
        func parsedAddress(_ token: Token, _ what: String) throws(Rejected) -> IPAddress {
            guard let address = IPAddress(token.text) else {
                throw Rejected(location: token.location, message: "'\(token.text)' is not an IP address (`\(what)`)")
            }
            try setFamily(address.family, token)
            return address
        }
        func number(_ token: Token, _ option: String, max: UInt64) throws(Rejected) -> UInt32 {
            guard !token.text.hasPrefix("-"), let value = Preprocessor.parseCInteger(token.text), value >= 0,
                UInt64(value) <= max
            else {
                throw Rejected(
                    location: token.location, message: "`\(option)` takes a number from 0 to \(max), not '\(token.text)'")
            }
            return UInt32(value)
        }
        func named(_ token: Token, _ kind: RoutingNames.Kind, _ option: String) throws(Rejected) -> UInt32 {
            guard let value = routingNames.number(token.text, kind) else {
                throw Rejected(
                    location: token.location,
                    message:
                        "`\(option) \(token.text)` is neither a number nor a name in \(routingNames.directory)\(kind.file)")
            }
            return value
        }
        /// `OPTION [lock] VALUE` for the RTAX metrics.
        func metric(_ option: Token, _ metric: UInt16, lockable: Bool, read: (Token) throws(Rejected) -> UInt32)
            throws(Rejected)
        {
            var token = try value(option)
            if lockable && token.text == "lock" {
                route.metrics.locked |= 1 << UInt32(metric)
                token = try value(option)
            }
            route.metrics.values[metric] = try read(token)
        }
        func rtt(_ token: Token, _ option: String, unit: UInt32) throws(Rejected) -> UInt32 {
            guard let value = Self.roundTripTime(token.text, unit: unit) else {
                throw Rejected(
                    location: token.location,
                    message: "`\(option)` takes a time such as 300ms or 1.5s (or a raw kernel value), not '\(token.text)'")
            }
            return value
        }

        while let word = words.next() {
            let text = word.text
            switch text {
            case "inet", "inet6":
                try setFamily(text == "inet" ? .ipv4 : .ipv6, word)
            case "src":
                route.preferredSource = try parsedAddress(try value(word), "src")
            case "as":
                throw Rejected(location: word.location, message: "`as [to]` (NAT, MPLS) routes are not supported")
            case "via", "gw":
                if text == "gw" {
                    warning(.deprecatedKeyword, word.location, "\"gw\" for routes is deprecated; write \"via\"")
                }
                var target = try value(word)
                if target.text == "inet" || target.text == "inet6" {
                    try setFamily(target.text == "inet" ? .ipv4 : .ipv6, target)
                    target = try value(word)
                }
                route.gateway = try parsedAddress(target, text)
            case "from":
                let token = try value(word)
                guard let prefix = IPPrefix(token.text), prefix.address.family == .ipv6 else {
                    throw Rejected(
                        location: token.location,
                        message: "`from` takes an IPv6 prefix (source routing is IPv6 only), not '\(token.text)'")
                }
                try setFamily(.ipv6, token)
                route.source = prefix
            case "tos", "dsfield":
                route.tos = UInt8(try named(try value(word), .dsfield, text))
            case "table":
                route.table = try named(try value(word), .table, text)
            case "protocol":
                explicitProtocol = UInt8(try named(try value(word), .protocolName, text))
            case "scope":
                route.scope = UInt8(try named(try value(word), .scope, text))
            case "metric", "priority", "preference":
                route.metric = try number(try value(word), text, max: UInt64(UInt32.max))
            case "dev", "oif":
                route.device = try value(word).text
            case "onlink":
                route.onlink = true
            case "encap":
                throw Rejected(
                    location: word.location,
                    message: "Vigil does not install encapsulated (`encap`) routes yet; install it with `ip route`")
            case "expires":
                try setFamily(.ipv6, word)
                route.expires = try number(try value(word), text, max: UInt64(UInt32.max))
            case "mtu":
                try metric(word, Route.Metrics.mtu, lockable: true) { token throws(Rejected) in
                    try number(token, text, max: UInt64(UInt32.max))
                }
            case "hoplimit":
                try metric(word, Route.Metrics.hoplimit, lockable: false) { token throws(Rejected) in
                    try number(token, text, max: 255)
                }
            case "advmss", "reordering", "cwnd", "ssthresh":
                let which: [String: UInt16] = [
                    "advmss": Route.Metrics.advmss, "reordering": Route.Metrics.reordering,
                    "cwnd": Route.Metrics.cwnd, "ssthresh": Route.Metrics.ssthresh,
                ]
                try metric(word, which[text]!, lockable: true) { token throws(Rejected) in
                    try number(token, text, max: UInt64(UInt32.max))
                }
            case "window", "initcwnd", "initrwnd":
                let which: [String: UInt16] = [
                    "window": Route.Metrics.window, "initcwnd": Route.Metrics.initcwnd,
                    "initrwnd": Route.Metrics.initrwnd,
                ]
                try metric(word, which[text]!, lockable: false) { token throws(Rejected) in
                    try number(token, text, max: UInt64(UInt32.max))
                }
            case "rtt":
                try metric(word, Route.Metrics.rtt, lockable: true) { token throws(Rejected) in
                    try rtt(token, text, unit: 8)
                }
            case "rttvar":
                try metric(word, Route.Metrics.rttvar, lockable: true) { token throws(Rejected) in
                    try rtt(token, text, unit: 4)
                }
            case "rto_min":
                try metric(word, Route.Metrics.rtoMin, lockable: true) { token throws(Rejected) in
                    try rtt(token, text, unit: 1)
                }
            case "realms":
                let token = try value(word)
                try setFamily(.ipv4, word)
                guard let realms = routingNames.realms(token.text) else {
                    throw Rejected(location: token.location, message: "'\(token.text)' is not a realm (FROM[/TO])")
                }
                route.realms = realms
            case "features":
                let token = try value(word)
                guard token.text == "ecn" else {
                    throw Rejected(location: token.location, message: "the only route feature is `ecn`")
                }
                route.metrics.features |= 1
            case "quickack":
                try metric(word, Route.Metrics.quickack, lockable: false) { token throws(Rejected) in
                    try number(token, text, max: 1)
                }
            case "fastopen_no_cookie":
                try metric(word, Route.Metrics.fastopenNoCookie, lockable: false) { token throws(Rejected) in
                    try number(token, text, max: 1)
                }
            case "congctl":
                var token = try value(word)
                if token.text == "lock" {
                    route.metrics.locked |= 1 << UInt32(Route.Metrics.congestionControlAlgorithm)
                    token = try value(word)
                }
                route.metrics.congestionControl = token.text
            case "pref":
                let token = try value(word)
                try setFamily(.ipv6, word)
                switch token.text {
                case "low": route.preference = 3
                case "medium": route.preference = 0
                case "high": route.preference = 1
                default: route.preference = UInt8(try number(token, text, max: 255))
                }
            case "ttl-propagate":
                let token = try value(word)
                guard token.text == "enabled" || token.text == "disabled" else {
                    throw Rejected(location: token.location, message: "`ttl-propagate` is `enabled` or `disabled`")
                }
                route.ttlPropagate = token.text == "enabled" ? 1 : 0
            case "add": route.addMode = .add
            case "prepend": route.addMode = .prepend
            case "append": route.addMode = .append
            case "or":
                warning(
                    .deprecatedKeyword, word.location,
                    "\"or\" for routes is deprecated; write \"nexthop via A nexthop via B\"")
                guard route.nextHops.isEmpty else {
                    throw Rejected(location: word.location, message: "only one `or` is allowed")
                }
                var first = Route.NextHop()
                first.gateway = route.gateway
                route.gateway = nil
                var second = Route.NextHop()
                second.gateway = try parsedAddress(try value(word), "or")
                route.nextHops = [first, second]
            case "nexthop":
                guard route.nextHops.isEmpty else {
                    throw Rejected(location: word.location, message: "`nexthop` cannot follow `or`")
                }
                words.index -= 1
                route.nextHops = try nextHops(&words, setFamily: setFamily)
            case "no_track":
                noTrack = true
            case "track_group":
                let token = try value(word)
                guard !virtual else {
                    throw Rejected(location: word.location, message: "`track_group` applies to static routes only")
                }
                route.trackGroup = token.text
            case "vrf":
                throw Rejected(
                    location: word.location,
                    message: "Vigil does not resolve `vrf` for routes yet; write the VRF's `table` number instead")
            default:
                var destination = word
                if text == "to" { destination = try value(word) }
                if text != "to", let type = Self.routeType(text) {
                    route.type = type
                    route.typeWasWritten = true
                    destination = try value(word)
                }
                guard !destinationSeen else {
                    throw Rejected(location: word.location, message: "unknown route option '\(text)'")
                }
                destinationSeen = true
                switch destination.text {
                case "default", "any", "all":
                    route.destination = nil
                case "default6":
                    warning(
                        .deprecatedKeyword, destination.location, "'default6' is deprecated; write 'inet6 default'")
                    try setFamily(.ipv6, destination)
                    route.destination = nil
                default:
                    guard let prefix = IPPrefix(destination.text) else {
                        throw Rejected(
                            location: destination.location,
                            message: "unknown route option or destination '\(destination.text)'")
                    }
                    try setFamily(prefix.address.family, destination)
                    if let masked = Self.hostBitsClear(prefix), masked != prefix {
                        throw Rejected(
                            location: destination.location,
                            message: "\(destination.text) has host bits set; write \(masked)")
                    }
                    route.destination = prefix
                }
            }
        }
        guard destinationSeen else {
            throw Rejected(location: item.location, message: "this route has no destination (a prefix, or `default`)")
        }
        route.family = family ?? .ipv4
        if noTrack {
            route.tracked = false
            route.protocolNumber = explicitProtocol ?? Route.keepalivedProtocol
        } else {
            if let explicitProtocol, explicitProtocol != Route.keepalivedProtocol {
                warning(
                    .ignoredSetting, item.location,
                    "a tracked route carries protocol 18 (keepalived's), so `protocol \(explicitProtocol)` is not used; add `no_track` to keep it"
                )
            }
            route.protocolNumber = Route.keepalivedProtocol
            if route.device == nil {
                if virtual {
                    warning(
                        .noEffect, item.location,
                        "the route to \(route.destinationText) names no interface, so it cannot be tracked; add `dev IFNAME` or `no_track`"
                    )
                }
                route.tracked = false
            }
        }
        if route.trackGroup != nil && route.device == nil {
            warning(
                .ignoredSetting, item.location,
                "`track_group` needs the route's `dev`: without one, nothing is tracked")
            route.trackGroup = nil
        }
        return route
    }

    /// `nexthop via [inet|inet6] A dev D weight W onlink realms R`, repeated, to the end of the item.
    mutating func nextHops(
        _ words: inout Words, setFamily: (IPAddress.Family, Token) throws(Rejected) -> Void
    ) throws(Rejected) -> [Route.NextHop] {
        var hops = [Route.NextHop]()
        while words.current?.text == "nexthop" {
            let start = words.next()!
            var hop = Route.NextHop()
            func value(_ option: Token) throws(Rejected) -> Token {
                guard let token = words.next() else {
                    throw Rejected(location: option.location, message: "`\(option.text)` needs a value")
                }
                return token
            }
            options: while let word = words.current {
                switch word.text {
                case "via":
                    _ = words.next()
                    var target = try value(word)
                    if target.text == "inet" || target.text == "inet6" {
                        try setFamily(target.text == "inet" ? .ipv4 : .ipv6, target)
                        target = try value(word)
                    }
                    guard let gateway = IPAddress(target.text) else {
                        throw Rejected(location: target.location, message: "'\(target.text)' is not a next hop address")
                    }
                    try setFamily(gateway.family, target)
                    hop.gateway = gateway
                case "dev":
                    _ = words.next()
                    hop.device = try value(word).text
                case "weight":
                    _ = words.next()
                    let token = try value(word)
                    guard let weight = Int(token.text), (1...256).contains(weight) else {
                        throw Rejected(location: token.location, message: "a next hop's weight is 1 to 256")
                    }
                    hop.weight = weight
                case "onlink":
                    _ = words.next()
                    hop.onlink = true
                case "realms":
                    _ = words.next()
                    let token = try value(word)
                    try setFamily(.ipv4, word)
                    guard let realms = routingNames.realms(token.text) else {
                        throw Rejected(location: token.location, message: "'\(token.text)' is not a realm (FROM[/TO])")
                    }
                    hop.realms = realms
                case "encap":
                    throw Rejected(
                        location: word.location,
                        message: "Vigil does not install encapsulated (`encap`) next hops yet; install it with `ip route`")
                case "as":
                    throw Rejected(location: word.location, message: "`as [to]` (NAT) next hops are not supported")
                default:
                    break options
                }
            }
            if hop.gateway == nil && hop.device == nil {
                throw Rejected(location: start.location, message: "a `nexthop` needs `via` or `dev`")
            }
            hops.append(hop)
        }
        if let trailing = words.current {
            throw Rejected(location: trailing.location, message: "'\(trailing.text)' after the next hops is not understood")
        }
        return hops
    }

    /// keepalived's reading of `rtt`, `rttvar` and `rto_min`: `Nms`, `Ns` (decimals allowed) in units of
    /// 1/(1000 × `unit`) s, clamped to 200 ms ... 120 s; a bare number is the kernel's value as is.
    static func roundTripTime(_ text: String, unit: UInt32) -> UInt32? {
        var number = Substring(text)
        var millisecondsPerUnit: Double?
        let lower = text.lowercased()
        for (suffix, scale) in [("msecs", 1.0), ("msec", 1.0), ("ms", 1.0), ("secs", 1000.0), ("sec", 1000.0), ("s", 1000.0)]
        where lower.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            millisecondsPerUnit = scale
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }),
            number.filter({ $0 == "." }).count <= 1, let value = Double(number)
        else { return nil }
        let maximum = 120_000 * Double(unit)
        let minimum = 200 * Double(unit)
        var result = millisecondsPerUnit.map { (value * $0 * Double(unit)).rounded(.down) } ?? value.rounded(.down)
        result = min(max(result, minimum), maximum)
        return UInt32(result)
    }

    /// The prefix with its host bits cleared (IPv4 only: the kernel refuses them there).
    static func hostBitsClear(_ prefix: IPPrefix) -> IPPrefix? {
        guard case .v4(let value) = prefix.address else { return nil }
        let mask: UInt32 = prefix.length == 0 ? 0 : ~(UInt32.max >> UInt32(prefix.length))
        return IPPrefix(address: .v4(value & mask), length: prefix.length)
    }

    // MARK: - Rules

    static let ipProtocolNumbers: [String: UInt8] = [
        "icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "dccp": 33, "ipv6": 41, "gre": 47, "esp": 50, "ah": 51,
        "ipv6-icmp": 58, "icmpv6": 58, "sctp": 132, "udplite": 136,
    ]

    /// Items of `virtual_rules` and `static_rules`.
    mutating func rules(_ statement: Statement, virtual: Bool) -> [Rule] {
        var result = [Rule]()
        for item in statement.block ?? [] {
            do {
                result.append(try rule(item, virtual: virtual))
            } catch {
                self.error(.invalidValue, error.location, error.message + "; this rule is ignored")
            }
        }
        return result
    }

    mutating func rule(_ item: Statement, virtual: Bool) throws(Rejected) -> Rule {
        var rule = Rule(words: item.words.map(\.text), location: item.location)
        var words = Words(tokens: item.words)
        var family: IPAddress.Family?
        var action: Rule.Action?
        var preference: UInt32?
        var explicitProtocol: UInt8?
        var noTrack = false
        var tableOption: Token?

        func value(_ option: Token) throws(Rejected) -> Token {
            guard let token = words.next() else {
                throw Rejected(location: option.location, message: "`\(option.text)` needs a value")
            }
            return token
        }
        func setFamily(_ new: IPAddress.Family, _ token: Token) throws(Rejected) {
            if let family, family != new {
                throw Rejected(location: token.location, message: "this rule mixes IPv4 and IPv6 at '\(token.text)'")
            }
            family = new
        }
        func prefix(_ token: Token) throws(Rejected) -> IPPrefix? {
            if ["default", "any", "all"].contains(token.text) { return nil }
            guard let prefix = IPPrefix(token.text) else {
                throw Rejected(location: token.location, message: "'\(token.text)' is not an address or prefix")
            }
            try setFamily(prefix.address.family, token)
            return prefix
        }
        func number(_ token: Token, _ option: String, max: UInt64) throws(Rejected) -> UInt64 {
            guard !token.text.hasPrefix("-"), let value = Self.unsigned64(token.text), value <= max else {
                throw Rejected(
                    location: token.location, message: "`\(option)` takes a number from 0 to \(max), not '\(token.text)'")
            }
            return value
        }
        func named(_ token: Token, _ kind: RoutingNames.Kind, _ option: String) throws(Rejected) -> UInt32 {
            guard let value = routingNames.number(token.text, kind) else {
                throw Rejected(
                    location: token.location,
                    message:
                        "`\(option) \(token.text)` is neither a number nor a name in \(routingNames.directory)\(kind.file)")
            }
            return value
        }
        func setAction(_ new: Rule.Action, _ token: Token) throws(Rejected) {
            guard action == nil else {
                throw Rejected(
                    location: token.location,
                    message: "a rule has one action (table, goto, nop, blackhole, prohibit, unreachable or l3mdev)")
            }
            action = new
        }
        func ports(_ token: Token, _ option: String) throws(Rejected) -> ClosedRange<UInt16> {
            let parts = token.text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard let low = UInt16(parts[0]), let high = parts.count == 2 ? UInt16(parts[1]) : low, low <= high else {
                throw Rejected(location: token.location, message: "`\(option)` takes a port or a range LOW-HIGH")
            }
            return low...high
        }

        while let word = words.next() {
            let text = word.text
            switch text {
            case "inet", "inet6":
                try setFamily(text == "inet" ? .ipv4 : .ipv6, word)
            case "from":
                rule.from = try prefix(try value(word))
            case "to":
                rule.to = try prefix(try value(word))
            case "table", "lookup":
                let token = try value(word)
                let table = try named(token, .table, text)
                guard table != 0 else { throw Rejected(location: token.location, message: "table 0 is not valid") }
                try setAction(.table(table), word)
            case "not":
                rule.invert = true
            case "preference", "order", "priority":
                preference = UInt32(try number(try value(word), text, max: UInt64(UInt32.max)))
            case "tos", "dsfield":
                rule.tos = UInt8(try named(try value(word), .dsfield, text))
            case "fwmark":
                let token = try value(word)
                let parts = token.text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
                guard !token.text.hasPrefix("-"), let mark = Self.unsigned64(parts[0]), mark <= UInt32.max,
                    parts.count == 1 || (Self.unsigned64(parts[1]).map { $0 <= UInt32.max } ?? false)
                else {
                    throw Rejected(location: token.location, message: "`fwmark` takes MARK or MARK/MASK")
                }
                rule.fwmark = UInt32(mark)
                if parts.count == 2 { rule.fwmask = UInt32(Self.unsigned64(parts[1])!) }
            case "realms":
                let token = try value(word)
                try setFamily(.ipv4, word)
                guard let realms = routingNames.realms(token.text) else {
                    throw Rejected(location: token.location, message: "'\(token.text)' is not a realm (FROM[/TO])")
                }
                rule.realms = realms
                tableOption = word
            case "suppress_prefixlength", "sup_pl":
                rule.suppressPrefixLength = Int32(try number(try value(word), text, max: UInt64(Int32.max)))
                tableOption = word
            case "suppress_ifgroup", "sup_group":
                rule.suppressInterfaceGroup = try named(try value(word), .group, text)
                tableOption = word
            case "dev", "iif":
                rule.inputInterface = try value(word).text
            case "oif":
                rule.outputInterface = try value(word).text
            case "tunnel-id":
                rule.tunnelID = try number(try value(word), text, max: UInt64.max)
            case "uidrange":
                let token = try value(word)
                let parts = token.text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, let low = UInt32(parts[0]), let high = UInt32(parts[1]), low <= high else {
                    throw Rejected(location: token.location, message: "`uidrange` takes LOW-HIGH")
                }
                rule.uidRange = low...high
            case "l3mdev":
                try setAction(.l3mdev, word)
            case "protocol":
                let token = try value(word)
                explicitProtocol = UInt8(try number(token, text, max: 255))
            case "ipproto":
                let token = try value(word)
                if let known = Self.ipProtocolNumbers[token.text] {
                    rule.ipProtocol = known
                } else {
                    rule.ipProtocol = UInt8(try number(token, text, max: 255))
                }
            case "sport":
                rule.sourcePorts = try ports(try value(word), text)
            case "dport":
                rule.destinationPorts = try ports(try value(word), text)
            case "no_track":
                noTrack = true
            case "track_group":
                let token = try value(word)
                guard !virtual else {
                    throw Rejected(location: word.location, message: "`track_group` applies to static rules only")
                }
                rule.trackGroup = token.text
            default:
                var actionWord = word
                if text == "type" { actionWord = try value(word) }
                switch actionWord.text {
                case "goto":
                    let token = try value(actionWord)
                    try setAction(.goto(UInt32(try number(token, "goto", max: UInt64(UInt32.max)))), actionWord)
                case "nop": try setAction(.nop, actionWord)
                case "blackhole": try setAction(.blackhole, actionWord)
                case "unreachable": try setAction(.unreachable, actionWord)
                case "prohibit": try setAction(.prohibit, actionWord)
                default:
                    throw Rejected(location: actionWord.location, message: "unknown rule option '\(actionWord.text)'")
                }
            }
        }
        guard let action else {
            throw Rejected(
                location: item.location,
                message: "this rule has no action; add `table N` (or goto, nop, blackhole, prohibit, unreachable, l3mdev)")
        }
        rule.action = action
        if case .goto(let target) = action {
            guard let preference else {
                throw Rejected(location: item.location, message: "a `goto` rule needs a `preference` below its target")
            }
            guard preference < target else {
                throw Rejected(
                    location: item.location, message: "the preference \(preference) is not below the goto target \(target)")
            }
        }
        if let tableOption, !action.looksUpTable {
            throw Rejected(
                location: tableOption.location, message: "`\(tableOption.text)` applies to rules that look up a table")
        }
        rule.family = family ?? .ipv4
        if noTrack {
            rule.tracked = false
            rule.protocolNumber = explicitProtocol
        } else {
            if let explicitProtocol, explicitProtocol != Route.keepalivedProtocol {
                warning(
                    .ignoredSetting, item.location,
                    "a tracked rule carries protocol 18 (keepalived's), so `protocol \(explicitProtocol)` is not used; add `no_track` to keep it"
                )
            }
            rule.protocolNumber = Route.keepalivedProtocol
        }
        if rule.trackGroup != nil && rule.inputInterface == nil {
            warning(
                .ignoredSetting, item.location,
                "`track_group` needs the rule's `dev`/`iif`: without one, nothing is tracked")
            rule.trackGroup = nil
        }
        if let preference {
            rule.preference = preference
        } else {
            // keepalived counts down from 16384, per family, in the order the file is read.
            let assigned = nextRulePreference[rule.family, default: 16384]
            nextRulePreference[rule.family] = assigned &- 1
            rule.preference = assigned
            warning(
                .missingSetting, item.location,
                "this rule has no preference, so it gets \(assigned) (as keepalived gives it); add `preference N` to say where it goes"
            )
        }
        return rule
    }

    /// A C-style unsigned number (decimal, 0x hex, 0 octal) up to UInt64.max.
    static func unsigned64(_ text: some StringProtocol) -> UInt64? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt64(text.dropFirst(2), radix: 16) }
        if text.count > 1 && text.hasPrefix("0") { return UInt64(text.dropFirst(), radix: 8) }
        return UInt64(text)
    }
}

extension ConfigurationBuilder {
    /// Items of `virtual_ipaddress`, `virtual_ipaddress_excluded` and `static_ipaddress`:
    /// `ADDRESS[/LEN] [dev IF] [scope S] [brd IP|+|-] [label L] [peer IP] [flags...]`.
    mutating func virtualAddresses(
        _ statement: Statement, family: IPAddress.Family?, allowVMAC: Bool
    ) -> [VirtualAddress] {
        var result = [VirtualAddress]()
        var family = family
        for item in statement.block ?? [] {
            let text = item.keyword.text
            guard let prefix = IPPrefix(text) else {
                error(
                    .invalidValue, item.location,
                    "'\(text)' is not an IP address (with an optional /prefix length); this address is ignored")
                continue
            }
            if statement.name == "virtual_ipaddress", let expected = family, prefix.address.family != expected {
                error(
                    .familyMismatch, item.location,
                    "\(text) is \(prefix.address.family) but this instance's first address is \(expected); one instance holds one family. Put \(text) in another instance or in virtual_ipaddress_excluded"
                )
                continue
            }
            family = family ?? prefix.address.family
            var address = VirtualAddress(prefix: prefix, location: item.location)
            address.prefixWasSet = text.contains("/")
            var options = item.arguments[...]
            var valid = true
            func value(_ option: Token) -> Token? {
                guard let next = options.popFirst() else {
                    error(.missingArgument, option.location, "`\(option.text)` needs a value; \(text) is ignored")
                    valid = false
                    return nil
                }
                return next
            }
            while valid, let option = options.popFirst() {
                if statement.name != "static_ipaddress" {
                    reportSupport(option.text, as: option.text, in: "virtual_ipaddress item", option.location)
                }
                switch option.text {
                case "dev":
                    address.device = value(option)?.text
                case "scope":
                    address.scope = value(option)?.text
                case "label":
                    guard let label = value(option) else { break }
                    if label.text.utf8.count > 15 {
                        error(
                            .invalidValue, label.location,
                            "the label '\(label.text)' is longer than the kernel's 15 characters")
                    } else if prefix.address.family == .ipv6 {
                        warning(
                            .ignoredSetting, label.location, "labels are IPv4 only; the label of \(text) is ignored")
                    } else {
                        address.label = label.text
                    }
                case "brd", "broadcast":
                    guard let broadcast = value(option) else { break }
                    if prefix.address.family == .ipv6 {
                        error(.familyMismatch, broadcast.location, "IPv6 has no broadcast address; \(text) is ignored")
                        valid = false
                    } else if broadcast.text == "+" {
                        address.broadcast = .allOnes
                    } else if broadcast.text == "-" {
                        address.broadcast = .allZeros
                    } else if let ip = self.address(broadcast, keyword: option.text, family: .ipv4) {
                        address.broadcast = .address(ip)
                    }
                case "peer":
                    guard let peer = value(option) else { break }
                    address.peer = self.address(peer, keyword: "peer", family: prefix.address.family)
                case "preferred_lft":
                    guard let lifetime = value(option) else { break }
                    if lifetime.text == "forever" {
                        address.preferredLifetime = UInt32.max
                    } else if let seconds = UInt32(lifetime.text) {
                        address.preferredLifetime = seconds
                    } else {
                        error(.invalidValue, lifetime.location, "`preferred_lft` is a number of seconds or `forever`")
                    }
                case "track_group":
                    address.trackGroup = value(option)?.text
                default:
                    if let flag = VirtualAddress.Flag(rawValue: option.text), flag != .useVMAC || allowVMAC {
                        address.flags.insert(flag)
                    } else {
                        warning(
                            .invalidValue, option.location,
                            "unknown option '\(option.text)' for the address \(text); it is ignored. Options are dev, scope, brd, label, peer, preferred_lft, home, -nodad, noprefixroute, autojoin, no_track"
                        )
                    }
                }
            }
            if valid { result.append(address) }
        }
        return result
    }

    static let routeTypes: Set<String> = [
        "local", "nat", "broadcast", "brd", "anycast", "multicast", "prohibit", "unreachable", "blackhole",
        "xresolve", "unicast", "throw",
    ]
    /// Route options followed by one value (`mtu lock 1400` takes the `lock` too).
    static let routeValueOptions: Set<String> = [
        "src", "via", "gw", "dev", "oif", "table", "metric", "preference", "priority", "scope", "protocol", "proto",
        "tos", "dsfield", "realms", "expires", "mtu", "advmss", "reordering", "cwnd", "ssthresh", "rtt", "rttvar",
        "rto_min", "hoplimit", "window", "initcwnd", "initrwnd", "features", "quickack", "congctl", "pref",
        "ttl-propagate", "fastopen_no_cookie", "or", "track_group",
    ]
    static let routeFlags: Set<String> = ["onlink", "no_track", "add", "prepend", "append"]

    /// Items of `virtual_routes` and `static_routes`.
    mutating func routes(_ statement: Statement, virtual: Bool) -> [Route] {
        var result = [Route]()
        for item in statement.block ?? [] {
            let words = item.words
            var route = Route(words: words.map(\.text), location: item.location)
            var index = 0
            var destinationSeen = false
            var valid = true
            while valid && index < words.count {
                let word = words[index]
                let text = word.text
                index += 1
                if text == "inet" || text == "inet6" {
                    route.family = text == "inet" ? .ipv4 : .ipv6
                } else if text == "nexthop" {
                    // Everything after the first nexthop describes next hops; keep their device for tracking.
                    while index < words.count {
                        if words[index].text == "dev", index + 1 < words.count, route.device == nil {
                            route.device = words[index + 1].text
                        }
                        if words[index].text == "via", index + 1 < words.count, route.via == nil {
                            var at = index + 1
                            if ["inet", "inet6"].contains(words[at].text), at + 1 < words.count { at += 1 }
                            route.via = IPAddress(words[at].text)
                        }
                        index += 1
                    }
                } else if Self.routeFlags.contains(text) {
                    if text == "no_track" { route.noTrack = true }
                } else if Self.routeValueOptions.contains(text) {
                    guard index < words.count else {
                        error(.missingArgument, word.location, "`\(text)` needs a value; this route is ignored")
                        valid = false
                        break
                    }
                    var valueToken = words[index]
                    index += 1
                    if valueToken.text == "lock", index < words.count {
                        valueToken = words[index]
                        index += 1
                    }
                    switch text {
                    case "src":
                        route.source = address(valueToken, keyword: "src")
                    case "via", "gw":
                        if text == "gw" {
                            warning(.deprecatedKeyword, word.location, "\"gw\" for routes is deprecated; write \"via\"")
                        }
                        var target = valueToken
                        if (target.text == "inet" || target.text == "inet6") && index < words.count {
                            target = words[index]
                            index += 1
                        }
                        route.via = address(target, keyword: text)
                    case "or":
                        warning(
                            .deprecatedKeyword, word.location,
                            "\"or\" for routes is deprecated; write \"nexthop via\" for each gateway")
                        _ = address(valueToken, keyword: "or")
                    case "dev", "oif": route.device = valueToken.text
                    case "table": route.table = valueToken.text
                    case "metric", "preference", "priority": route.metric = UInt32(valueToken.text)
                    case "scope": route.scope = valueToken.text
                    default: break
                    }
                } else if !destinationSeen {
                    if text == "to" { continue }
                    if Self.routeTypes.contains(text) && route.type == nil && index < words.count {
                        route.type = text
                        continue
                    }
                    destinationSeen = true
                    if ["default", "any", "all"].contains(text) {
                        route.destination = nil
                    } else if text == "default6" {
                        route.family = .ipv6
                        route.destination = nil
                    } else if let prefix = IPPrefix(text) {
                        route.destination = prefix
                    } else {
                        error(
                            .invalidValue, word.location,
                            "'\(text)' is not a route destination (an address with a prefix length, or default); this route is ignored"
                        )
                        valid = false
                    }
                } else {
                    warning(.invalidValue, word.location, "unknown route option '\(text)'; this route is ignored")
                    valid = false
                }
            }
            guard valid else { continue }
            guard destinationSeen else {
                error(
                    .missingSetting, item.location,
                    "this route has no destination; write the destination prefix or `default`")
                continue
            }
            if virtual && route.device == nil && !route.noTrack {
                warning(
                    .noEffect, item.location,
                    "the route to \(route.destination.map(\.description) ?? "default") names no interface, so it cannot be tracked; add `dev IFNAME` or `no_track`"
                )
            }
            result.append(route)
        }
        return result
    }

    static let ruleActions: Set<String> = [
        "table", "lookup", "l3mdev", "goto", "nop", "blackhole", "prohibit", "unreachable",
    ]

    /// Items of `virtual_rules` and `static_rules`.
    mutating func rules(_ statement: Statement) -> [Rule] {
        var result = [Rule]()
        for item in statement.block ?? [] {
            let words = item.words
            var rule = Rule(words: words.map(\.text), location: item.location)
            var index = 0
            var valid = true
            while valid && index < words.count {
                let word = words[index]
                index += 1
                switch word.text {
                case "inet": rule.family = .ipv4
                case "inet6": rule.family = .ipv6
                case "not", "l3mdev", "nop", "blackhole", "prohibit", "unreachable", "no_track", "type":
                    if Self.ruleActions.contains(word.text) { rule.action = word.text }
                default:
                    guard index < words.count else {
                        error(.missingArgument, word.location, "`\(word.text)` needs a value; this rule is ignored")
                        valid = false
                        break
                    }
                    let value = words[index]
                    index += 1
                    switch word.text {
                    case "from", "to":
                        let prefix: IPPrefix?
                        if ["all", "any", "default"].contains(value.text) {
                            prefix = nil
                        } else if let parsed = IPPrefix(value.text) {
                            prefix = parsed
                        } else {
                            error(
                                .invalidValue, value.location,
                                "'\(value.text)' is not an address with a prefix length; this rule is ignored")
                            valid = false
                            prefix = nil
                        }
                        if word.text == "from" { rule.from = prefix } else { rule.to = prefix }
                    case "preference", "order", "priority":
                        rule.preference = Preprocessor.parseCInteger(value.text).flatMap { UInt32(exactly: $0) }
                        if rule.preference == nil {
                            error(
                                .invalidValue, value.location,
                                "the rule preference '\(value.text)' is not a number from 0 to 4294967295")
                        }
                    case "table", "lookup", "goto":
                        rule.action = word.text
                        rule.table = value.text
                    default:
                        break
                    }
                }
            }
            guard valid else { continue }
            if rule.preference == nil {
                warning(
                    .missingSetting, item.location,
                    "this rule has no preference, so keepalived and Vigil pick one; add `preference N` to say where it goes"
                )
            }
            result.append(rule)
        }
        return result
    }
}

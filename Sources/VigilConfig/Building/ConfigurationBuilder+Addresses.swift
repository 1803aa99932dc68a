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
}

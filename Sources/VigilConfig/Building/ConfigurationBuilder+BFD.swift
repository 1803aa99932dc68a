extension ConfigurationBuilder {
    /// `bfd_instance NAME { ... }`, read as keepalived 2.2.7 reads it: an instance without a neighbour, or whose
    /// name or neighbour is already taken, is dropped with an error.
    mutating func buildBFDInstance(_ statement: Statement) {
        guard let name = blockName(statement, what: "BFD instance") else { return }
        var instance = BFDInstance(name: name, location: statement.location)
        var onlyVRRP = false
        var onlyChecker = false
        for (keyword, child) in known(statement.block ?? [], in: .bfdInstance) {
            switch keyword {
            case "neighbor_ip": instance.neighbor = address(child)
            case "source_ip": instance.source = address(child)
            case "min_rx": if let value = milliseconds(child, minimum: .milliseconds(1)) { instance.minRX = value }
            case "min_tx": if let value = milliseconds(child, minimum: .milliseconds(1)) { instance.minTX = value }
            case "idle_tx": if let value = milliseconds(child, minimum: .seconds(1)) { instance.idleTX = value }
            case "multiplier": if let value = integer(child, 1...255) { instance.multiplier = value }
            case "passive": instance.passive = true
            case "ttl": if let value = integer(child, 1...255) { instance.ttl = value }
            case "max_hops": if let value = integer(child, -1...255) { instance.maxHops = value < 0 ? 255 : value }
            case "weight":
                if let (weight, reverse) = weight(child.arguments[...], -253...253, keyword: "weight") {
                    instance.weight = weight
                    instance.reverse = reverse ?? false
                }
            case "vrrp": onlyVRRP = true
            case "checker": onlyChecker = true
            default: break
            }
        }
        if onlyVRRP || onlyChecker {
            instance.toVRRP = onlyVRRP
            instance.toChecker = onlyChecker
        }
        guard let neighbor = instance.neighbor else {
            error(
                .missingSetting, statement.location,
                "`bfd_instance \(name)` has no `neighbor_ip`; add one, or remove the block (it is ignored)")
            return
        }
        if let source = instance.source, source.family != neighbor.family {
            error(
                .familyMismatch, instance.location,
                "`bfd_instance \(name)`: source_ip \(source) and neighbor_ip \(neighbor) are of different families; the instance is ignored"
            )
            return
        }
        if instance.maxHops > instance.effectiveTTL {
            error(
                .outOfRange, instance.location,
                "`bfd_instance \(name)`: max_hops \(instance.maxHops) is more than its ttl \(instance.effectiveTTL); max_hops \(instance.effectiveTTL) is used"
            )
            instance.maxHops = instance.effectiveTTL
        }
        if name.utf8.count > 31 {
            error(.invalidValue, statement.location, "`bfd_instance \(name)`: the name is longer than 31 characters (keepalived's limit); the instance is ignored")
            return
        }
        if let other = configuration.bfdInstances.first(where: { $0.name == name }) {
            error(
                .duplicate, statement.location,
                "`bfd_instance \(name)` is already defined at line \(other.location.line); this one is ignored")
            return
        }
        if let other = configuration.bfdInstances.first(where: { $0.neighbor == neighbor && ($0.source == nil || instance.source == nil || $0.source == instance.source) }) {
            error(
                .duplicate, statement.location,
                "`bfd_instance \(name)`: neighbor \(neighbor) already has `bfd_instance \(other.name)`; this one is ignored")
            return
        }
        configuration.bfdInstances.append(instance)
    }

    /// Milliseconds with up to three decimals (keepalived's BFD intervals), from `minimum` to 4294967 ms.
    mutating func milliseconds(_ statement: Statement, minimum: Duration) -> Duration? {
        guard let token = firstArgument(statement, "a time in milliseconds") else { return nil }
        let maximum = Duration.milliseconds(4_294_967)
        let decimals = token.text.split(separator: ".", omittingEmptySubsequences: false).dropFirst().first?.count ?? 0
        guard decimals <= 3, let seconds = Self.parseSeconds(token.text) else {
            error(
                .invalidValue, token.location,
                "'\(token.text)' is not a time in milliseconds; `\(statement.name)` takes milliseconds with up to 3 decimals, as in 10 or 2.5")
            return nil
        }
        let value = seconds / 1000
        guard value >= minimum, value <= maximum else {
            error(
                .outOfRange, token.location,
                "`\(statement.name)` \(token.text) is out of range; it takes \(Self.format(minimum * 1000)) to 4294967 milliseconds")
            return nil
        }
        if value > .seconds(10) && statement.name != "idle_tx" {
            warning(.invalidValue, token.location, "`\(statement.name)` \(token.text) ms is more than 10 seconds")
        }
        return value
    }
}

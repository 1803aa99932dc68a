/// Cross-checks a built configuration with keepalived's rules: values that depend on each other, names that refer
/// to other blocks, and (when the environment can say) interfaces, scripts and users on this machine. It also
/// resolves what instances inherit from `global_defs`, so the result needs no further defaulting.
struct Validator {
    var configuration: Configuration
    let environment: any ValidationEnvironment
    var diagnostics: [Diagnostic] = []
    /// An interface a VRRP instance or sync group names is missing (keepalived then skips VRRP's script check).
    var vrrpInterfaceMissing = false

    static func validate(
        _ configuration: consuming Configuration, environment: any ValidationEnvironment
    ) -> (
        Configuration, [Diagnostic]
    ) {
        var validator = Validator(configuration: configuration, environment: environment)
        validator.run()
        return (validator.configuration, validator.diagnostics)
    }

    mutating func report(
        _ severity: Diagnostic.Severity, _ code: Diagnostic.Code, _ location: SourceLocation, _ message: String
    ) {
        diagnostics.append(Diagnostic(severity, code, at: location, message))
    }

    /// A missing interface named by a VRRP instance or sync group.
    mutating func reportMissingVRRPInterface(_ location: SourceLocation, _ message: String) {
        vrrpInterfaceMissing = true
        report(.warning, .missingInterface, location, message)
    }

    mutating func run() {
        for index in configuration.instances.indices {
            var instance = configuration.instances[index]
            inherit(into: &instance)
            checkInstance(&instance)
            configuration.instances[index] = instance
        }
        configuration.instances.removeAll { $0.virtualRouterID == nil }
        checkFirewallProgram()
        checkDuplicateRouterIDs()
        checkSyncGroups()
        checkStaticAddresses()
        checkGarpGroups()
        checkVirtualServers()
        checkScripts()
    }

    // MARK: - Instances

    /// Settings an instance takes from `global_defs` when it does not set them itself.
    mutating func inherit(into instance: inout VRRPInstance) {
        let global = configuration.global
        if !instance.versionWasSet { instance.version = global.vrrpVersion }
        let set = instance.keywordLocations
        if set["garp_master_delay"] == nil { instance.garp.masterDelay = global.vrrpGarp.masterDelay }
        if set["garp_master_repeat"] == nil { instance.garp.masterRepeat = global.vrrpGarp.masterRepeat }
        if set["garp_master_refresh"] == nil { instance.garp.masterRefresh = global.vrrpGarp.masterRefresh }
        if set["garp_master_refresh_repeat"] == nil {
            instance.garp.masterRefreshRepeat = global.vrrpGarp.masterRefreshRepeat
        }
        if instance.strictMode == nil { instance.strictMode = global.vrrpStrict }
        let strict = instance.strictMode ?? false
        // Strict mode (RFC 5798): no extra announcements or adverts around a lower-priority advert, and none when
        // a higher one is heard, as keepalived forces them.
        if set["garp_lower_prio_delay"] == nil {
            instance.garp.lowerPriorityDelay = strict ? .zero : global.vrrpGarp.lowerPriorityDelay
        } else if strict && (instance.garp.lowerPriorityDelay ?? .zero) > .zero {
            strictReset(instance, "garp_lower_prio_delay", "sends no repeated announcements")
            instance.garp.lowerPriorityDelay = .zero
        }
        if set["garp_lower_prio_repeat"] == nil {
            instance.garp.lowerPriorityRepeat = strict ? 0 : global.vrrpGarp.lowerPriorityRepeat
        } else if strict && (instance.garp.lowerPriorityRepeat ?? 0) > 0 {
            strictReset(instance, "garp_lower_prio_repeat", "sends no repeated announcements")
            instance.garp.lowerPriorityRepeat = 0
        }
        instance.garp.interval = global.vrrpGarp.interval
        instance.garp.naInterval = global.vrrpGarp.naInterval
        if instance.downTimerAdverts == nil { instance.downTimerAdverts = global.vrrpDownTimerAdverts }
        if instance.keywordLocations["garp_extra_if"] == nil && instance.keywordLocations["vmac_garp_intvl"] == nil {
            instance.garpExtraInterfaces = global.garpExtraInterfaces
        }
        if instance.garpExtraInterfaces?.interval == .zero { instance.garpExtraInterfaces = nil }
        if instance.skipCheckAdvertAddresses == nil {
            instance.skipCheckAdvertAddresses = global.vrrpSkipCheckAdvertAddresses
        }
        if instance.lowerPriorityNoAdvert == nil {
            instance.lowerPriorityNoAdvert = strict ? true : global.vrrpLowerPriorityNoAdvert
        } else if strict && instance.lowerPriorityNoAdvert == false {
            strictReset(instance, "lower_prio_no_advert", "sends no advert in answer to a lower priority")
            instance.lowerPriorityNoAdvert = true
        }
        if instance.higherPrioritySendAdvert == nil {
            // Vigil's default is on: see `GlobalDefinitions.vrrpHigherPrioritySendAdvert`.
            instance.higherPrioritySendAdvert = strict ? false : global.vrrpHigherPrioritySendAdvert ?? true
        } else if strict && instance.higherPrioritySendAdvert == true {
            strictReset(instance, "higher_prio_send_advert", "sends no advert when it hears a higher priority")
            instance.higherPrioritySendAdvert = false
        }
        if instance.notifyPriorityChanges == nil { instance.notifyPriorityChanges = global.vrrpNotifyPriorityChanges }
        if global.vrrpCheckUnicastSource { instance.checkUnicastSource = true }
        if instance.unicastPeers.contains(where: { $0.minimumTTL != nil || $0.maximumTTL != nil }) {
            instance.checkUnicastSource = true
        }
    }

    /// keepalived's rules: an interface belongs to one group; a group without an interval is dropped.
    mutating func checkGarpGroups() {
        var seen = Set<String>()
        var groups = [GarpGroup]()
        for var group in configuration.garpGroups {
            group.interfaces = group.interfaces.filter { interface in
                guard !seen.contains(interface) else {
                    report(
                        .warning, .duplicate, group.location,
                        "interface \(interface) is already in a garp_group; it is ignored here")
                    return false
                }
                seen.insert(interface)
                return true
            }
            if group.arpInterval == nil && group.naInterval == nil {
                report(
                    .warning, .missingSetting, group.location,
                    "this garp_group sets neither garp_interval nor gna_interval; it is ignored")
                continue
            }
            groups.append(group)
        }
        configuration.garpGroups = groups
    }

    /// `use_vmac`: the MAC (written, completed with the VRID, or the RFC's), the name, `vmac_xmit_base`, as
    /// keepalived 2.2.7 reads them.
    mutating func checkVirtualMAC(_ instance: inout VRRPInstance, strict: Bool) {
        let name = instance.name
        guard var vmac = instance.useVMAC else {
            if instance.vmacTransmitFromBase {
                report(
                    .warning, .ignoredSetting, instance.location(of: "vmac_xmit_base"),
                    "`vmac_xmit_base` applies only with `use_vmac`; it is ignored")
            }
            return
        }
        let vrid = UInt8(instance.virtualRouterID ?? 0)
        if case .ipvlan = vmac.kind {
            // An ipvlan keeps the base's MAC; its address is the instance's source unless one is configured.
            if let address = vmac.ipvlanAddress, address.address.family != instance.family {
                report(
                    .warning, .familyMismatch, vmac.location,
                    "the ipvlan address \(address) is not \(instance.family) like \(name); it is ignored")
                vmac.ipvlanAddress = nil
            }
            if let address = vmac.ipvlanAddress?.address {
                if instance.isUnicast {
                    instance.unicastSourceIP = instance.unicastSourceIP ?? address
                } else {
                    instance.multicastSourceIP = instance.multicastSourceIP ?? address
                }
            } else if instance.family == .ipv4 {
                instance.configurationFault = "an IPv4 ipvlan needs an address (use_ipvlan NAME ADDRESS)"
                report(
                    .warning, .missingSetting, vmac.location,
                    "an IPv4 ipvlan needs a source address; \(name) stays in FAULT until `use_ipvlan` has one")
            }
            if instance.vmacTransmitFromBase {
                report(
                    .warning, .ignoredSetting, instance.location(of: "vmac_xmit_base"),
                    "`vmac_xmit_base` does not apply to an ipvlan; it is ignored")
            }
            if let interfaceName = vmac.interfaceName, !Self.isInterfaceName(interfaceName) {
                report(.warning, .invalidValue, vmac.location, "'\(interfaceName)' is not an interface name; the default is used")
                vmac.interfaceName = nil
            }
            instance.useVMAC = vmac
            return
        }
        vmac.mac = [0, 0, 0x5e, 0, instance.family == .ipv4 ? 1 : 2, vrid]
        if let written = vmac.written {
            if strict {
                report(
                    .warning, .conflict, vmac.location,
                    "strict mode: the virtual MAC is the RFC's (00:00:5e:00:0x:VRID), so \(written) is ignored")
            } else if let bytes = Self.macAddress(written, vrid: vrid) {
                if bytes[0] & 1 != 0 {
                    report(.warning, .invalidValue, vmac.location, "the VMAC address \(written) is multicast; it is ignored")
                } else if bytes[0...3] == [0, 0, 0x5e, 0] && (bytes[4] == 1 || bytes[4] == 2) {
                    report(
                        .warning, .invalidValue, vmac.location,
                        "the VMAC address \(written) is in RFC 5798's range, which is the default's; write another or none")
                } else {
                    vmac.mac = bytes
                }
            } else {
                report(
                    .warning, .invalidValue, vmac.location,
                    "'\(written)' is not a MAC address (5 or 6 hex octets with colons); the default is used")
            }
        }
        if let interfaceName = vmac.interfaceName {
            if !Self.isInterfaceName(interfaceName) {
                report(
                    .warning, .invalidValue, vmac.location,
                    "'\(interfaceName)' is not an interface name (1 to 15 characters, no / : or spaces); the default name is used")
                vmac.interfaceName = nil
            } else if let other = configuration.instances.first(where: {
                $0.name != name && $0.useVMAC?.interfaceName == interfaceName
            }) {
                report(
                    .warning, .duplicate, vmac.location,
                    "\(other.name) already uses the VMAC interface \(interfaceName); \(name) gets a name of its own")
                vmac.interfaceName = nil
            }
        }
        vmac.transmitFromBase = instance.vmacTransmitFromBase
        if instance.isUnicast && !vmac.transmitFromBase {
            report(
                .note, .conflict, vmac.location,
                "unicast adverts with `use_vmac` go out from the base interface (`vmac_xmit_base`), as keepalived does")
            vmac.transmitFromBase = true
        }
        if strict && vmac.transmitFromBase {
            report(
                .warning, .conflict, instance.location(of: "vmac_xmit_base"),
                "strict mode: adverts go out from the virtual MAC, so `vmac_xmit_base` is ignored")
            vmac.transmitFromBase = false
        }
        instance.useVMAC = vmac
    }

    /// `aa:bb:cc:dd:ee:ff`, or five octets completed with the VRID.
    static func macAddress(_ text: String, vrid: UInt8) -> [UInt8]? {
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 6 && parts[5].isEmpty { parts.removeLast() }
        guard parts.count == 5 || parts.count == 6 else { return nil }
        var bytes = [UInt8]()
        for part in parts {
            guard (1...2).contains(part.count), let value = UInt8(part, radix: 16) else { return nil }
            bytes.append(value)
        }
        if bytes.count == 5 { bytes.append(vrid) }
        return bytes
    }

    /// The kernel's rule for interface names.
    static func isInterfaceName(_ text: String) -> Bool {
        (1...15).contains(text.utf8.count) && text != "." && text != ".."
            && !text.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace })
    }

    /// `no_accept` (and strict mode) filter with nft: say so when it is missing, at the first instance that needs it.
    mutating func checkFirewallProgram() {
        guard let instance = configuration.instances.first(where: { $0.accept == false && $0.priority != 255 }),
            ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"].allSatisfy({ environment.program($0) == .notFound })
        else { return }
        let keyword = instance.keywordLocations["no_accept"] != nil ? "no_accept" : "strict_mode"
        report(
            .warning, .missingProgram, instance.location(of: keyword),
            "\(instance.name) drops traffic to its addresses while MASTER (no_accept) with nft, which is not installed; install nftables, or traffic to them is accepted"
        )
    }

    /// A setting strict mode overrides, as keepalived overrides it: said at the setting's line.
    mutating func strictReset(_ instance: VRRPInstance, _ keyword: String, _ rule: String) {
        report(
            .warning, .conflict, instance.location(of: keyword),
            "strict mode (RFC 5798) \(rule), so `\(keyword)` of \(instance.name) is ignored")
    }

    mutating func checkInstance(_ instance: inout VRRPInstance) {
        let name = instance.name
        guard instance.virtualRouterID != nil else {
            report(
                .error, .missingSetting, instance.location,
                "`vrrp_instance \(name)` has no `virtual_router_id`, so it cannot run; add virtual_router_id 1-255 (the same on every node of this router)"
            )
            return
        }
        let strict = instance.strictMode ?? false
        let family = instance.family

        if instance.interface == nil && !instance.isUnicast {
            report(
                .error, .missingSetting, instance.location,
                "`vrrp_instance \(name)` has no `interface`; add the interface its adverts go out on")
        }
        if let interface = instance.interface, environment.interfaceExists(interface) == false {
            reportMissingVRRPInterface(
                instance.location(of: "interface"),
                "interface \(interface) for vrrp_instance \(name) does not exist on this machine; the instance stays in FAULT until it appears"
            )
        }
        for tracked in instance.trackInterfaces where environment.interfaceExists(tracked.name) == false {
            reportMissingVRRPInterface(
                tracked.location,
                "tracked interface \(tracked.name) of \(name) does not exist on this machine")
        }
        for address in instance.virtualAddresses + instance.excludedVirtualAddresses {
            if let device = address.device, environment.interfaceExists(device) == false {
                reportMissingVRRPInterface(
                    address.location,
                    "interface \(device) for the address \(address.prefix.address) does not exist on this machine")
            }
        }
        for route in instance.virtualRoutes {
            if let device = route.device, environment.interfaceExists(device) == false {
                reportMissingVRRPInterface(
                    route.location,
                    "interface \(device) for this route does not exist on this machine")
            }
        }

        checkVirtualMAC(&instance, strict: strict)

        // Version and family.
        if family == .ipv6 && instance.version == 2 {
            report(
                .error, .familyMismatch,
                instance.location(of: instance.versionWasSet ? "version" : "virtual_ipaddress"),
                "VRRP version 2 carries IPv4 only (RFC 3768) but \(name) has IPv6 addresses; add `version 3` to the instance"
            )
            instance.version = 3
        }
        for peer in instance.unicastPeers where peer.address.family != family {
            report(
                .error, .familyMismatch, peer.location,
                "unicast peer \(peer.address) is \(peer.address.family) but \(name) speaks \(family); peers must be the instance's family"
            )
        }
        if let source = instance.unicastSourceIP, source.family != family {
            report(
                .error, .familyMismatch, instance.location(of: "unicast_src_ip"),
                "unicast_src_ip \(source) is \(source.family) but \(name) speaks \(family)")
        }
        // keepalived: any unicast keyword without a peer falls back to multicast (deprecated), or with
        // `unicast_fault_no_peer` leaves the instance in FAULT.
        let unicastKeywords = ["unicast_peer", "unicast_fault_no_peer", "unicast_src_ip", "check_unicast_src", "old_unicast_checksum"]
        if !instance.isUnicast, let keyword = unicastKeywords.first(where: { instance.keywordLocations[$0] != nil }) {
            if instance.unicastFaultNoPeer {
                instance.configurationFault = "unicast without any peer (unicast_fault_no_peer)"
                report(
                    .note, .missingSetting, instance.location(of: "unicast_fault_no_peer"),
                    "\(name) has no unicast peer, so it stays in FAULT (`unicast_fault_no_peer`) until the file gives it one")
            } else {
                report(
                    .warning, .deprecatedKeyword, instance.location(of: keyword),
                    "`\(keyword)` without any `unicast_peer`: \(name) sends multicast adverts (a deprecated fallback); add peers, or `unicast_fault_no_peer` to stay in FAULT"
                )
            }
        }
        if instance.unicastTTL != nil && !instance.isUnicast {
            report(
                .warning, .ignoredSetting, instance.location(of: "unicast_ttl"),
                "`unicast_ttl` only applies with `unicast_peer`; it is ignored")
            instance.unicastTTL = nil
        }

        // Advertisement interval per version.
        let interval = instance.advertisementInterval
        if instance.version == 2 {
            let (wholeSeconds, attoseconds) = interval.components
            if attoseconds != 0 {
                let rounded = max(1, Int64((Double(wholeSeconds) + Double(attoseconds) / 1e18).rounded()))
                report(
                    .warning, .invalidValue, instance.location(of: "advert_int"),
                    "VRRP version 2 advertises whole seconds; advert_int \(ConfigurationBuilder.format(interval)) of \(name) is rounded to \(rounded). Use `version 3` for sub-second intervals"
                )
                instance.advertisementInterval = .seconds(rounded)
            }
        } else {
            let centiseconds = Self.centiseconds(interval)
            if centiseconds > 4095 {
                report(
                    .error, .outOfRange, instance.location(of: "advert_int"),
                    "VRRP version 3 carries at most 40.95 s; advert_int \(ConfigurationBuilder.format(interval)) of \(name) is set to 40.95"
                )
                instance.advertisementInterval = .milliseconds(40950)
            } else if interval != .milliseconds(centiseconds * 10) {
                report(
                    .warning, .invalidValue, instance.location(of: "advert_int"),
                    "VRRP version 3 counts in hundredths of a second; advert_int \(ConfigurationBuilder.format(interval)) is rounded to \(ConfigurationBuilder.format(.milliseconds(centiseconds * 10)))"
                )
                instance.advertisementInterval = .milliseconds(centiseconds * 10)
            }
        }

        if instance.virtualAddresses.isEmpty {
            if instance.version == 3 || strict {
                report(
                    .error, .missingSetting, instance.location,
                    "\(name) has no `virtual_ipaddress`; VRRP version 3 needs at least one address")
            } else {
                report(
                    .warning, .missingSetting, instance.location,
                    "\(name) has no `virtual_ipaddress`; it would protect nothing. Add the addresses it holds")
            }
        }

        // Authentication.
        if let authentication = instance.authentication {
            let at = instance.location(of: "authentication")
            if strict {
                report(.warning, .ignoredSetting, at, "strict mode (RFC 5798) allows no authentication; it is ignored")
                instance.authentication = nil
            } else if instance.version == 3 {
                report(
                    .warning, .ignoredSetting, at,
                    "VRRP version 3 has no authentication; the `authentication` block of \(name) is ignored")
                instance.authentication = nil
            } else if case .ah = authentication, family == .ipv6 {
                report(.warning, .ignoredSetting, at, "AH authentication is IPv4 only; it is ignored")
                instance.authentication = nil
            } else if case .ah = authentication, instance.initialState == .master, instance.priority != 255 {
                report(
                    .warning, .conflict, instance.location(of: "state"),
                    "with AH authentication \(name) must hear an advert before taking over, so it starts as BACKUP instead of MASTER"
                )
                instance.initialState = .backup
            }
        }

        // Preemption and the address owner.
        if instance.priority == 255 && instance.nopreempt {
            report(
                .warning, .conflict, instance.location(of: "nopreempt"),
                "`nopreempt` has no effect with priority 255: the address owner always takes over. Lower the priority or remove nopreempt"
            )
            instance.nopreempt = false
        }
        if instance.priority == 255 && instance.preemptDelay > .zero {
            report(
                .warning, .conflict, instance.location(of: "preempt_delay"),
                "`preempt_delay` has no effect with priority 255: the address owner takes over at once")
            instance.preemptDelay = .zero
        }
        if strict && instance.preemptDelay > .zero {
            strictReset(instance, "preempt_delay", "takes over at once")
            instance.preemptDelay = .zero
        }
        if strict, let adverts = instance.downTimerAdverts, adverts != 3 {
            strictReset(instance, "down_timer_adverts", "waits three adverts")
            instance.downTimerAdverts = 3
        }
        if strict && instance.isUnicast {
            report(
                .error, .conflict, instance.location(of: "unicast_peer"),
                "strict mode (RFC 5798) has no unicast adverts, so \(name) cannot run; remove `unicast_peer`, or strict mode (`vrrp_strict`, `strict_mode`)"
            )
        }
        if strict && family == .ipv6 && !instance.isUnicast, let first = instance.virtualAddresses.first,
            !first.prefix.address.isLinkLocal
        {
            report(
                .warning, .conflict, first.location,
                "strict mode: the first IPv6 address of \(name) must be link-local (RFC 5798 5.2.9); \(first.prefix.address) is not"
            )
        }
        // Accept mode (RFC 5798 6.1): the owner always accepts; otherwise accept unless strict.
        if instance.priority == 255 {
            instance.accept = true
        } else if instance.accept == nil {
            instance.accept = !strict
        } else if strict && instance.accept == true && instance.version == 2 {
            report(
                .warning, .conflict, instance.location(of: "accept"),
                "VRRP version 2 (RFC 3768) has no accept mode, so in strict mode \(name) drops traffic to its addresses; `accept` is ignored"
            )
            instance.accept = false
        }
        if strict && (instance.initialState == .master) != (instance.priority == 255) {
            report(
                .warning, .conflict, instance.location(of: "state"),
                "strict mode: only the address owner (priority 255) may start as MASTER; \(name) starts as \(instance.priority == 255 ? "MASTER" : "BACKUP")"
            )
            instance.initialState = instance.priority == 255 ? .master : .backup
        }

        // References to trackers.
        for reference in instance.trackScripts where configuration.script(named: reference.name) == nil {
            report(
                .warning, .unknownReference, reference.location,
                "\(name) tracks script \(reference.name), but no `vrrp_script \(reference.name)` is defined\(suggest(reference.name, configuration.vrrpScripts.map(\.name))); it is ignored"
            )
        }
        instance.trackScripts.removeAll { configuration.script(named: $0.name) == nil }
        for reference in instance.trackFiles
        where !configuration.trackFiles.contains(where: { $0.name == reference.name }) {
            report(
                .warning, .unknownReference, reference.location,
                "\(name) tracks file \(reference.name), but no `track_file \(reference.name)` is defined; it is ignored"
            )
        }
        instance.trackFiles.removeAll { reference in !configuration.trackFiles.contains { $0.name == reference.name } }
        for reference in instance.trackProcesses
        where !configuration.trackProcesses.contains(where: { $0.name == reference.name }) {
            report(
                .warning, .unknownReference, reference.location,
                "\(name) tracks process \(reference.name), but no `vrrp_track_process \(reference.name)` is defined; it is ignored"
            )
        }
        instance.trackProcesses.removeAll { reference in
            !configuration.trackProcesses.contains { $0.name == reference.name }
        }
        for reference in instance.trackBFDs
        where !configuration.bfdInstances.contains(where: { $0.name == reference.name && $0.toVRRP }) {
            report(
                .warning, .unknownReference, reference.location,
                "\(name) tracks BFD \(reference.name), but no `bfd_instance \(reference.name)` \(configuration.bfdInstances.contains { $0.name == reference.name } ? "reports to VRRP (it says `checker` only)" : "is defined\(suggest(reference.name, configuration.bfdInstances.map(\.name)))"); it is ignored"
            )
        }
        instance.trackBFDs.removeAll { reference in
            !configuration.bfdInstances.contains { $0.name == reference.name && $0.toVRRP }
        }
    }

    static func centiseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 100 + (attoseconds + 5_000_000_000_000_000) / 10_000_000_000_000_000
    }

    func suggest(_ name: String, _ candidates: [String]) -> String {
        KeywordIndex.suggestion(for: name, among: candidates).map { " (did you mean \($0)?)" } ?? ""
    }

    /// Two instances may not share a VRID on one interface and family: their adverts would be one router's.
    mutating func checkDuplicateRouterIDs() {
        struct Key: Hashable {
            var vrid: Int
            var family: IPAddress.Family
            var interface: String
        }
        var seen = [Key: String]()
        seen.reserveCapacity(configuration.instances.count)
        for instance in configuration.instances {
            guard let vrid = instance.virtualRouterID else { continue }
            let interface = instance.interface ?? "(unicast \(instance.unicastSourceIP.map(\.description) ?? "-"))"
            let key = Key(vrid: vrid, family: instance.family, interface: interface)
            if let first = seen[key] {
                report(
                    .error, .duplicateVRID, instance.location(of: "virtual_router_id"),
                    "\(first) and \(instance.name) both use VRID \(vrid) with \(instance.family) on interface \(interface); give one of them another virtual_router_id"
                )
            } else {
                seen[key] = instance.name
            }
        }
    }

    // MARK: - Sync groups

    mutating func checkSyncGroups() {
        var memberOf = [String: String]()
        var kept = [SyncGroup]()
        for var group in configuration.syncGroups {
            var members = [Token]()
            for member in group.members {
                guard configuration.instance(named: member.text) != nil else {
                    report(
                        .warning, .unknownReference, member.location,
                        "sync group \(group.name) lists \(member.text), but no `vrrp_instance \(member.text)` is defined\(suggest(member.text, configuration.instances.map(\.name))); it is ignored"
                    )
                    continue
                }
                if let other = memberOf[member.text] {
                    report(
                        .error, .conflict, member.location,
                        "\(member.text) is already in sync group \(other); an instance belongs to one group at most")
                    continue
                }
                memberOf[member.text] = group.name
                members.append(member)
            }
            group.members = members
            if members.isEmpty {
                report(
                    .warning, .missingSetting, group.location,
                    "sync group \(group.name) has no instances, so it is removed; list them in `group { ... }`")
                continue
            }
            if members.count == 1 {
                report(
                    .warning, .noEffect, group.location,
                    "sync group \(group.name) has only one instance (\(members[0].text)), so it synchronises nothing")
            }
            for reference in group.trackScripts where configuration.script(named: reference.name) == nil {
                report(
                    .warning, .unknownReference, reference.location,
                    "sync group \(group.name) tracks script \(reference.name), but no `vrrp_script \(reference.name)` is defined; it is ignored"
                )
            }
            group.trackScripts.removeAll { configuration.script(named: $0.name) == nil }
            for tracked in group.trackInterfaces where environment.interfaceExists(tracked.name) == false {
                reportMissingVRRPInterface(
                    tracked.location,
                    "tracked interface \(tracked.name) of sync group \(group.name) does not exist on this machine")
            }
            kept.append(group)
        }
        configuration.syncGroups = kept
    }

    // MARK: - Static addresses and routes

    mutating func checkStaticAddresses() {
        let defaultInterface = configuration.global.defaultInterface
        for address in configuration.staticAddresses {
            let device = address.device ?? defaultInterface
            if environment.interfaceExists(device) == false {
                report(
                    .warning, .missingInterface, address.location,
                    "interface \(device) for the static address \(address.prefix.address) does not exist on this machine"
                )
            }
        }
        for route in configuration.staticRoutes {
            if let device = route.device, environment.interfaceExists(device) == false {
                report(
                    .warning, .missingInterface, route.location,
                    "interface \(device) for this static route does not exist on this machine")
            }
        }
    }

    // MARK: - Virtual servers

    /// Whether the checker will balance with nftables: asked for, or no IPVS in the kernel (Vigil then falls back to
    /// nftables). nil when unknown.
    var balancesWithNFTables: Bool? {
        if configuration.global.vigil.loadBalancerBackend == .nftables { return true }
        return environment.kernelHasIPVS().map { !$0 }
    }

    /// What the nftables backend cannot do, where the file asks for it (`KeywordSupport.worksExcept`).
    mutating func checkNFTablesLimits(_ server: VirtualServer) {
        func report(_ keyword: String, _ written: SourceLocation?, context: String) {
            guard let written, case .worksExcept(_, let exception) = KeywordInventory.support(keyword, in: context)
            else { return }
            self.report(.warning, .notSupported, written, "`\(keyword)` is only partly supported: \(exception)")
        }
        if !["rr", "sh"].contains(server.scheduler) {
            report("lvs_sched", server.keywordLocations["lvs_sched"], context: "virtual_server")
        }
        if server.forwardingMethod != .nat {
            report("lvs_method", server.keywordLocations["lvs_method"], context: "virtual_server")
        }
        if server.persistenceTimeout != nil {
            report(
                "persistence_timeout",
                server.keywordLocations["persistence_timeout"] ?? server.keywordLocations["persistence_granularity"],
                context: "virtual_server")
        }
        if let method = server.sorryServer?.forwardingMethod, method != .nat {
            report("sorry_server_lvs_method", server.keywordLocations["sorry_server_lvs_method"], context: "virtual_server")
        }
        for real in server.realServers where real.forwardingMethod != .nat {
            report("lvs_method", real.keywordLocations["lvs_method"], context: "real_server")
        }
        for keyword in [
            "persistence_granularity", "persistence_engine", "hashed", "flag-1", "flag-2", "flag-3", "sh-port",
            "sh-fallback", "mh-port", "mh-fallback", "ops",
        ] {
            report(keyword, server.keywordLocations[keyword], context: "virtual_server")
        }
        for real in server.realServers {
            report("uthreshold", real.keywordLocations["uthreshold"], context: "real_server")
            report("lthreshold", real.keywordLocations["lthreshold"], context: "real_server")
        }
    }

    mutating func checkVirtualServers() {
        let nftables = balancesWithNFTables == true
        if nftables && !configuration.virtualServers.isEmpty {
            let global = configuration.global
            for (keyword, used) in [
                ("lvs_timeouts", global.lvsTimeoutValues != nil), ("lvs_flush", global.lvsFlush),
                ("lvs_flush_on_stop", global.lvsFlushOnStop != .none), ("lvs_sync_daemon", global.lvsSyncDaemon != nil),
            ] where used {
                if case .worksExcept(_, let exception) = KeywordInventory.support(keyword, in: "global_defs") {
                    report(
                        .warning, .notSupported, global.location ?? SourceLocation(file: "", line: 0),
                        "`\(keyword)` is only partly supported: \(exception)")
                }
            }
        }
        checkVirtualServerGroups()
        let checkerBFDs = Set(configuration.bfdInstances.filter(\.toChecker).map(\.name))
        for index in configuration.virtualServers.indices {
            var server = configuration.virtualServers[index]
            checkPersistence(&server)
            checkQuorum(&server)
            // A BFD_CHECK whose bfd_instance is missing (or says `vrrp` only) is dequeued, as keepalived does.
            for real in server.realServers.indices {
                let dequeued = server.realServers[real].checkers.compactMap { checker -> (String, Checker)? in
                    guard case .bfd(let name) = checker.kind, !checkerBFDs.contains(name) else { return nil }
                    return (name, checker)
                }
                // Only then written: a removal on an array shared with the loader copies it (6 MB at 10,000).
                guard !dequeued.isEmpty else { continue }
                for (name, checker) in dequeued {
                    report(
                        .warning, .unknownReference, checker.location,
                        "BFD_CHECK uses bfd_instance \(name), but \(configuration.bfdInstances.contains { $0.name == name } ? "it reports to VRRP only (it says `vrrp`)" : "no `bfd_instance \(name)` is defined\(suggest(name, configuration.bfdInstances.map(\.name)))"); the check is removed")
                }
                server.realServers[real].checkers.removeAll {
                    if case .bfd(let name) = $0.kind { !checkerBFDs.contains(name) } else { false }
                }
            }

            configuration.virtualServers[index] = server
        }
        for server in configuration.virtualServers {
            if nftables { checkNFTablesLimits(server) }
            if case .group(let name) = server.address,
                !configuration.virtualServerGroups.contains(where: { $0.name == name })
            {
                report(
                    .error, .unknownReference, server.location,
                    "virtual_server group \(name): no `virtual_server_group \(name)` is defined\(suggest(name, configuration.virtualServerGroups.map(\.name)))"
                )
            }
            for real in server.realServers {
                if let family = server.family, real.address.family != family, server.forwardingMethod != .tunnel {
                    report(
                        .error, .familyMismatch, real.location,
                        "real server \(real.address) is \(real.address.family) but the virtual server is \(family)")
                }
                for checker in real.checkers {
                    if case .http(let http) = checker.kind { checkPatterns(http) }
                    if case .https(let http) = checker.kind { checkPatterns(http) }
                    if case .file(let file) = checker.kind, let name = file.trackFile,
                        !configuration.trackFiles.contains(where: { $0.name == name })
                    {
                        report(
                            .warning, .unknownReference, checker.location,
                            "FILE_CHECK uses track_file \(name), but no `track_file \(name)` is defined")
                    }
                }
            }
        }
    }

    /// A `regex` PCRE2 refuses: keepalived logs it and goes on; the check cannot pass as written.
    mutating func checkPatterns(_ http: HTTPCheck) {
        for url in http.urls {
            guard let pattern = url.regex, let problem = environment.patternError(pattern, options: url.regexOptionBits)
            else { continue }
            report(
                .warning, .invalidValue, url.location,
                "invalid regex '\(pattern)': \(problem); this url's check fails until the pattern is fixed")
        }
    }

    /// keepalived: a group mixing IPv4, IPv6 and firewall marks cannot tell which family its marks are, unless the
    /// virtual server says (`ip_family`); such a group is removed.
    mutating func checkVirtualServerGroups() {
        var removed = Set<String>()
        for group in configuration.virtualServerGroups {
            var families = Set<IPAddress.Family>()
            var marks = false
            for entry in group.entries {
                switch entry {
                case .addresses(let first, _, _): families.insert(first.family)
                case .firewallMark(_, let family):
                    if let family { families.insert(family) } else { marks = true }
                }
            }
            let declared = configuration.virtualServers.contains {
                if case .group(group.name) = $0.address { $0.keywordLocations["ip_family"] != nil } else { false }
            }
            if families.count > 1 && marks && !declared {
                report(
                    .error, .familyMismatch, group.location,
                    "virtual_server_group \(group.name) has IPv4 and IPv6 addresses and firewall marks, so the marks' family is unknown; add `ip_family inet|inet6` to its virtual server, or split the group. It is removed"
                )
                removed.insert(group.name)
            }
        }
        configuration.virtualServerGroups.removeAll { removed.contains($0.name) }
        configuration.virtualServers.removeAll {
            if case .group(let name) = $0.address { removed.contains(name) } else { false }
        }
    }

    /// `persistence_granularity`: an IPv4 netmask, or an IPv6 prefix length (keepalived's reading).
    mutating func checkPersistence(_ server: inout VirtualServer) {
        guard let text = server.persistenceGranularity else { return }
        let location = server.keywordLocations["persistence_granularity"] ?? server.location
        if server.family == .ipv6 || (server.family == nil && !text.contains(".")) {
            if let length = UInt32(text), (1...128).contains(length) {
                server.persistenceNetmask = length
                return
            }
            report(.error, .invalidValue, location, "an IPv6 `persistence_granularity` is a prefix length from 1 to 128, not '\(text)'")
        } else if let mask = IPAddress(text), case .v4(let value) = mask,
            value == 0 || (~value &+ 1) & ~value == 0
        {
            server.persistenceNetmask = value
            return
        } else {
            report(.error, .invalidValue, location, "an IPv4 `persistence_granularity` is a netmask such as 255.255.255.0, not '\(text)'")
        }
        server.persistenceGranularity = nil
    }

    /// keepalived lowers a quorum above the real servers' total weight to that weight.
    mutating func checkQuorum(_ server: inout VirtualServer) {
        let total = server.realServers.reduce(0) { $0 + $1.weight }
        guard server.quorum > total, total > 0 else { return }
        report(
            .warning, .conflict, server.keywordLocations["quorum"] ?? server.location,
            "`quorum \(server.quorum)` exceeds the real servers' total weight \(total); it is lowered to \(total), as keepalived does"
        )
        server.quorum = total
    }
}

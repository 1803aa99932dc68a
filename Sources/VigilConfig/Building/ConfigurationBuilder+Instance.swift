extension ConfigurationBuilder {
    mutating func buildInstance(_ statement: Statement) {
        guard let name = blockName(statement, what: "instance") else { return }
        guard instanceNames.insert(name).inserted else {
            error(
                .duplicate, statement.location,
                "a `vrrp_instance` named \(name) is already defined; this one is ignored. Give each instance its own name"
            )
            return
        }
        var instance = VRRPInstance(name: name, location: statement.location)
        var family: IPAddress.Family? = nil
        let children = known(statement.block ?? [], in: .vrrpInstance)
        instance.keywordLocations.reserveCapacity(children.count)
        for (keyword, child) in children {
            instance.keywordLocations[keyword] = child.location
            switch keyword {
            case "state":
                guard let value = word(child, "MASTER or BACKUP") else { break }
                guard let state = VRRPInstance.InitialState(rawValue: value) else {
                    error(.invalidValue, child.arguments[0].location, "`state` is MASTER or BACKUP, not '\(value)'")
                    break
                }
                instance.initialState = state
                instance.initialStateWasSet = true
            case "interface":
                instance.interface = word(child, "the name of the interface VRRP runs on")
            case "virtual_router_id":
                instance.virtualRouterID = integer(child, 1...255, "a virtual router id from 1 to 255")
            case "priority":
                if let value = integer(child, 1...255, "a priority from 1 to 255 (255 only for the address owner)") {
                    instance.priority = value
                    instance.priorityWasSet = true
                }
            case "advert_int":
                if let value = seconds(
                    child, .milliseconds(10) ... .seconds(255),
                    "an interval in seconds: whole seconds 1 to 255 for VRRP version 2, 0.01 to 40.95 for version 3")
                {
                    instance.advertisementInterval = value
                }
            case "version":
                if let value = integer(child, 2...3, "2 or 3") {
                    instance.version = value
                    instance.versionWasSet = true
                }
            case "nopreempt": instance.nopreempt = true
            case "preempt": instance.nopreempt = false
            case "preempt_delay":
                if let value = seconds(child, .zero ... .seconds(1000)) { instance.preemptDelay = value }
            case "authentication":
                instance.authentication = authentication(child)
            case "unicast_src_ip":
                instance.unicastSourceIP = address(child)
            case "unicast_peer":
                instance.unicastPeers += unicastPeers(child)
            case "unicast_ttl":
                instance.unicastTTL = integer(child, 0...255)
            case "mcast_src_ip":
                instance.multicastSourceIP = address(child)
            case "mcast_dst_ip":
                if let value = address(child) {
                    if value.isMulticast {
                        instance.multicastDestinationIP = value
                    } else {
                        error(.invalidValue, child.arguments[0].location, "`mcast_dst_ip` needs a multicast address")
                    }
                }
            case "check_unicast_src": instance.checkUnicastSource = true
            case "unicast_fault_no_peer": instance.unicastFaultNoPeer = true
            case "native_ipv6": instance.nativeIPv6 = true
            case "virtual_ipaddress":
                let addresses = virtualAddresses(child, family: family, allowVMAC: true)
                if family == nil { family = addresses.first?.prefix.address.family }
                instance.virtualAddresses += addresses
            case "virtual_ipaddress_excluded":
                instance.excludedVirtualAddresses += virtualAddresses(child, family: nil, allowVMAC: true)
            case "virtual_routes":
                instance.virtualRoutes += routes(child, virtual: true)
            case "virtual_rules":
                instance.virtualRules += rules(child, virtual: true)
            case "track_interface":
                instance.trackInterfaces += trackedInterfaces(child)
            case "track_script":
                instance.trackScripts += trackedReferences(child, weightRange: -254...254)
            case "track_file":
                instance.trackFiles += trackedReferences(child, weightRange: -254...254)
            case "track_process":
                instance.trackProcesses += trackedReferences(child, weightRange: -254...254)
            case "track_bfd":
                instance.trackBFDs += trackedReferences(child, weightRange: -253...253)
            case "dont_track_primary": instance.dontTrackPrimary = true
            case "notify_master": instance.notify.master = script(child)
            case "notify_backup": instance.notify.backup = script(child)
            case "notify_fault": instance.notify.fault = script(child)
            case "notify_stop": instance.notify.stop = script(child)
            case "notify": instance.notify.generic = script(child)
            case "notify_deleted":
                instance.notifyDeletedEnabled = true
                if !child.rawArguments.isEmpty { instance.notifyDeleted = script(child) }
            case "notify_master_rx_lower_pri": instance.notifyMasterRxLowerPriority = script(child)
            case "notify_priority_changes": instance.notifyPriorityChanges = boolean(child)
            case "smtp_alert": instance.smtpAlert = boolean(child)
            case "garp_master_delay", "garp_master_repeat", "garp_master_refresh", "garp_master_refresh_repeat",
                "garp_lower_prio_delay", "garp_lower_prio_repeat":
                readGarp(keyword, child, into: &instance.garp)
            case "down_timer_adverts": instance.downTimerAdverts = integer(child, 1...100)
            case "lower_prio_no_advert": instance.lowerPriorityNoAdvert = boolean(child)
            case "higher_prio_send_advert": instance.higherPrioritySendAdvert = boolean(child)
            case "use_vmac":
                guard instance.useVMAC == nil else {
                    warning(.conflict, child.location, "`use_vmac` or `use_ipvlan` is already set; this one is ignored")
                    break
                }
                var vmac = VirtualMAC(location: child.location)
                for argument in child.arguments.prefix(2) {
                    if argument.text.contains(":") {
                        vmac.written = argument.text
                    } else {
                        vmac.interfaceName = argument.text
                    }
                }
                if child.arguments.count > 2 {
                    warning(
                        .extraArgument, child.arguments[2].location,
                        "`use_vmac` takes an interface name and a MAC address; '\(child.arguments[2].text)' is ignored")
                }
                instance.useVMAC = vmac
            case "garp_extra_if", "vmac_garp_intvl":
                instance.garpExtraInterfaces = extraInterfaceAnnouncements(child, range: 0...86400)
            case "use_ipvlan":
                guard instance.useVMAC == nil else {
                    warning(.conflict, child.location, "`use_vmac` or `use_ipvlan` is already set; this one is ignored")
                    break
                }
                var ipvlan = VirtualMAC(location: child.location)
                ipvlan.kind = .ipvlan(flags: 0)
                var modeSet = false
                for argument in child.arguments {
                    let flags: [String: UInt16] = ["bridge": 0, "private": 1, "vepa": 2]
                    if let value = flags[argument.text] {
                        if modeSet {
                            warning(.duplicate, argument.location, "the ipvlan mode is already set; '\(argument.text)' is ignored")
                        } else {
                            ipvlan.kind = .ipvlan(flags: value)
                            modeSet = true
                        }
                    } else if let prefix = IPPrefix(argument.text) {
                        if ipvlan.ipvlanAddress != nil {
                            warning(.duplicate, argument.location, "the ipvlan address is already set; '\(argument.text)' is ignored")
                        } else {
                            ipvlan.ipvlanAddress = prefix
                        }
                    } else if ipvlan.interfaceName != nil {
                        warning(.duplicate, argument.location, "the ipvlan interface is already named; '\(argument.text)' is ignored")
                    } else {
                        ipvlan.interfaceName = argument.text
                    }
                }
                instance.useVMAC = ipvlan
            case "linkbeat_use_polling":
                instance.linkbeatUsePolling = true
            case "vmac_xmit_base":
                instance.vmacTransmitFromBase = true
            case "accept": instance.accept = true
            case "no_accept": instance.accept = false
            case "strict_mode": instance.strictMode = boolean(child)
            case "skip_check_adv_addr": instance.skipCheckAdvertAddresses = boolean(child)
            case "promote_secondaries": instance.promoteSecondaries = true
            case "debug": if let value = integer(child, 0...4) { instance.debugLevel = value }
            case "kernel_rx_buf_size": instance.kernelRxBufferSize = integer(child, 0...Int(Int32.max))
            case "lvs_sync_daemon_interface":
                // keepalived's older form of `lvs_sync_daemon IFNAME inst INSTANCE`.
                if let interface = word(child, "an interface"), configuration.global.lvsSyncDaemon == nil {
                    var daemon = LVSSyncDaemon(interface: interface, location: child.location)
                    daemon.instance = instance.name
                    configuration.global.lvsSyncDaemon = daemon
                }
            default:
                instance.otherSettings.append(setting(child))
            }
        }
        // Without a priority, `state MASTER` means the address owner (255); without a state, 255 means MASTER.
        if !instance.priorityWasSet && instance.initialState == .master { instance.priority = 255 }
        if !instance.initialStateWasSet && instance.priority == 255 { instance.initialState = .master }
        configuration.instances.append(instance)
    }

    mutating func authentication(_ statement: Statement) -> Authentication? {
        var type: String?
        var typeLocation = statement.location
        var password: Token?
        for (name, child) in known(statement.block ?? [], in: .vrrpInstanceAuthentication) {
            switch name {
            case "auth_type":
                guard let value = word(child, "PASS or AH") else { break }
                guard value == "PASS" || value == "AH" else {
                    error(.invalidValue, child.arguments[0].location, "`auth_type` is PASS or AH, not '\(value)'")
                    break
                }
                type = value
                typeLocation = child.location
            case "auth_pass":
                password = firstArgument(child, "a password of up to 8 characters")
            default:
                break
            }
        }
        guard let type else {
            if password != nil {
                error(
                    .missingSetting, statement.location,
                    "`authentication` has a password but no `auth_type`; add auth_type PASS")
            }
            return nil
        }
        guard let password else {
            error(.missingSetting, typeLocation, "`auth_type \(type)` needs an `auth_pass`")
            return nil
        }
        var bytes = Array(password.text.utf8)
        if bytes.count > 8 {
            warning(
                .passwordTooLong, password.location,
                "`auth_pass` is \(bytes.count) bytes; VRRP carries 8, so only '\(String(decoding: bytes.prefix(8), as: UTF8.self))' is used. Shorten it to 8 characters"
            )
            bytes = Array(bytes.prefix(8))
        }
        return type == "PASS" ? .password(bytes) : .ah(bytes)
    }

    mutating func unicastPeers(_ statement: Statement) -> [UnicastPeer] {
        var peers = [UnicastPeer]()
        for item in statement.block ?? [] {
            guard let address = address(item.keyword, keyword: "unicast_peer") else { continue }
            var peer = UnicastPeer(address: address, location: item.location)
            var options = item.arguments[...]
            while let option = options.popFirst() {
                switch option.text {
                case "min_ttl", "max_ttl":
                    guard let valueToken = options.popFirst() else {
                        error(.missingArgument, option.location, "`\(option.text)` needs a TTL from 0 to 255")
                        continue
                    }
                    guard let value = integer(valueToken, 0...255, keyword: option.text, "a TTL from 0 to 255") else {
                        continue
                    }
                    if option.text == "min_ttl" { peer.minimumTTL = value } else { peer.maximumTTL = value }
                default:
                    warning(
                        .invalidValue, option.location,
                        "unknown option '\(option.text)' for a unicast peer; use min_ttl or max_ttl")
                }
            }
            peers.append(peer)
        }
        return peers
    }

    mutating func trackedInterfaces(_ statement: Statement) -> [TrackedInterface] {
        var result = [TrackedInterface]()
        for item in statement.block ?? [] {
            var tracked = TrackedInterface(name: item.name, location: item.location)
            var options = item.arguments[...]
            if let option = options.popFirst() {
                guard option.text == "weight" else {
                    warning(
                        .invalidValue, option.location,
                        "unknown option '\(option.text)' for a tracked interface; write `\(item.name) weight W`. This item is ignored"
                    )
                    continue
                }
                guard let (weight, reverse) = self.weight(options, -254...254, keyword: "weight") else {
                    if options.isEmpty {
                        error(.missingArgument, option.location, "`weight` needs a number from -254 to 254")
                    }
                    continue
                }
                tracked.weight = weight
                tracked.reverse = reverse ?? false
            }
            if result.contains(where: { $0.name == tracked.name }) {
                warning(.duplicate, item.location, "interface \(tracked.name) is already tracked; this line is ignored")
                continue
            }
            result.append(tracked)
        }
        return result
    }

    mutating func trackedReferences(_ statement: Statement, weightRange: ClosedRange<Int>) -> [TrackedReference] {
        var result = [TrackedReference]()
        for item in statement.block ?? [] {
            var tracked = TrackedReference(name: item.name, location: item.location)
            var options = item.arguments[...]
            if let option = options.popFirst() {
                guard option.text == "weight" else {
                    warning(
                        .invalidValue, option.location,
                        "unknown option '\(option.text)' after \(item.name); write `\(item.name) weight W`. This item is ignored"
                    )
                    continue
                }
                guard let (weight, reverse) = self.weight(options, weightRange, keyword: "weight") else {
                    if options.isEmpty { error(.missingArgument, option.location, "`weight` needs a number") }
                    continue
                }
                tracked.weight = weight
                tracked.reverse = reverse
            }
            result.append(tracked)
        }
        return result
    }
}

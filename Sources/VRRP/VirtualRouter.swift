import VigilConfig

/// One VRRP virtual router as a value: events in, actions out (RFC 5798/9568 with keepalived's behaviour).
///
/// The driver feeds it the current time with every event and carries out the actions in order: sending adverts,
/// adding and removing addresses, announcing them, arming timers. Nothing here touches a socket or a clock, so every
/// rule, including the exact instant each timer fires, is tested over a made-up clock.
public struct VirtualRouter: Sendable {
    public enum State: String, Hashable, Sendable, CustomStringConvertible {
        case initialize = "INIT"
        case backup = "BACKUP"
        case master = "MASTER"
        case fault = "FAULT"
        case stopped = "STOP"

        public var description: String { rawValue }
        /// keepalived's numbers for its states (JSON dumps, exporters): INIT 0, BACKUP 1, MASTER 2, FAULT 3, STOP 98.
        public var keepalivedNumber: Int {
            switch self {
            case .initialize: 0
            case .backup: 1
            case .master: 2
            case .fault: 3
            case .stopped: 98
            }
        }
    }

    public enum Timer: Hashable, Sendable, CaseIterable {
        /// MASTER: time to send the next advert.
        case advertisement
        /// BACKUP: no advert from a master for Master_Down_Interval; take over.
        case masterDown
        /// MASTER: the second burst of gratuitous ARPs, `garp_master_delay` after becoming master.
        case delayedAnnouncement
        /// MASTER: periodic gratuitous ARPs (`garp_master_refresh`).
        case refreshAnnouncement
        /// MASTER: the second burst after hearing a lower-priority advert (`garp_lower_prio_delay`).
        case lowerPriorityAnnouncement
    }

    /// Why the router changed state; the driver logs it and `vigil status` shows it.
    public enum Reason: Hashable, Sendable, CustomStringConvertible {
        case startup
        case masterDown
        case priorityZeroReceived
        case higherPriority(IPAddress, priority: Int)
        case equalPriorityHigherAddress(IPAddress)
        case fault(String)
        case recovered
        case syncGroup
        case stop

        public var description: String {
            switch self {
            case .startup: "startup"
            case .masterDown: "no advert from a master within Master_Down_Interval"
            case .priorityZeroReceived: "the master resigned (priority 0)"
            case .higherPriority(let address, let priority): "advert from \(address) with higher priority \(priority)"
            case .equalPriorityHigherAddress(let address):
                "advert from \(address) with equal priority and higher address"
            case .fault(let why): why
            case .recovered: "fault cleared"
            case .syncGroup: "its sync group changed state"
            case .stop: "stopping"
            }
        }
    }

    /// Things worth a log line that are not state changes, in keepalived's terms.
    public enum Note: Hashable, Sendable {
        case backupReceivedPriorityZero
        case masterReceivedPriorityZero
        case lowerPriorityDiscarded(from: IPAddress, priority: Int)
        case masterReceivedLowerPriority(from: IPAddress, priority: Int, ours: Int, forcingElection: Bool)
        case equalPriorityFromOwnAddress
        case bothAddressOwners
        case intervalAdopted(from: Duration, to: Duration)
        case preemptDelayStarted(until: MonotonicTime)
        case preemptDelayStopped
        case priorityChanged(from: Int, to: Int)
    }

    public enum Action: Hashable, Sendable {
        case sendAdvertisement(priority: UInt8)
        case addVirtualAddresses
        case removeVirtualAddresses
        /// A burst of gratuitous ARPs / unsolicited neighbour advertisements for every address, `repeat` rounds.
        case announceAddresses(repeat: Int)
        case arm(Timer, at: MonotonicTime)
        case cancel(Timer)
        case stateChanged(from: State, to: State, reason: Reason)
        case note(Note)
    }

    /// What the state machine needs of the configuration.
    public struct Settings: Sendable, Equatable {
        public var name: String
        public var version: Advertisement.Version
        public var virtualRouterID: UInt8
        public var priority: Int
        public var advertisementInterval: Duration
        public var wantsMaster: Bool
        public var nopreempt: Bool
        public var preemptDelay: Duration
        public var downTimerAdverts: Int
        public var startupDelay: Duration
        public var garp: GratuitousARPSettings
        public var lowerPriorityNoAdvert: Bool
        public var higherPrioritySendAdvert: Bool
        public var strict: Bool

        public init(
            name: String, version: Advertisement.Version, virtualRouterID: UInt8, priority: Int,
            advertisementInterval: Duration, wantsMaster: Bool = false, nopreempt: Bool = false,
            preemptDelay: Duration = .zero, downTimerAdverts: Int = 3, startupDelay: Duration = .zero,
            garp: GratuitousARPSettings = GratuitousARPSettings(), lowerPriorityNoAdvert: Bool = false,
            higherPrioritySendAdvert: Bool = false, strict: Bool = false
        ) {
            self.name = name
            self.version = version
            self.virtualRouterID = virtualRouterID
            self.priority = priority
            self.advertisementInterval = advertisementInterval
            self.wantsMaster = wantsMaster
            self.nopreempt = nopreempt
            self.preemptDelay = preemptDelay
            self.downTimerAdverts = downTimerAdverts
            self.startupDelay = startupDelay
            self.garp = garp
            self.lowerPriorityNoAdvert = lowerPriorityNoAdvert
            self.higherPrioritySendAdvert = higherPrioritySendAdvert
            self.strict = strict
        }
    }

    public private(set) var settings: Settings
    public private(set) var state: State = .initialize
    /// The priority in use: the configured one moved by trackers, within 1-254 (255 never moves).
    public private(set) var effectivePriority: Int
    /// The configured priority; drops to 254 only when two address owners meet.
    public private(set) var basePriority: Int
    /// The interval the master advertises: ours while master, the master's (v3) while backup.
    public private(set) var masterAdvertisementInterval: Duration
    /// The current master as last heard, while backup.
    public private(set) var masterAddress: IPAddress?
    public private(set) var masterPriority: Int?
    /// Our own address on the wire, to break ties between equal priorities (the higher address wins).
    public var primaryAddress: IPAddress?
    /// The deadline of each armed timer, as the driver was told.
    public private(set) var deadlines = TimerDeadlines()
    private var preemptDeadline: MonotonicTime?
    private var faultReason: String?
    /// Whether this router wants MASTER (what it would do alone; sync groups hold it back).
    public private(set) var wantsMaster: Bool

    public init(settings: Settings) {
        self.settings = settings
        basePriority = settings.priority
        effectivePriority = settings.priority
        masterAdvertisementInterval = settings.advertisementInterval
        wantsMaster = settings.wantsMaster
    }

    public var isAddressOwner: Bool { basePriority == 255 }
    public var isFaulted: Bool { faultReason != nil }

    // MARK: - Timer arithmetic (RFC 5798 6.1, keepalived's integer microseconds)

    /// Skew_Time: (256 - Priority) / 256 of the master's advertisement interval (v2: of one second).
    public var skewTime: Duration {
        let share = Int64(256 - effectivePriority)
        switch settings.version {
        case .v2:
            return .microseconds(share * 1_000_000 / 256)
        case .v3:
            return .microseconds(share * (masterAdvertisementInterval.microseconds / 10_000) * 625 / 16)
        }
    }

    /// Master_Down_Interval: `down_timer_adverts` (3) intervals of the master plus Skew_Time.
    public var masterDownInterval: Duration {
        masterAdvertisementInterval * settings.downTimerAdverts + skewTime
    }

    // MARK: - Events

    /// Starts the router: the address owner that wants MASTER takes over at once; every other router listens as
    /// BACKUP for a full Master_Down_Interval (also `state MASTER` below 255, as keepalived does).
    public mutating func start(now: MonotonicTime) -> [Action] {
        var actions = [Action]()
        if let reason = faultReason {
            transition(to: .fault, reason: .fault(reason), &actions)
            return actions
        }
        let begin = now + settings.startupDelay
        if isAddressOwner && wantsMaster {
            // The owner stays in INIT through the start-up delay (usually none), then goes MASTER.
            arm(.masterDown, at: begin, &actions)
        } else {
            transition(to: .backup, reason: .startup, &actions)
            arm(.masterDown, at: begin + masterDownInterval, &actions)
        }
        return actions
    }

    /// A timer fired. `syncAllowsMaster` is false when this router's sync group holds it back: it then wants
    /// MASTER but listens for another Master_Down_Interval (keepalived's `vrrp_sync_can_goto_master`).
    public mutating func timerFired(_ timer: Timer, now: MonotonicTime, syncAllowsMaster: Bool = true) -> [Action] {
        guard deadlines[timer] != nil else { return [] }
        deadlines[timer] = nil
        var actions = [Action]()
        switch (timer, state) {
        case (.masterDown, .initialize):
            // The address owner's start: every state change goes through `transition`, this one too.
            if let reason = faultReason {
                transition(to: .fault, reason: .fault(reason), &actions)
            } else {
                wantsMaster = true
                becomeMaster(now: now, reason: .startup, &actions)
            }
        case (.masterDown, .backup):
            wantsMaster = true
            guard syncAllowsMaster else {
                arm(.masterDown, at: now + masterDownInterval, &actions)
                return actions
            }
            becomeMaster(now: now, reason: .masterDown, &actions)
        case (.advertisement, .master):
            actions.append(.sendAdvertisement(priority: UInt8(effectivePriority)))
            arm(.advertisement, at: now + settings.advertisementInterval, &actions)
        case (.delayedAnnouncement, .master):
            actions.append(.announceAddresses(repeat: settings.garp.masterRepeat))
        case (.refreshAnnouncement, .master):
            actions.append(.announceAddresses(repeat: settings.garp.masterRefreshRepeat))
            arm(.refreshAnnouncement, at: now + settings.garp.masterRefresh, &actions)
        case (.lowerPriorityAnnouncement, .master):
            actions.append(.announceAddresses(repeat: lowerPriorityRepeat))
        default:
            break
        }
        return actions
    }

    /// An advert that passed every check (`Advertisement.decode`, `ReceivePolicy`) arrives from `source`.
    public mutating func received(_ advert: Advertisement, from source: IPAddress, now: MonotonicTime) -> [Action] {
        var actions = [Action]()
        switch state {
        case .backup: receivedAsBackup(advert, from: source, now: now, &actions)
        case .master: receivedAsMaster(advert, from: source, now: now, &actions)
        case .initialize, .fault, .stopped: break
        }
        return actions
    }

    /// An interface or a weight-0 tracker failed (`reason`), or recovered (`nil`).
    public mutating func setFault(_ reason: String?, now: MonotonicTime) -> [Action] {
        var actions = [Action]()
        let wasFaulted = faultReason != nil
        faultReason = reason
        switch (wasFaulted, reason) {
        case (false, let reason?):
            // Before `start`, the fault is only remembered (start goes to FAULT); after it, even an owner still in
            // INIT through its start-up delay goes to FAULT now.
            guard state != .stopped, state != .initialize || deadlines[.masterDown] != nil else { break }
            if state == .master {
                actions.append(.sendAdvertisement(priority: 0))
                leaveMaster(&actions)
            }
            cancel(.masterDown, &actions)
            transition(to: .fault, reason: .fault(reason), &actions)
        case (true, nil):
            guard state == .fault else { break }
            masterAdvertisementInterval = settings.advertisementInterval
            if isAddressOwner && settings.wantsMaster {
                wantsMaster = true
                becomeMaster(now: now, reason: .recovered, &actions)
            } else {
                wantsMaster = false
                transition(to: .backup, reason: .recovered, &actions)
                arm(.masterDown, at: now + masterDownInterval, &actions)
            }
        default:
            break
        }
        return actions
    }

    /// Trackers moved the priority: `total` is the configured priority plus their weights. The new priority goes
    /// out with the next advert; a backup's takeover deadline moves by the change in Skew_Time.
    public mutating func setTotalPriority(_ total: Int, now: MonotonicTime) -> [Action] {
        guard !isAddressOwner else { return [] }
        let clamped = min(254, max(1, total))
        guard clamped != effectivePriority else { return [] }
        var actions = [Action.note(.priorityChanged(from: effectivePriority, to: clamped))]
        let oldSkew = skewTime
        effectivePriority = clamped
        if state == .backup, let deadline = deadlines[.masterDown] {
            arm(.masterDown, at: deadline + (skewTime - oldSkew), &actions)
        }
        return actions
    }

    /// A reload changed the configuration of this router (matched by VRID, family, interface and source): the
    /// state is kept, as are the master it follows and its timers; the new priority goes out in the next advert
    /// (the driver re-applies its trackers through `setTotalPriority`), a new interval from the next advert on.
    public mutating func reconfigure(_ new: Settings, now: MonotonicTime) -> [Action] {
        let old = settings
        settings = new
        var actions = [Action]()
        if new.priority != old.priority {
            basePriority = new.priority
            let previous = effectivePriority
            if new.priority == 255 || old.priority == 255 {
                effectivePriority = new.priority
            } else {
                // Trackers' contribution stays until the driver re-applies them.
                effectivePriority = min(254, max(1, effectivePriority + new.priority - old.priority))
            }
            if effectivePriority != previous {
                actions.append(.note(.priorityChanged(from: previous, to: effectivePriority)))
            }
        }
        if new.advertisementInterval != old.advertisementInterval {
            switch state {
            case .master:
                masterAdvertisementInterval = new.advertisementInterval
                let next = now + new.advertisementInterval
                if let due = deadlines[.advertisement], due > next { arm(.advertisement, at: next, &actions) }
            case .backup where new.version == .v2 || masterAddress == nil:
                masterAdvertisementInterval = new.advertisementInterval
            default:
                break
            }
        }
        if state == .backup, let deadline = deadlines[.masterDown], masterAddress != nil,
            now + masterDownInterval < deadline
        {
            arm(.masterDown, at: now + masterDownInterval, &actions)
        }
        return actions
    }

    /// Its sync group went MASTER: a backup follows at once.
    public mutating func syncToMaster(now: MonotonicTime) -> [Action] {
        guard state == .backup else { return [] }
        var actions = [Action]()
        wantsMaster = true
        becomeMaster(now: now, reason: .syncGroup, &actions)
        return actions
    }

    /// Its sync group went BACKUP: a master gives its addresses up, without an advert.
    public mutating func syncToBackup(now: MonotonicTime) -> [Action] {
        guard state == .master else { return [] }
        var actions = [Action]()
        wantsMaster = false
        leaveMaster(&actions)
        transition(to: .backup, reason: .syncGroup, &actions)
        arm(.masterDown, at: now + masterDownInterval, &actions)
        return actions
    }

    /// Stops the router: a master resigns with a priority-0 advert and gives up its addresses.
    public mutating func stop(now: MonotonicTime) -> [Action] {
        var actions = [Action]()
        guard state != .stopped else { return actions }
        if state == .master {
            actions.append(.sendAdvertisement(priority: 0))
            leaveMaster(&actions)
        }
        for timer in Timer.allCases where deadlines[timer] != nil { cancel(timer, &actions) }
        transition(to: .stopped, reason: .stop, &actions)
        return actions
    }

    // MARK: - Receiving

    private mutating func receivedAsBackup(
        _ advert: Advertisement, from source: IPAddress, now: MonotonicTime, _ actions: inout [Action]
    ) {
        let priority = Int(advert.priority)
        if priority == 0 {
            actions.append(.note(.backupReceivedPriorityZero))
            arm(.masterDown, at: now + skewTime, &actions)
            return
        }
        let preemptWindowOpen = settings.preemptDelay > .zero && (preemptDeadline.map { now < $0 } ?? true)
        guard settings.nopreempt || priority >= effectivePriority || preemptWindowOpen else {
            // A lower priority and we may preempt: let the timer run out and take over.
            actions.append(.note(.lowerPriorityDiscarded(from: source, priority: priority)))
            masterAddress = source
            return
        }
        if settings.version == .v3 && advert.interval != masterAdvertisementInterval && advert.interval > .zero {
            actions.append(.note(.intervalAdopted(from: masterAdvertisementInterval, to: advert.interval)))
            masterAdvertisementInterval = advert.interval
        }
        masterAddress = source
        masterPriority = priority
        if settings.preemptDelay > .zero {
            if priority >= effectivePriority {
                if preemptDeadline != nil {
                    preemptDeadline = nil
                    actions.append(.note(.preemptDelayStopped))
                }
            } else if preemptDeadline == nil {
                let deadline = now + settings.preemptDelay
                preemptDeadline = deadline
                actions.append(.note(.preemptDelayStarted(until: deadline)))
            }
        }
        wantsMaster = false
        arm(.masterDown, at: now + masterDownInterval, &actions)
    }

    private mutating func receivedAsMaster(
        _ advert: Advertisement, from source: IPAddress, now: MonotonicTime, _ actions: inout [Action]
    ) {
        let priority = Int(advert.priority)
        if priority == 0 {
            // The other master resigned; answer so that backups hear who is master now.
            actions.append(.note(.masterReceivedPriorityZero))
            sendAdvertisementNow(now, &actions)
            return
        }
        let theirsIsHigherAddress = primaryAddress.map { $0 < source } ?? false
        if priority == effectivePriority {
            if source == primaryAddress {
                actions.append(.note(.equalPriorityFromOwnAddress))
                return
            }
            if isAddressOwner {
                // Two owners of the same addresses: step down to 254 so the election can end.
                actions.append(.note(.bothAddressOwners))
                basePriority = 254
                effectivePriority = 254
            }
        }
        let higher = priority > effectivePriority || (priority == effectivePriority && theirsIsHigherAddress)
        if settings.higherPrioritySendAdvert && higher { sendAdvertisementNow(now, &actions) }
        if higher {
            if settings.version == .v3 && advert.interval > .zero { masterAdvertisementInterval = advert.interval }
            masterAddress = source
            masterPriority = priority
            wantsMaster = false
            leaveMaster(&actions)
            let reason: Reason =
                priority > effectivePriority
                ? .higherPriority(source, priority: priority) : .equalPriorityHigherAddress(source)
            transition(to: .backup, reason: reason, &actions)
            arm(.masterDown, at: now + masterDownInterval, &actions)
            return
        }
        // A lower priority: keepalived answers at once to force the other side to back off.
        actions.append(
            .note(
                .masterReceivedLowerPriority(
                    from: source, priority: priority, ours: effectivePriority,
                    forcingElection: !settings.lowerPriorityNoAdvert)))
        if !settings.lowerPriorityNoAdvert { sendAdvertisementNow(now, &actions) }
        if lowerPriorityRepeat > 0 && !settings.strict {
            actions.append(.announceAddresses(repeat: lowerPriorityRepeat))
            let delay = settings.garp.lowerPriorityDelay ?? settings.garp.masterDelay
            if delay > .zero { arm(.lowerPriorityAnnouncement, at: now + delay, &actions) }
        }
    }

    private var lowerPriorityRepeat: Int { settings.garp.lowerPriorityRepeat ?? settings.garp.masterRepeat }

    // MARK: - Transitions

    private mutating func becomeMaster(now: MonotonicTime, reason: Reason, _ actions: inout [Action]) {
        cancel(.masterDown, &actions)
        masterAdvertisementInterval = settings.advertisementInterval
        masterAddress = nil
        masterPriority = nil
        preemptDeadline = nil
        // The advert goes first, so that the old master drops the addresses before our announcements arrive.
        actions.append(.sendAdvertisement(priority: UInt8(effectivePriority)))
        actions.append(.addVirtualAddresses)
        actions.append(.announceAddresses(repeat: settings.garp.masterRepeat))
        transition(to: .master, reason: reason, &actions)
        arm(.advertisement, at: now + settings.advertisementInterval, &actions)
        if settings.garp.masterDelay > .zero {
            arm(.delayedAnnouncement, at: now + settings.garp.masterDelay, &actions)
        }
        if settings.garp.masterRefresh > .zero {
            arm(.refreshAnnouncement, at: now + settings.garp.masterRefresh, &actions)
        }
    }

    /// The part of leaving MASTER common to every way out: addresses go, master-only timers stop.
    private mutating func leaveMaster(_ actions: inout [Action]) {
        actions.append(.removeVirtualAddresses)
        for timer in [Timer.advertisement, .delayedAnnouncement, .refreshAnnouncement, .lowerPriorityAnnouncement]
        where deadlines[timer] != nil {
            cancel(timer, &actions)
        }
        preemptDeadline = nil
    }

    private mutating func sendAdvertisementNow(_ now: MonotonicTime, _ actions: inout [Action]) {
        actions.append(.sendAdvertisement(priority: UInt8(effectivePriority)))
        arm(.advertisement, at: now + settings.advertisementInterval, &actions)
    }

    private mutating func transition(to next: State, reason: Reason, _ actions: inout [Action]) {
        let previous = state
        state = next
        actions.append(.stateChanged(from: previous, to: next, reason: reason))
    }

    private mutating func arm(_ timer: Timer, at deadline: MonotonicTime, _ actions: inout [Action]) {
        deadlines[timer] = deadline
        actions.append(.arm(timer, at: deadline))
    }

    private mutating func cancel(_ timer: Timer, _ actions: inout [Action]) {
        guard deadlines.removeValue(forKey: timer) != nil else { return }
        actions.append(.cancel(timer))
    }
}

/// keepalived's rise/fall counting for a `vrrp_script`: `rise` consecutive successes make a failed script good,
/// `fall` consecutive failures make a good one fail. Until its first result a script's status is unknown (and
/// an instance tracking it waits); with `init_fail` it starts failed and needs `rise` successes.
public struct ScriptHealth: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        case unknown, good, failed
    }

    public let rise: Int
    public let fall: Int
    /// 0 ... rise + fall - 1; good from `rise` up.
    private var counter: Int
    public private(set) var status: Status

    public init(rise: Int, fall: Int, initFail: Bool) {
        self.rise = max(1, rise)
        self.fall = max(1, fall)
        counter = initFail ? 0 : max(1, rise) - 1
        status = initFail ? .failed : .unknown
    }

    /// Records one run's result; returns whether the status changed.
    @discardableResult
    public mutating func record(success: Bool) -> Bool {
        let before = status
        if success {
            counter = counter < rise - 1 ? counter + 1 : rise + fall - 1
        } else {
            counter = counter > rise ? counter - 1 : 0
        }
        status = counter >= rise ? .good : .failed
        return status != before
    }
}

/// One thing an instance tracks, as priority arithmetic sees it.
public struct TrackedItem: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case script, interface, file, process, bfd
    }

    public enum Value: Sendable, Equatable {
        /// Not known yet (a script that has not run): it moves nothing.
        case unknown
        case up(Bool)
        /// A tracked file's number.
        case number(Int)
    }

    public var kind: Kind
    public var name: String
    public var weight: Int
    public var reverse: Bool
    public var value: Value

    public init(kind: Kind, name: String, weight: Int, reverse: Bool, value: Value = .unknown) {
        self.kind = kind
        self.name = name
        self.weight = weight
        self.reverse = reverse
        self.value = value
    }
}

/// keepalived's effective priority: the configured priority moved by weighted trackers; a weight-0 tracker that
/// is down (up, when reversed) puts the instance in FAULT.
public enum TrackedPriority {
    /// The total (before clamping to 1-254; `VirtualRouter` clamps) and the first fault, if any.
    public static func evaluate(base: Int, items: [TrackedItem]) -> (total: Int, fault: String?) {
        var total = base
        var fault: String?
        for item in items {
            let sign = item.reverse ? -1 : 1
            switch item.value {
            case .unknown:
                continue
            case .up(let up):
                if item.weight == 0 {
                    if up == item.reverse && fault == nil { fault = Self.describe(item, up: up) }
                } else if item.weight > 0 && up {
                    total += item.weight * sign
                } else if item.weight < 0 && !up {
                    total += item.weight * sign
                }
            case .number(let number):
                // A tracked file moves priority by its number times the weight; -254 or below means FAULT.
                let contribution = item.weight == 0 ? number : number * item.weight * sign
                if item.weight == 0 {
                    if number != 0 && fault == nil { fault = "tracked file \(item.name) has status \(number)" }
                } else if contribution <= -254 {
                    if fault == nil { fault = "tracked file \(item.name) has status \(number)" }
                } else {
                    total += min(253, contribution)
                }
            }
        }
        return (total, fault)
    }

    static func describe(_ item: TrackedItem, up: Bool) -> String {
        switch item.kind {
        case .script: "script \(item.name) \(up ? "succeeded (reversed)" : "failed")"
        case .interface: "interface \(item.name) \(up ? "up (reversed)" : "down")"
        case .process: "tracked process \(item.name) quorum \(up ? "reached (reversed)" : "not achieved")"
        case .file: "tracked file \(item.name)"
        case .bfd: "tracked BFD \(item.name) \(up ? "up (reversed)" : "down")"
        }
    }
}

/// A `vrrp_sync_group`'s shared state: members change state together. MASTER only when every member wants it;
/// one member leaving MASTER for BACKUP takes the others along; one member in FAULT puts them all in FAULT.
public struct SyncGroupState: Sendable, Equatable {
    public enum Propagation: Sendable, Equatable {
        case none
        /// Every other member that is not MASTER goes MASTER now.
        case allMaster
        /// Every other MASTER member goes BACKUP (without an advert).
        case allBackup
        /// Every other member goes FAULT.
        case allFault
    }

    public let name: String
    public let members: [String]
    public private(set) var state: VirtualRouter.State = .initialize

    public init(name: String, members: [String]) {
        self.name = name
        self.members = members
    }

    /// Whether `member`, whose Master_Down timer fired, may go MASTER: the group is MASTER already, or every other
    /// member wants MASTER too.
    public func mayGoMaster(_ member: String, wantsMaster: (String) -> Bool) -> Bool {
        state == .master || members.allSatisfy { $0 == member || wantsMaster($0) }
    }

    /// A member changed state; returns what the group does about it, and whether the group's own state changed.
    public mutating func memberChanged(to next: VirtualRouter.State) -> (Propagation, groupChanged: Bool) {
        let before = state
        let propagation: Propagation
        switch next {
        case .master:
            state = .master
            propagation = before == .master ? .none : .allMaster
        case .backup:
            state = .backup
            propagation = before == .master ? .allBackup : .none
        case .fault:
            state = .fault
            propagation = before == .fault ? .none : .allFault
        case .stopped:
            state = .stopped
            propagation = .none
        case .initialize:
            propagation = .none
        }
        return (propagation, state != before)
    }
}

/// The deadline of each of a router's timers, as the driver was told: a slot per timer, not a dictionary (one is
/// read, cleared and set again with every advert; a dictionary hashes each time and keeps a heap table per router).
public struct TimerDeadlines: Sendable, Equatable {
    /// Nanoseconds on the monotonic clock; `Int64.min`: not armed.
    private var advertisement = Int64.min
    private var masterDown = Int64.min
    private var delayedAnnouncement = Int64.min
    private var refreshAnnouncement = Int64.min
    private var lowerPriorityAnnouncement = Int64.min

    public init() {}

    public subscript(timer: VirtualRouter.Timer) -> MonotonicTime? {
        get {
            let value: Int64
            switch timer {
            case .advertisement: value = advertisement
            case .masterDown: value = masterDown
            case .delayedAnnouncement: value = delayedAnnouncement
            case .refreshAnnouncement: value = refreshAnnouncement
            case .lowerPriorityAnnouncement: value = lowerPriorityAnnouncement
            }
            return value == .min ? nil : MonotonicTime(nanoseconds: value)
        }
        set {
            let value = newValue?.nanoseconds ?? .min
            switch timer {
            case .advertisement: advertisement = value
            case .masterDown: masterDown = value
            case .delayedAnnouncement: delayedAnnouncement = value
            case .refreshAnnouncement: refreshAnnouncement = value
            case .lowerPriorityAnnouncement: lowerPriorityAnnouncement = value
            }
        }
    }

    /// Clears a timer's deadline; the one it had, if it was armed.
    @discardableResult
    public mutating func removeValue(forKey timer: VirtualRouter.Timer) -> MonotonicTime? {
        defer { self[timer] = nil }
        return self[timer]
    }

    public var isEmpty: Bool { VirtualRouter.Timer.allCases.allSatisfy { self[$0] == nil } }
}

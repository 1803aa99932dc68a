import CLinux
import Glibc

/// A single-threaded event loop over epoll: file descriptors that became readable, timers on CLOCK_MONOTONIC with
/// nanosecond resolution (one timerfd armed at the earliest deadline), and work posted from other threads.
///
/// Everything registered runs on the loop's thread, in order, so the state machines need no locks. The rules are
/// checked, not hoped for: every method but `post` must be called on the loop's thread (or before it runs), work
/// handed in from another thread is `@Sendable`, and state that belongs to the loop is wrapped in `LoopBound`,
/// which checks the thread on every access. Handlers must not block: anything slow goes to another thread and
/// comes back with `post`. Debug builds time every callback and keep the longest (`longestCallback`).
public final class EventLoop: @unchecked Sendable {
    public typealias Handler = () -> Void
    public struct TimerID: Hashable, Sendable {
        fileprivate let value: UInt64
    }

    /// What a callback was, for the longest-callback record.
    public enum CallbackKind: String, Sendable {
        case descriptor, timer, posted
    }

    private let epoll: FileDescriptor
    private let timerFD: FileDescriptor
    private let wakeFD: FileDescriptor
    private var readHandlers: [Int32: (label: String, handler: Handler)] = [:]
    /// Keyed by when the loop wakes for a timer: its deadline, or earlier by its lead (`schedule(at:lead:)`).
    private var timers = TimerHeap()
    private var timerHandlers: [UInt64: (deadline: Int64, wake: Int64, label: String, handler: Handler)] = [:]
    /// Timers with a lead whose wake-up came and whose deadline has not: the loop polls its descriptors without
    /// sleeping until the first is due. Sorted by deadline.
    private var spinning: [(deadline: Int64, wake: Int64, id: UInt64)] = []
    private var nextTimerID: UInt64 = 1
    private var armedWake: Int64?
    private var running = false
    private let postedLock = ConditionLock()
    private var posted: [@Sendable () -> Void] = []
    /// The thread that runs the loop; until `run`, the thread that made it.
    private var owner = pthread_self()

    /// The longest callback so far (debug builds), its label and its kind.
    public private(set) var longestCallback: (nanoseconds: Int64, label: String, kind: CallbackKind) = (0, "", .posted)

    public init() throws(SystemError) {
        epoll = FileDescriptor(try system("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) })
        timerFD = FileDescriptor(
            try system("timerfd_create") {
                timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
            })
        wakeFD = FileDescriptor(try system("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) })
        try add(timerFD.rawValue, label: "timers") { [unowned self] in self.timerFDReadable() }
        try add(wakeFD.rawValue, label: "posted work") { [unowned self] in self.runPosted() }
    }

    public static let readable = EPOLLIN.rawValue
    public static let writable = EPOLLOUT.rawValue

    /// Whether the caller is on the loop's thread.
    public var inEventLoop: Bool { pthread_equal(pthread_self(), owner) != 0 }

    /// Stops the process when called off the loop's thread: loop-bound state touched from another thread is a
    /// data race, found here rather than in a corrupted timer heap.
    public func preconditionInEventLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(inEventLoop, "called off the event loop's thread", file: file, line: line)
    }

    /// Calls `handler` on the loop whenever `fd` is readable (level-triggered), or ready for `events`.
    public func add(
        _ fd: Int32, events: UInt32 = EventLoop.readable, label: String = "descriptor",
        _ handler: @escaping Handler
    ) throws(SystemError) {
        preconditionInEventLoop()
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        _ = try system("epoll_ctl(ADD)") { epoll_ctl(epoll.rawValue, EPOLL_CTL_ADD, fd, &event) }
        readHandlers[fd] = (label, handler)
    }

    /// Changes what a registered descriptor is watched for (readable, writable or both).
    public func change(_ fd: Int32, events: UInt32) {
        preconditionInEventLoop()
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        _ = epoll_ctl(epoll.rawValue, EPOLL_CTL_MOD, fd, &event)
    }

    public func remove(_ fd: Int32) {
        preconditionInEventLoop()
        _ = epoll_ctl(epoll.rawValue, EPOLL_CTL_DEL, fd, nil)
        readHandlers[fd] = nil
    }

    /// The current time on the loop's clock.
    public var now: Int64 { monotonicNanoseconds() }

    /// Calls `handler` once at `deadline` (CLOCK_MONOTONIC nanoseconds), or at once if that has passed.
    ///
    /// With a `lead`, the thread wakes that many nanoseconds early and from then on polls its descriptors without
    /// sleeping (handling whatever arrives, which may cancel the timer), so that the handler runs at the deadline
    /// itself rather than a CPU's wake-up later; never before the deadline, even within `timerSlack`. For rare
    /// deadlines that must be met to the microsecond: the lead is spent on a busy CPU.
    @discardableResult
    public func schedule(
        at deadline: Int64, lead: Int64 = 0, label: String = "timer", _ handler: @escaping Handler
    ) -> TimerID {
        preconditionInEventLoop()
        let id = nextTimerID
        nextTimerID += 1
        let wake = deadline - max(0, lead)
        timerHandlers[id] = (deadline, wake, label, handler)
        timers.push(deadline: wake, id: id)
        // While due timers run, the timerfd is re-armed once, after them.
        if !dispatchingTimers { rearm() }
        return TimerID(value: id)
    }

    public func cancel(_ timer: TimerID) {
        preconditionInEventLoop()
        // The heap entry stays; it is skipped when it surfaces.
        timerHandlers[timer.value] = nil
    }

    /// Runs `work` on the loop's thread, soon. The only method safe to call from any thread.
    public func post(_ work: @escaping @Sendable () -> Void) {
        postedLock.withLock { posted.append(work) }
        var one: UInt64 = 1
        _ = write(wakeFD.rawValue, &one, 8)
    }

    /// Runs until `stop` is called. An epoll failure other than an interruption ends the loop with the error
    /// (retrying it would spin a real-time thread).
    public func run() throws(SystemError) {
        owner = pthread_self()
        running = true
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while running {
            // A timer with a lead is near its deadline: look at the descriptors without sleeping.
            while let first = spinning.first, timerHandlers[first.id]?.wake != first.wake { spinning.removeFirst() }
            let timeout: Int32 = spinning.isEmpty ? -1 : 0
            let count = events.withUnsafeMutableBufferPointer {
                epoll_wait(epoll.rawValue, $0.baseAddress, Int32($0.count), timeout)
            }
            if count < 0 {
                let error = vigil_errno()
                if error == EINTR { continue }
                running = false
                throw SystemError("epoll_wait", errno: error)
            }
            for index in 0..<Int(count) {
                let fd = events[index].data.fd
                // The timerfd and the wake-up eventfd dispatch callbacks of their own, each timed there.
                if fd == timerFD.rawValue {
                    timerFDReadable()
                } else if fd == wakeFD.rawValue {
                    runPosted()
                } else if let entry = readHandlers[fd] {
                    timed(entry.label, .descriptor, entry.handler)
                }
                if !running { break }
            }
            if running, let first = spinning.first, first.deadline <= monotonicNanoseconds() { dispatchTimers() }
        }
    }

    public func stop() {
        preconditionInEventLoop()
        running = false
    }

    /// Runs a callback; in debug builds, keeps the longest.
    @inline(__always)
    private func timed(_ label: String, _ kind: CallbackKind, _ body: () -> Void) {
        #if DEBUG
            let start = monotonicNanoseconds()
            body()
            let elapsed = monotonicNanoseconds() - start
            if elapsed > longestCallback.nanoseconds { longestCallback = (elapsed, label, kind) }
        #else
            body()
        #endif
    }

    /// Timers due within this many nanoseconds of a wake-up run in it, a little early, instead of waking the
    /// thread again (0: each at its deadline). Many virtual routers' adverts then share wake-ups; a lone timer
    /// still fires at its deadline.
    public var timerSlack: Int64 = 0

    private func timerFDReadable() {
        var expirations: UInt64 = 0
        _ = read(timerFD.rawValue, &expirations, 8)
        armedWake = nil
        dispatchTimers()
    }

    /// Runs the timers due now: those whose wake-up is within the slack, and those with a lead whose deadline
    /// has come. One with a lead woken before its deadline waits in `spinning`.
    private func dispatchTimers() {
        var horizon = monotonicNanoseconds() + timerSlack
        dispatchingTimers = true
        while running {
            if let first = spinning.first, first.deadline <= monotonicNanoseconds() {
                spinning.removeFirst()
                guard timerHandlers[first.id]?.wake == first.wake, let entry = timerHandlers.removeValue(forKey: first.id)
                else { continue }
                timed(entry.label, .timer, entry.handler)
                continue
            }
            guard let (wake, id) = timers.peek() else { break }
            if wake > horizon {
                // Time passed while the batch ran: what fell due meanwhile runs now, not after another wake-up.
                horizon = monotonicNanoseconds() + timerSlack
                if wake > horizon { break }
            }
            timers.pop()
            guard let entry = timerHandlers[id], entry.wake == wake else { continue }
            if entry.wake < entry.deadline && entry.deadline > monotonicNanoseconds() {
                let place = spinning.firstIndex { $0.deadline > entry.deadline } ?? spinning.endIndex
                spinning.insert((entry.deadline, wake, id), at: place)
                if let rehearse { timed(entry.label, .timer) { rehearse(TimerID(value: id), entry.deadline) } }
                continue
            }
            timerHandlers[id] = nil
            timed(entry.label, .timer, entry.handler)
        }
        while !afterTimers.isEmpty && running {
            let batch = afterTimers
            afterTimers.removeAll()
            for work in batch { timed("after due timers", .timer, work) }
        }
        dispatchingTimers = false
        rearm()
    }

    /// Called when the loop wakes early for a timer with a lead, with the timer and its deadline: the moment to
    /// prepare what the timer will do, so that at the deadline only that runs. It must not act on anything.
    public var rehearse: ((TimerID, Int64) -> Void)?

    private var dispatchingTimers = false
    private var afterTimers: [Handler] = []

    /// Whether the loop is running the timers due now.
    public var isDispatchingTimers: Bool { dispatchingTimers }

    /// Runs `work` once every timer due now has run, before the loop waits again (at once when no timers are
    /// running): what a timer set in motion that must not hold up the timers due with it.
    public func afterDueTimers(_ work: @escaping Handler) {
        preconditionInEventLoop()
        if dispatchingTimers { afterTimers.append(work) } else { work() }
    }

    private func rearm() {
        // Drop cancelled entries from the top so the timerfd is armed for a live one.
        while let (wake, id) = timers.peek(), timerHandlers[id]?.wake != wake { timers.pop() }
        guard let (wake, _) = timers.peek() else { return }
        if let armed = armedWake, armed <= wake { return }
        var spec = itimerspec()
        let target = max(wake, 1)
        spec.it_value.tv_sec = Int(target / 1_000_000_000)
        spec.it_value.tv_nsec = Int(target % 1_000_000_000)
        timerfd_settime(timerFD.rawValue, Int32(TFD_TIMER_ABSTIME), &spec, nil)
        armedWake = wake
    }

    private func runPosted() {
        var counter: UInt64 = 0
        _ = read(wakeFD.rawValue, &counter, 8)
        let work = postedLock.withLock {
            let taken = posted
            posted.removeAll()
            return taken
        }
        for item in work { timed("posted work", .posted, item) }
    }
}

/// A value that belongs to one event loop's thread, carried through other threads (inside a `@Sendable` closure
/// handed to `post`) and touched again only on that loop: every access checks the thread, as NIO's `NIOLoopBound`.
public struct LoopBound<Value>: @unchecked Sendable {
    private let stored: Value
    public let loop: EventLoop

    public init(_ value: Value, loop: EventLoop) {
        loop.preconditionInEventLoop()
        stored = value
        self.loop = loop
    }

    public var value: Value {
        loop.preconditionInEventLoop()
        return stored
    }
}

/// A binary min-heap of (deadline, id).
struct TimerHeap {
    private var items: [(deadline: Int64, id: UInt64)] = []

    func peek() -> (Int64, UInt64)? { items.first.map { ($0.deadline, $0.id) } }

    mutating func push(deadline: Int64, id: UInt64) {
        items.append((deadline, id))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].deadline < items[parent].deadline else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var parent = 0
        while true {
            let left = parent * 2 + 1
            let right = left + 1
            var smallest = parent
            if left < items.count && items[left].deadline < items[smallest].deadline { smallest = left }
            if right < items.count && items[right].deadline < items[smallest].deadline { smallest = right }
            guard smallest != parent else { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

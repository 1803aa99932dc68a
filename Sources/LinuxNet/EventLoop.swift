import CLinux
import Glibc

/// A single-threaded event loop over epoll: file descriptors that became readable, timers on CLOCK_MONOTONIC with
/// nanosecond resolution (one timerfd armed at the earliest deadline), and work posted from other threads.
///
/// Everything registered runs on the loop's thread, in order, so the VRRP state machines need no locks. Handlers
/// must not block: anything slow goes to another thread and comes back with `post`.
public final class EventLoop: @unchecked Sendable {
    public typealias Handler = () -> Void
    public struct TimerID: Hashable, Sendable {
        fileprivate let value: UInt64
    }

    private let epoll: FileDescriptor
    private let timerFD: FileDescriptor
    private let wakeFD: FileDescriptor
    private var readHandlers: [Int32: Handler] = [:]
    private var timers = TimerHeap()
    private var timerHandlers: [UInt64: (deadline: Int64, handler: Handler)] = [:]
    private var nextTimerID: UInt64 = 1
    private var armedDeadline: Int64?
    private var running = false
    private let postedLock = Mutex()
    private var posted: [Handler] = []

    public init() throws(SystemError) {
        epoll = FileDescriptor(try system("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) })
        timerFD = FileDescriptor(
            try system("timerfd_create") {
                timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
            })
        wakeFD = FileDescriptor(try system("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) })
        try add(timerFD.rawValue) { [unowned self] in self.timerFDReadable() }
        try add(wakeFD.rawValue) { [unowned self] in self.runPosted() }
    }

    public static let readable = EPOLLIN.rawValue
    public static let writable = EPOLLOUT.rawValue

    /// Calls `handler` on the loop whenever `fd` is readable (level-triggered), or ready for `events`.
    public func add(_ fd: Int32, events: UInt32 = EventLoop.readable, _ handler: @escaping Handler) throws(SystemError) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        _ = try system("epoll_ctl(ADD)") { epoll_ctl(epoll.rawValue, EPOLL_CTL_ADD, fd, &event) }
        readHandlers[fd] = handler
    }

    /// Changes what a registered descriptor is watched for (readable, writable or both).
    public func change(_ fd: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        _ = epoll_ctl(epoll.rawValue, EPOLL_CTL_MOD, fd, &event)
    }

    public func remove(_ fd: Int32) {
        _ = epoll_ctl(epoll.rawValue, EPOLL_CTL_DEL, fd, nil)
        readHandlers[fd] = nil
    }

    /// The current time on the loop's clock.
    public var now: Int64 { monotonicNanoseconds() }

    /// Calls `handler` once at `deadline` (CLOCK_MONOTONIC nanoseconds), or at once if that has passed.
    @discardableResult
    public func schedule(at deadline: Int64, _ handler: @escaping Handler) -> TimerID {
        let id = nextTimerID
        nextTimerID += 1
        timerHandlers[id] = (deadline, handler)
        timers.push(deadline: deadline, id: id)
        // While due timers run, the timerfd is re-armed once, after them.
        if !dispatchingTimers { rearm() }
        return TimerID(value: id)
    }

    public func cancel(_ timer: TimerID) {
        // The heap entry stays; it is skipped when it surfaces.
        timerHandlers[timer.value] = nil
    }

    /// Runs `work` on the loop's thread, soon. Safe to call from any thread.
    public func post(_ work: @escaping Handler) {
        postedLock.withLock { posted.append(work) }
        var one: UInt64 = 1
        _ = write(wakeFD.rawValue, &one, 8)
    }

    /// Runs until `stop` is called.
    public func run() {
        running = true
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while running {
            let count = events.withUnsafeMutableBufferPointer {
                epoll_wait(epoll.rawValue, $0.baseAddress, Int32($0.count), -1)
            }
            if count < 0 { continue }  // EINTR
            for index in 0..<Int(count) {
                let fd = events[index].data.fd
                readHandlers[fd]?()
                if !running { break }
            }
        }
    }

    public func stop() { running = false }

    private func timerFDReadable() {
        var expirations: UInt64 = 0
        _ = read(timerFD.rawValue, &expirations, 8)
        armedDeadline = nil
        let now = monotonicNanoseconds()
        dispatchingTimers = true
        while let (deadline, id) = timers.peek(), deadline <= now {
            timers.pop()
            guard let entry = timerHandlers.removeValue(forKey: id), entry.deadline == deadline else { continue }
            entry.handler()
            if !running { break }
        }
        dispatchingTimers = false
        rearm()
    }

    private var dispatchingTimers = false

    private func rearm() {
        // Drop cancelled entries from the top so the timerfd is armed for a live one.
        while let (deadline, id) = timers.peek(), timerHandlers[id]?.deadline != deadline { timers.pop() }
        guard let (deadline, _) = timers.peek() else { return }
        if let armed = armedDeadline, armed <= deadline { return }
        var spec = itimerspec()
        let target = max(deadline, 1)
        spec.it_value.tv_sec = Int(target / 1_000_000_000)
        spec.it_value.tv_nsec = Int(target % 1_000_000_000)
        timerfd_settime(timerFD.rawValue, Int32(TFD_TIMER_ABSTIME), &spec, nil)
        armedDeadline = deadline
    }

    private func runPosted() {
        var counter: UInt64 = 0
        _ = read(wakeFD.rawValue, &counter, 8)
        let work = postedLock.withLock {
            let taken = posted
            posted.removeAll()
            return taken
        }
        for item in work { item() }
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

/// A plain pthread mutex, for the little state shared with other threads.
final class Mutex: @unchecked Sendable {
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

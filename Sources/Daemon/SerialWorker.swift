import Glibc
import LinuxNet

/// A thread that runs jobs one after another, in the order they were submitted: notifications must reach
/// scripts, FIFOs and mail in the order the transitions happened, and never on the VRRP loop's thread.
public final class SerialWorker: @unchecked Sendable {
    public typealias Job = @Sendable () -> Void

    /// Jobs beyond this many waiting are dropped and counted, so a stuck consumer cannot exhaust memory.
    public let capacity: Int
    private let lock = ConditionLock()
    private var jobs: [Job] = []
    private var busy = false
    private var closing = false
    private var finished = false
    private var droppedJobs = 0

    public init(capacity: Int = 10_000) {
        self.capacity = capacity
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self)
        pthread_create(
            &thread, nil,
            { argument in
                let worker = Unmanaged<SerialWorker>.fromOpaque(argument!).takeRetainedValue()
                worker.loop()
                return nil
            }, box.toOpaque())
        pthread_detach(thread)
    }

    public var dropped: Int { lock.withLock { droppedJobs } }

    /// Queues a job; returns at once. False when the queue was full (or the worker closed) and the job dropped.
    @discardableResult
    public func submit(_ job: @escaping Job) -> Bool {
        lock.withLock {
            guard jobs.count < capacity, !closing else {
                droppedJobs += 1
                return false
            }
            jobs.append(job)
            lock.broadcast()
            return true
        }
    }

    /// Waits until every queued job has run, or `timeout` has passed; returns whether the queue emptied.
    @discardableResult
    public func drain(timeout: Duration) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if lock.withLock({ jobs.isEmpty && !busy }) { return true }
            usleep(2_000)
        }
        return false
    }

    /// Takes no more jobs; the thread ends once the queued ones have run.
    public func close() {
        lock.withLock {
            closing = true
            lock.broadcast()
        }
    }

    /// Whether the thread has ended (after `close`).
    public var hasFinished: Bool { lock.withLock { finished } }

    private func loop() {
        while true {
            let job: Job? = lock.withLock {
                while jobs.isEmpty && !closing { lock.wait() }
                guard !jobs.isEmpty else {
                    finished = true
                    return nil
                }
                busy = true
                return jobs.removeFirst()
            }
            guard let job else { return }
            job()
            lock.withLock { busy = false }
        }
    }
}

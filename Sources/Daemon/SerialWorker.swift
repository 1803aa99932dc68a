import Glibc

/// A thread that runs jobs one after another, in the order they were submitted: notifications must reach
/// scripts, FIFOs and mail in the order the transitions happened, and never on the VRRP loop's thread.
public final class SerialWorker: @unchecked Sendable {
    public typealias Job = @Sendable () -> Void

    /// Jobs beyond this many waiting are dropped and counted, so a stuck consumer cannot exhaust memory.
    public let capacity: Int
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var jobs: [Job] = []
    private var busy = false
    public private(set) var dropped = 0
    private var thread = pthread_t()

    public init(capacity: Int = 10_000) {
        self.capacity = capacity
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
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

    /// Queues a job; returns at once. False when the queue was full and the job dropped.
    @discardableResult
    public func submit(_ job: @escaping Job) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard jobs.count < capacity else {
            dropped += 1
            return false
        }
        jobs.append(job)
        pthread_cond_broadcast(&condition)
        return true
    }

    /// Waits until every queued job has run, or `timeout` has passed; returns whether the queue emptied.
    @discardableResult
    public func drain(timeout: Duration) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            pthread_mutex_lock(&mutex)
            let idle = jobs.isEmpty && !busy
            pthread_mutex_unlock(&mutex)
            if idle { return true }
            usleep(2_000)
        }
        return false
    }

    private func loop() {
        while true {
            pthread_mutex_lock(&mutex)
            while jobs.isEmpty { pthread_cond_wait(&condition, &mutex) }
            let job = jobs.removeFirst()
            busy = true
            pthread_mutex_unlock(&mutex)
            job()
            pthread_mutex_lock(&mutex)
            busy = false
            pthread_mutex_unlock(&mutex)
        }
    }
}

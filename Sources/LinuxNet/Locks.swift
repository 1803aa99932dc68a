import Glibc

/// A pthread mutex with a condition variable: the one lock of Vigil's code, for the little state shared between
/// threads (posted work, queues of workers, the log writer). `withLock` for short critical sections; `wait` and
/// `broadcast` for a thread that sleeps until there is work.
public final class ConditionLock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()

    public init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    /// With the lock held: sleeps until `broadcast`, then holds the lock again. Only inside `withLock`.
    public func wait() { pthread_cond_wait(&condition, &mutex) }

    /// Wakes every thread in `wait`. Call with the lock held or not.
    public func broadcast() { pthread_cond_broadcast(&condition) }
}

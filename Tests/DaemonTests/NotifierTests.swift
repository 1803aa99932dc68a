import Glibc
import LinuxNet
import Logging
import Testing
import VigilConfig

@testable import Daemon

@Suite("Notifier and its threads")
struct NotifierTests {
    @Test("a replaced notifier finishes what it was given, then its two threads end (no leak per reload)")
    func closeEndsThreads() {
        let notifier = Notifier(global: GlobalDefinitions(), logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        #expect(!notifier.isClosed)
        notifier.close(timeout: .seconds(2))
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(2)
        while !notifier.isClosed && clock.now < deadline { usleep(1000) }
        #expect(notifier.isClosed)
    }

    @Test("a closed worker runs what was queued and takes nothing more")
    func workerClose() {
        let worker = SerialWorker(capacity: 8)
        let lock = ConditionLock()
        nonisolated(unsafe) var ran = 0
        for _ in 0..<3 { worker.submit { lock.withLock { ran += 1 } } }
        worker.close()
        #expect(!worker.submit {})
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(2)
        while !worker.hasFinished && clock.now < deadline { usleep(1000) }
        #expect(worker.hasFinished)
        #expect(lock.withLock { ran } == 3)
    }
}

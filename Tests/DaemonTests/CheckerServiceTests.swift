import Checkers
import Glibc
import HealthCheck
import LinuxNet
import Logging
import Testing
import VigilConfig

@testable import Daemon

/// A load balancer that remembers what it was asked, and on which thread.
final class FakeBackend: LoadBalancerBackend, @unchecked Sendable {
    let name = "fake"
    private let lock = ConditionLock()
    private var states: [LoadBalancerState] = []
    private var threads: [pthread_t] = []

    func apply(_ state: LoadBalancerState, changes: [LoadBalancerState.Change]) throws(LoadBalancerError) {
        lock.withLock {
            states.append(state)
            threads.append(pthread_self())
        }
    }

    func removeAll() { lock.withLock { states.append(LoadBalancerState()) } }

    private var configured: [LoadBalancerSettings] = []
    func configure(_ settings: LoadBalancerSettings, previous: LoadBalancerSettings?) throws(LoadBalancerError) {
        lock.withLock { configured.append(settings) }
    }
    var settings: [LoadBalancerSettings] { lock.withLock { configured } }

    var applied: [LoadBalancerState] { lock.withLock { states } }
    var applyThreads: [pthread_t] { lock.withLock { threads } }
}

/// Probes that answer at once (on the loop, as real ones do), from a table of addresses that are down.
final class FakeProbes: ProbeStarter {
    var down = Set<IPAddress>()
    var started = 0

    func start(
        _ request: CheckerPlanner.ProbeRequest, loop: EventLoop, completion: @escaping (CheckResult) -> Void
    ) -> Probe? {
        started += 1
        guard case .tcp(let target) = request else {
            completion(.failed("not a TCP check"))
            return nil
        }
        completion(down.contains(target.address) ? .failed("refused") : .ok())
        return nil
    }

    func setTLS(_ ssl: SSLSettings?) {}
    func setLauncher(_ launcher: ScriptLauncher) {}
}

@Suite("Checker executor over a fake machine")
struct CheckerServiceTests {
    @Test("checks reach the load balancer through its own thread, never the loop's; reload reads the file off the loop")
    func offTheLoop() throws {
        let directory = "/tmp/vigil-checker-test-\(getpid())"
        mkdir(directory, 0o700)
        let fast = "TCP_CHECK {\n connect_timeout 1\n warmup 0\n delay_loop 1\n retry 0\n }"
        let text = virtualServer(80, realServer(10, checker: fast) + realServer(11, checker: fast))
        let configuration = ConfigLoader.load(text: text, options: ConfigLoader.Options(configID: "t")).configuration
        let backend = FakeBackend()
        let probes = FakeProbes()
        probes.down = [IPAddress("198.51.100.11")!]
        let service = try CheckerService(
            configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            runtime: RuntimeDirectory(path: directory), options: CheckerService.Options(), backend: backend,
            probes: probes)
        let loaderThreads = ConditionLock()
        nonisolated(unsafe) var loadedOn: [pthread_t] = []
        service.loadConfiguration = {
            loaderThreads.withLock { loadedOn.append(pthread_self()) }
            return ConfigLoader.load(text: text, options: ConfigLoader.Options(configID: "t"))
        }
        service.perform(service.planner.start(now: service.now))
        service.loop.schedule(at: service.loop.now + 1_600_000_000) {
            service.perform(service.planner.reloadRequested())
        }
        service.loop.schedule(at: service.loop.now + 2_000_000_000) { service.loop.stop() }
        try service.loop.run()
        let loopThread = pthread_self()
        #expect(probes.started >= 2, "both real servers checked")
        let last = backend.applied.last?.services.values.first?.map(\.endpoint) ?? []
        #expect(last == ["198.51.100.10:80"], "the down one left the pool: \(backend.applied)")
        #expect(!backend.applyThreads.isEmpty && backend.applyThreads.allSatisfy { pthread_equal($0, loopThread) == 0 })
        #expect(loaderThreads.withLock { loadedOn.count == 1 && pthread_equal(loadedOn[0], loopThread) == 0 })
    }
}

import Glibc
import LinuxNet
import VigilConfig

/// Follows tracked processes through the kernel's process events, on a thread of its own (a busy machine forks
/// and execs thousands of times a second; none of that may reach the VRRP loop): /proc is read once, then each
/// fork, exec, name change and exit updates the set of matching processes, and the counts go to `report` only when
/// one changes. Events lost (ENOBUFS) mean /proc is read again.
final class ProcessWatch: @unchecked Sendable {
    private let events: ProcessEvents
    private let report: @Sendable ([String: Int], [String: VRRPPlanner.ProcessChange]) -> Void
    private let lock = ConditionLock()
    private var trackers: [TrackProcess]
    private var rescan = true
    private var closing = false
    /// Touched only on the watch's thread.
    private var matching: [Int32: Set<String>] = [:]
    private var reported: [String: Int]?
    /// What last changed each tracker's count since the last report.
    private var causes: [String: VRRPPlanner.ProcessChange] = [:]

    init(
        events: ProcessEvents, trackers: [TrackProcess],
        report: @escaping @Sendable ([String: Int], [String: VRRPPlanner.ProcessChange]) -> Void
    ) {
        self.events = events
        self.trackers = trackers
        self.report = report
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self)
        pthread_create(
            &thread, nil,
            { argument in
                let watch = Unmanaged<ProcessWatch>.fromOpaque(argument!).takeRetainedValue()
                watch.run()
                return nil
            }, box.toOpaque())
        pthread_detach(thread)
    }

    /// New trackers (a reload): /proc is read again for them.
    func update(_ trackers: [TrackProcess]) {
        lock.withLock {
            self.trackers = trackers
            rescan = true
        }
    }

    /// Ends the thread within half a second.
    func close() { lock.withLock { closing = true } }

    private func run() {
        while true {
            let (current, scan, done) = lock.withLock { () -> ([TrackProcess], Bool, Bool) in
                defer { rescan = false }
                return (trackers, rescan, closing)
            }
            if done { return }
            if scan { scanAll(current) }
            do {
                for event in try events.receive(timeout: 500) { apply(event, current) }
            } catch {
                // ENOBUFS: events were lost.
                lock.withLock { rescan = true }
            }
            publish(current)
        }
    }

    private func scanAll(_ trackers: [TrackProcess]) {
        matching.removeAll()
        for entry in ProcessTable.read().entries {
            let names = Self.names(matching: entry, trackers)
            if !names.isEmpty { matching[entry.pid] = names }
        }
        reported = nil
        causes.removeAll()
    }

    private func apply(_ event: ProcessEvents.Event, _ trackers: [TrackProcess]) {
        switch event {
        case .fork(let parent, let child):
            // A child starts as its parent, name and command line.
            if let names = matching[parent] {
                matching[child] = names
                for name in names { causes[name] = .fork }
            }
        case .exec(let pid), .comm(let pid):
            let names = ProcessTable.entry(pid).map { Self.names(matching: $0, trackers) } ?? []
            for name in names.symmetricDifference(matching[pid] ?? []) { causes[name] = .other }
            matching[pid] = names.isEmpty ? nil : names
        case .exit(let pid):
            for name in matching[pid] ?? [] { causes[name] = .exit }
            matching[pid] = nil
        }
    }

    private func publish(_ trackers: [TrackProcess]) {
        var counts = [String: Int]()
        for tracker in trackers { counts[tracker.name] = 0 }
        for names in matching.values { for name in names { counts[name, default: 0] += 1 } }
        guard counts != reported else { return }
        reported = counts
        report(counts, causes)
        causes.removeAll()
    }

    static func names(matching entry: ProcessTable.Entry, _ trackers: [TrackProcess]) -> Set<String> {
        Set(trackers.filter { ProcessTable.matches($0, name: entry.name, arguments: entry.arguments) }.map(\.name))
    }
}

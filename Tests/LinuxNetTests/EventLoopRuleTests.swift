import Foundation
import LinuxNet
import Testing

/// The loop's rules are enforced, not hoped for: loop-bound state touched from another thread stops the process,
/// as NIO's `NIOLoopBound` does (an exit test: the failing access runs in a child process).
@Suite("Event loop rules")
struct EventLoopRuleTests {
    @Test("work put off by a timer runs after every timer due with it, before the loop waits again")
    func afterDueTimers() throws {
        let loop = try EventLoop()
        var order = [String]()
        let due = loop.now
        loop.schedule(at: due) {
            order.append("first")
            #expect(loop.isDispatchingTimers)
            loop.afterDueTimers { order.append("put off by first") }
        }
        loop.schedule(at: due) { order.append("second") }
        loop.schedule(at: due + 20_000_000) { loop.stop() }
        try loop.run()
        #expect(order == ["first", "second", "put off by first"])
        #expect(!loop.isDispatchingTimers)
        loop.afterDueTimers { order.append("outside a timer: at once") }
        #expect(order.last == "outside a timer: at once")
    }

    @Test("a timer with a lead runs at its deadline, never before (not even within the slack), after what arrived meanwhile")
    func leadTimer() throws {
        let loop = try EventLoop()
        loop.timerSlack = 50_000_000
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        var order = [String]()
        let start = loop.now
        let deadline = start + 100_000_000
        var ranAt: Int64 = 0
        try loop.add(ends[0]) {
            var byte: UInt8 = 0
            _ = read(ends[0], &byte, 1)
            order.append("arrived")
        }
        // Wakes the loop well within the slack of the lead timer's wake-up: it would run early without the rule.
        loop.schedule(at: start + 5_000_000) { order.append("plain") }
        let lead = loop.schedule(at: deadline, lead: 90_000_000) {
            ranAt = loop.now
            order.append("lead")
        }
        var rehearsals = [(EventLoop.TimerID, Int64)]()
        loop.rehearse = { rehearsals.append(($0, $1)) }
        // Written while the loop polls for the lead timer: handled before it.
        loop.schedule(at: start + 20_000_000) {
            var byte: UInt8 = 1
            _ = write(ends[1], &byte, 1)
        }
        loop.schedule(at: deadline + 20_000_000) { loop.stop() }
        try loop.run()
        #expect(order == ["plain", "arrived", "lead"])
        #expect(ranAt >= deadline)
        // Told once, when the loop woke early for it.
        #expect(rehearsals.count == 1)
        #expect(rehearsals.first?.0 == lead && rehearsals.first?.1 == deadline)
    }

    @Test("a timer with a lead cancelled while the loop polls for it never runs")
    func leadTimerCancelled() throws {
        let loop = try EventLoop()
        let start = loop.now
        var ran = false
        let timer = loop.schedule(at: start + 20_000_000, lead: 15_000_000) { ran = true }
        loop.schedule(at: start + 10_000_000) { loop.cancel(timer) }
        loop.schedule(at: start + 40_000_000) { loop.stop() }
        try loop.run()
        #expect(!ran)
    }

    @Test("LoopBound's value on its loop's thread is fine")
    func sameThread() throws {
        let loop = try EventLoop()
        let bound = LoopBound(42, loop: loop)
        #expect(bound.value == 42)
    }

    @Test("LoopBound's value read on another thread traps")
    func otherThread() async {
        await #expect(processExitsWith: .failure) {
            let loop = try! EventLoop()
            let bound = LoopBound(42, loop: loop)
            let thread = Thread { _ = bound.value }
            thread.start()
            sleep(5)
        }
    }

    @Test("an EventLoop method called off its thread traps")
    func scheduleOffThread() async {
        await #expect(processExitsWith: .failure) {
            let loop = try! EventLoop()
            let thread = Thread { _ = loop.schedule(at: 0) {} }
            thread.start()
            sleep(5)
        }
    }
}

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

import Foundation
import LinuxNet
import Testing

/// The loop's rules are enforced, not hoped for: loop-bound state touched from another thread stops the process,
/// as NIO's `NIOLoopBound` does (an exit test: the failing access runs in a child process).
@Suite("Event loop rules")
struct EventLoopRuleTests {
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

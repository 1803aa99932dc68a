import Foundation
import Testing
import VigilTestSupport

@Suite("The README's demo", .serialized, .enabled(if: TestLab.shouldRun))
struct DemoTests {
    @Test("`vigil lab` fails over, preempts, and leaves nothing behind")
    func demo() throws {
        let result = try Command.run([try Package.vigilBinary(), "lab"], check: false)
        #expect(result.status == 0, "\(result)")
        #expect(result.output.contains("n2 is MASTER and holds 198.51.100.100: takeover"))
        #expect(result.output.contains("n1 is MASTER again"))
        #expect(result.output.contains("(n2): n2's gratuitous ARPs moved it"))
        #expect(result.output.contains("cleaned up"))
        let namespaces = try Command.run(["ip", "netns", "list"]).output
        #expect(
            !namespaces.contains("-demo")
                && !namespaces.split(separator: "\n").contains { $0.hasPrefix("vg") && $0.contains("-n1") })
    }
}

import Foundation
import Testing
import VigilTestSupport

@Suite("The README's demo", .serialized, .enabled(if: TestLab.shouldRun))
struct DemoTests {
    /// A PATH with only what a fresh Debian has that the demo uses (iproute2's `ip`, coreutils' `cat`): no ping.
    func minimalPath(_ directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for tool in ["ip", "cat"] {
            let found = try Command.run(["sh", "-c", "command -v \(tool)"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
            try? FileManager.default.removeItem(atPath: "\(directory)/\(tool)")
            try FileManager.default.createSymbolicLink(atPath: "\(directory)/\(tool)", withDestinationPath: found)
        }
        return directory
    }

    @Test("`vigil lab` fails over, preempts, shows who answers ARP for the VIP, and leaves nothing behind")
    func demo() throws {
        let path = try minimalPath(NSTemporaryDirectory() + "vigil-demo-path-\(getpid())")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Command.run(
            ["env", "PATH=\(path)", try Package.vigilBinary(), "lab"], check: false)
        #expect(result.status == 0, "\(result)")
        let lines = result.output.split(separator: "\n").map(String.init)
        let answers = lines.filter { $0.contains("the client asks") }
        #expect(answers.count == 3, "\(result.output)")
        #expect(answers.first?.hasSuffix("(n1) answers") == true, "before the takeover: n1\n\(result.output)")
        #expect(answers.dropFirst().first?.hasSuffix("(n2) answers now") == true, "after it: n2\n\(result.output)")
        #expect(answers.last?.hasSuffix("(n1) answers") == true, "after n1 took it back\n\(result.output)")
        #expect(result.output.contains("n2 is MASTER and holds 198.51.100.100: takeover"))
        #expect(result.output.contains("n1 is MASTER again"))
        #expect(result.output.contains("cleaned up"))
        let namespaces = try Command.run(["ip", "netns", "list"]).output
        #expect(
            !namespaces.contains("-demo")
                && !namespaces.split(separator: "\n").contains { $0.hasPrefix("vg") && $0.contains("-n1") })
    }
}

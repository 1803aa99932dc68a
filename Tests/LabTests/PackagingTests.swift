import Foundation
import Testing
import VigilTestSupport

/// The Debian package as a packager and an administrator meet it: lintian, then a Debian system with systemd as
/// PID 1 (the VM lab) where a live pair is switched from keepalived to Vigil node by node and back.
@Suite("The Debian package on systemd", .serialized, .enabled(if: TestLab.shouldRun))
struct PackagingTests {
    static let fixtures = "\(Package.root)/Tests/LabTests/Fixtures/systemd"

    static func temporaryDirectory() throws -> String {
        try Command.run(["mktemp", "-d", "/tmp/vigil-deb.XXXXXX"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Builds the release binary once and two packages of it, an older and a newer version.
    static func packages(in directory: String) throws -> (old: String, new: String) {
        try Command.run([
            "swift", "build", "-c", "release", "--product", "vigil", "--static-swift-stdlib",
            "--scratch-path", "\(Package.root)/.build-static", "--package-path", Package.root,
        ])
        let binary = "\(Package.root)/.build-static/release/vigil"
        var built = [String]()
        for (name, build) in [("old", "1"), ("new", "2")] {
            let printed = try Command.run([binary, "--version"])
            let word = (printed.output + " " + printed.error).split(whereSeparator: { $0 == " " || $0 == "\n" })
                .first { $0.hasPrefix("v") && $0.dropFirst().first?.isNumber == true }
            let version = try #require(word.map { String($0.dropFirst()) }, "\(printed)")
            let output = try Command.run(
                ["env", "VIGIL_DEB_BINARY=\(binary)", "VIGIL_DEB_VERSION=\(version)+build\(build)",
                 "\(Package.root)/packaging/build-deb", "\(directory)/\(name)"]).output
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let target = "\(directory)/vigil_\(name).deb"
            try FileManager.default.moveItem(atPath: output, toPath: target)
            built.append(target)
        }
        return (built[0], built[1])
    }

    @Test("lintian passes the package with no error and no warning; build-deb fails when the build fails")
    func lintian() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (_, new) = try Self.packages(in: directory)
        let result = try Command.run(["lintian", "--tag-display-limit", "0", new], check: false)
        let findings = (result.output + result.error).split(separator: "\n").filter {
            $0.hasPrefix("E:") || $0.hasPrefix("W:")
        }
        #expect(findings.isEmpty, "\(result.output)\(result.error)")
        let control = try Command.run(["dpkg-deb", "-f", new, "Depends", "Conflicts", "Recommends"]).output
        #expect(control.contains("libc6 (>= "), "versioned dependencies from dpkg-shlibdeps: \(control)")
        #expect(control.contains("Conflicts: keepalived") && control.contains("libssl3"), "\(control)")
        let broken = try Command.run(
            ["env", "VIGIL_DEB_BINARY=/nonexistent/vigil", "\(Package.root)/packaging/build-deb", "\(directory)/broken"],
            check: false)
        #expect(broken.status != 0 && !FileManager.default.fileExists(atPath: "\(directory)/broken"))
    }

    @Test("on systemd: install over keepalived, enabled and started; the watchdog fed; reload keeps the VIP; the keepalived.service alias; upgrade keeps it running; stop sends priority 0; back to keepalived and purge leave nothing; the pair holds the VIP throughout")
    func lifecycle() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (old, new) = try Self.packages(in: directory)
        // keepalived's own package, for the way back (the VM has no network).
        try Command.run(["sh", "-c", "cd \(directory) && apt-get download -q keepalived >/dev/null 2>&1 || apt-get download keepalived"])
        let keepalived = try FileManager.default.contentsOfDirectory(atPath: directory)
            .first { $0.hasPrefix("keepalived_") && $0.hasSuffix(".deb") }.map { "\(directory)/\($0)" }
        let deb = try #require(keepalived, "apt-get download keepalived")
        let result = try VMLab.run(
            files: ["\(Self.fixtures)/package-lifecycle.sh", old, new, deb], timeout: 1200, systemd: true, vigil: false,
            ["sh", "/tmp/in/package-lifecycle.sh"])
        let context = "\(result.output)\n\(result.error)"
        var values = [String: String]()
        for line in result.output.split(separator: "\n") where line.hasPrefix("RESULT ") {
            let words = line.dropFirst(7).split(separator: " ", maxSplits: 1)
            values[String(words[0])] = words.count > 1 ? String(words[1]) : ""
        }
        #expect(result.status == 0, "\(context)")
        #expect(values["done"] != nil, "\(context)")
        print(result.output.split(separator: "\n").filter { $0.hasPrefix("RESULT ") }.joined(separator: "\n"))
        #expect(values["installed"]?.hasSuffix("+build1") == true && values["upgraded"]?.hasSuffix("+build2") == true)
        // A handover through priority 0 waits only B's Skew_Time (0.61 s at priority 100); the sampler's own period
        // (an `ip` run in an emulated VM) adds to it. Without priority 0 it would be Master_Down_Interval, 3.6 s.
        let gap = Double(values["longest-without-holder"]?.split(separator: " ").first ?? "") ?? .infinity
        #expect(gap < 1.6, "\(context)")
        let both = Double(values["longest-two-holders"]?.split(separator: " ").first ?? "") ?? .infinity
        #expect(both < 1.6, "\(context)")
        // Through reload and upgrade A stays master on the wire: adverts at most an interval apart (1 s, with the
        // emulated machine's slack well under Master_Down_Interval's 3.6 s) and none from B.
        for window in ["reload", "upgrade"] {
            let words = values["wire-\(window)"]?.split(separator: " ") ?? []
            let gap = words.count == 4 ? Double(words[1]) ?? .infinity : .infinity
            #expect(gap < 2.5 && words.last == "0", "\(window): \(values["wire-\(window)"] ?? "-")\n\(context)")
        }
    }
}

import Foundation
import Testing
import VigilConfig
import VigilTestSupport

/// `vigil -t` against `keepalived -t` on the same files, each in a throw-away namespace holding the interfaces the
/// file names: the exit codes agree (or the difference is documented in docs/COMPATIBILITY.md), and every line
/// keepalived complains about, Vigil complains about too.
@Suite("Config test: Vigil agrees with keepalived", .serialized, .enabled(if: TestLab.shouldRun))
struct ConfigDifferentialTests {
    static let samplesDirectory = "/usr/share/doc/keepalived/samples"

    static func configs() -> [String] {
        let fileManager = FileManager.default
        var paths = [String]()
        let samples = (try? fileManager.contentsOfDirectory(atPath: samplesDirectory)) ?? []
        paths += samples.filter { $0.hasPrefix("keepalived.conf") && !$0.hasSuffix(".gz") }.sorted().map {
            "\(samplesDirectory)/\($0)"
        }
        for directory in ["\(Package.root)/Tests/LabTests/Fixtures/configs", "\(Package.root)/examples/seed"] {
            let files = (try? fileManager.contentsOfDirectory(atPath: directory)) ?? []
            paths += files.filter { $0.hasSuffix(".conf") }.sorted().map { "\(directory)/\($0)" }
        }
        return paths
    }

    @Test("keepalived's samples are all there (the test command installs keepalived)")
    func samplesPresent() throws {
        let samples = Self.configs().filter { $0.hasPrefix(Self.samplesDirectory) }
        #expect(samples.count >= 25, "expected keepalived 2.2.7's 25 samples in \(Self.samplesDirectory)")
    }

    @Test("same exit code and the same lines", arguments: configs())
    func agrees(path: String) throws {
        let lab = try TestLab.open("config-diff")
        defer { lab.close() }
        let namespace = try lab.namespace("t")
        let loaded = ConfigLoader.load(path: path, options: ConfigLoader.Options(configID: "lab"))
        for (index, interface) in Self.interfaces(of: loaded.configuration).enumerated() {
            try lab.veth(interface, in: namespace, peer: "p\(index)", in: namespace)
        }
        let keepalived = try lab.run(
            namespace,
            [
                "keepalived", "-t", "-i", "lab", "-f", path, "-p", "\(lab.directory)/k.pid", "-r",
                "\(lab.directory)/v.pid", "-c", "\(lab.directory)/c.pid",
            ], check: false)
        let vigil = try lab.run(namespace, [try Package.vigilBinary(), "-t", "-i", "lab", "-f", path], check: false)
        #expect([0, 4, 5, 6].contains(vigil.status), "vigil -t must exit with a config-test code:\n\(vigil.error)")

        let name = (path as NSString).lastPathComponent
        let kernelHasIPVS = FileManager.default.fileExists(atPath: "/proc/net/ip_vs")
        let documented = try Self.documentedDifferences()[name].flatMap { $0.withoutIPVSOnly && kernelHasIPVS ? nil : $0 }
        if let documented {
            #expect(
                keepalived.status == documented.keepalived && vigil.status == documented.vigil,
                "docs/COMPATIBILITY.md says \(name) gives keepalived \(documented.keepalived), vigil \(documented.vigil); got \(keepalived.status) and \(vigil.status)"
            )
        } else {
            #expect(
                vigil.status == keepalived.status,
                "keepalived -t exits \(keepalived.status), vigil -t \(vigil.status) for \(name); fix Vigil or document the difference in docs/COMPATIBILITY.md.\nkeepalived:\n\(keepalived.error)\nvigil:\n\(vigil.error)"
            )
        }

        let vigilLines = Set(Self.vigilLines(vigil.error, file: path))
        for missing in Self.uncoveredKeepalivedLines(keepalived.error, file: path, vigilLines: vigilLines) {
            Issue.record(
                "keepalived reports line \(missing.line) of \(name) (\(missing.message)) but Vigil says nothing there.\nvigil:\n\(vigil.error)"
            )
        }
    }

    /// Every interface a configuration names, so the namespace can hold them all.
    static func interfaces(of configuration: Configuration) -> [String] {
        var names = [String]()
        func add(_ name: String?) {
            guard let name, !names.contains(name), name.utf8.count <= 15 else { return }
            names.append(name)
        }
        for instance in configuration.instances {
            add(instance.interface)
            instance.trackInterfaces.forEach { add($0.name) }
            instance.virtualAddresses.forEach { add($0.device) }
            instance.excludedVirtualAddresses.forEach { add($0.device) }
            instance.virtualRoutes.forEach { add($0.device) }
        }
        for group in configuration.syncGroups { group.trackInterfaces.forEach { add($0.name) } }
        for address in configuration.staticAddresses { add(address.device ?? configuration.global.defaultInterface) }
        configuration.staticRoutes.forEach { add($0.device) }
        if names.isEmpty { add("eth0") }
        return names
    }

    /// The lines Vigil's diagnostics name in `file`.
    static func vigilLines(_ output: String, file: String) -> [Int] {
        output.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(file + ":") else { return nil }
            return Int(line.dropFirst(file.count + 1).prefix { $0.isNumber })
        }
    }

    /// keepalived's `(FILE: Line N) message` lines that Vigil does not cover. keepalived does not skip the block of
    /// an unknown keyword: it reports `Unexpected '{'`, then every line inside and the closing brace as unknown.
    /// Vigil reports that block once, at its first line, so those follow-on lines count as covered.
    static func uncoveredKeepalivedLines(
        _ output: String, file: String, vigilLines: Set<Int>
    ) -> [(line: Int, message: String)] {
        var result = [(Int, String)]()
        var insideUnknownBlock = false
        for raw in output.split(separator: "\n") {
            guard raw.hasPrefix("(\(file): Line ") else { continue }
            let rest = raw.dropFirst("(\(file): Line ".count)
            guard let line = Int(rest.prefix { $0.isNumber }) else { continue }
            let message = String(rest.drop { $0 != ")" }.dropFirst().drop { $0 == " " })
            if message.hasPrefix("Unexpected '{'") && vigilLines.contains(line) {
                insideUnknownBlock = true
                continue
            }
            if insideUnknownBlock && message.hasPrefix("Unknown keyword") {
                if message == "Unknown keyword '}'" { insideUnknownBlock = false }
                continue
            }
            insideUnknownBlock = false
            if !vigilLines.contains(line) { result.append((line, message)) }
        }
        // keepalived prints each message once per parsing pass; report each line once.
        var seen = Set<Int>()
        return result.filter { seen.insert($0.0).inserted }
    }

    struct Difference: Equatable {
        var keepalived: Int32
        var vigil: Int32
        /// The difference comes from the nftables backend's limits, so it holds only without IPVS.
        var withoutIPVSOnly = false
    }

    /// The table under "## Config test differences" in docs/COMPATIBILITY.md: `| file | keepalived | vigil | why |`.
    static func documentedDifferences() throws -> [String: Difference] {
        let text = try String(contentsOfFile: "\(Package.root)/docs/COMPATIBILITY.md", encoding: .utf8)
        guard let start = text.range(of: "## Config test differences") else { return [:] }
        var table = [String: Difference]()
        for line in text[start.upperBound...].split(separator: "\n") {
            if line.hasPrefix("## ") { break }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4, let keepalived = Int32(cells[1]), let vigil = Int32(cells[2]) else { continue }
            table[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = Difference(
                keepalived: keepalived, vigil: vigil, withoutIPVSOnly: cells[3].hasPrefix("Without IPVS"))
        }
        return table
    }
}

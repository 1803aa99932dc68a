import Foundation
@_exported import NetworkLab

/// What lab tests need around `NetworkLab.Lab`: whether they can and must run, and where the package is.
public enum TestLab {
    /// The tools every lab test may use; scripts/test installs them.
    public static let tools = ["ip", "nft", "tshark", "keepalived", "vtysh", "bird"]

    /// Whether lab tests must run (CI sets VIGIL_REQUIRE_LAB=1): then a missing requirement fails them.
    public static let required = ProcessInfo.processInfo.environment["VIGIL_REQUIRE_LAB"] == "1"

    /// Why lab tests cannot run here, or nil.
    public static let unavailableReason: String? = Lab.unavailableReason(tools: tools)

    /// For `.enabled(if:)`: run when possible, and also when required (so the test fails saying why).
    public static var shouldRun: Bool { unavailableReason == nil || required }

    /// Opens a lab, or throws why it cannot (which fails the test).
    public static func open(_ name: String) throws -> Lab {
        if let reason = unavailableReason { throw CommandError(arguments: ["lab"], reason: reason) }
        return try Lab(name)
    }
}

/// The package's root directory and its built binaries.
public enum Package {
    public static let root: String = {
        var path = #filePath
        for _ in 0..<3 { path = (path as NSString).deletingLastPathComponent }
        return path
    }()

    /// The `vigil` binary `swift build` made (scripts/test builds it before the tests run).
    public static func vigilBinary() throws -> String { try binary("vigil") }

    /// A product of this package that `swift build` made.
    public static func binary(_ name: String) throws -> String {
        for configuration in ["debug", "release"] {
            let path = "\(root)/.build/\(configuration)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw CommandError(arguments: [name], reason: "is not built; run `swift build` first (scripts/test does)")
    }
}

/// The VM lab (scripts/vm-run): a fresh Debian machine with the cloud kernel (IPVS) for each run.
public enum VMLab {
    /// Runs `command` in a fresh VM with `files` in /tmp/in; the command's output and exit status. With `systemd`
    /// the machine boots with systemd as PID 1; `vigil: false` leaves /usr/sbin/vigil out (the .deb installs it).
    public static func run(
        files: [String], timeout: Int = 900, systemd: Bool = false, vigil: Bool = true, _ command: [String]
    ) throws -> CommandResult {
        var arguments = ["\(Package.root)/scripts/vm-run", "--timeout", String(timeout)]
        if systemd { arguments.append("--systemd") }
        if !vigil { arguments.append("--no-vigil") }
        for file in files { arguments += ["--file", file] }
        arguments += ["--"] + command
        return try Command.run(arguments, check: false)
    }
}

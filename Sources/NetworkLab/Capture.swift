import Glibc

/// A tshark capture running in a namespace, read back field by field.
public final class Capture: @unchecked Sendable {
    public let file: String
    private let process: BackgroundProcess

    /// Starts capturing on `interface` in `namespace` with a capture filter; waits until tshark is ready.
    public init(lab: Lab, namespace: String, interface: String, filter: String, name: String) throws(CommandError) {
        file = lab.path(name + ".pcapng")
        process = try lab.start(
            namespace, ["tshark", "-q", "-n", "-i", interface, "-f", filter, "-w", file], log: name + "-tshark")
        // tshark says "Capturing on ..." once it listens.
        let ready = Lab.wait(timeout: .seconds(10)) { self.process.log.contains("Capturing on") }
        if ready == nil {
            throw CommandError(arguments: ["tshark"], reason: "did not start: \(process.log)")
        }
        // tshark prints it as its capture child starts; on a loaded machine the first packets can still be a moment
        // away from being written.
        usleep(300_000)
    }

    /// Stops capturing (and lets tshark flush the file).
    public func stop() {
        process.stop(signal: SIGINT, timeout: .seconds(5))
    }

    /// The chosen fields of every packet matching `filter` (a display filter), one array per packet.
    public func fields(_ fields: [String], filter: String? = nil) throws(CommandError) -> [[String]] {
        var arguments = ["tshark", "-n", "-r", file, "-T", "fields", "-E", "separator=|"]
        if let filter { arguments += ["-Y", filter] }
        for field in fields { arguments += ["-e", field] }
        let output = try Command.run(arguments).output
        return output.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        }
    }
}

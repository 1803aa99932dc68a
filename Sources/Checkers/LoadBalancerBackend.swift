import CLinux
import Glibc
import HealthCheck
import LinuxNet

/// The kernel load balancer the checker keeps pointed at healthy real servers.
public protocol LoadBalancerBackend: AnyObject {
    var name: String { get }
    /// Makes the kernel hold exactly `state` (only what this backend created is touched).
    func apply(_ state: LoadBalancerState, changes: [LoadBalancerState.Change]) throws(LoadBalancerError)
    /// Removes everything this backend created.
    func removeAll()
}

public struct LoadBalancerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// nftables: every change replaces Vigil's tables in one `nft -f` transaction, so the kernel never holds half a
/// change; nothing outside the tables `ip vigil` and `ip6 vigil` is touched.
public final class NFTablesBackend: LoadBalancerBackend {
    public let name = "nftables"
    let scriptPath: String
    let outputPath: String
    let program: String

    /// `directory`: where the transaction script is written (the private runtime directory).
    public init(directory: String) {
        scriptPath = directory + "/nftables.nft"
        outputPath = directory + "/nftables.out"
        program = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"].first { access($0, X_OK) == 0 } ?? "/usr/sbin/nft"
    }

    public func apply(_ state: LoadBalancerState, changes: [LoadBalancerState.Change]) throws(LoadBalancerError) {
        try run(NFTablesRuleset.render(state))
    }

    public func removeAll() {
        try? run(NFTablesRuleset.removal)
    }

    func run(_ script: String) throws(LoadBalancerError) {
        guard writeFile(scriptPath, script), let output = openOutput() else {
            throw LoadBalancerError("cannot write \(scriptPath): \(errorText(vigil_errno()))")
        }
        defer { close(output) }
        let process: ChildProcess
        do {
            process = try ChildProcess([program, "-f", scriptPath], output: output)
        } catch {
            throw LoadBalancerError("cannot run \(program): \(error)")
        }
        guard let ending = process.wait(upTo: .seconds(10)) else {
            process.killGroup()
            process.reapInBackground()
            throw LoadBalancerError("\(program) did not finish in 10 s")
        }
        guard ending.succeeded else {
            let message = readFile(outputPath).prefix(2000)
            throw LoadBalancerError("\(program) -f \(scriptPath) \(ending): \(message)")
        }
    }

    private func openOutput() -> Int32? {
        let fd = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        return fd >= 0 ? fd : nil
    }
}

func writeFile(_ path: String, _ text: String) -> Bool {
    let temporary = path + ".new"
    unlink(temporary)
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return false }
    var copy = text
    let written = copy.withUTF8 { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    guard written == text.utf8.count else { return false }
    return rename(temporary, path) == 0
}

func readFile(_ path: String) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 8192)
    let count = read(fd, &buffer, buffer.count)
    return String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
}

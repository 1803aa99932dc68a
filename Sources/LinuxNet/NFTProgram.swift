import CLinux
import Glibc

/// `nft -f`: one script, one kernel transaction (all of it applies, or none). Used by the checker's load balancer
/// and the VRRP process's accept-mode firewall; each writes its script and the program's output to files of its
/// own in the private runtime directory.
public struct NFTProgram: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let scriptPath: String
    let outputPath: String
    public let program: String

    /// `directory`: the private runtime directory; `name`: what the files are called there.
    public init(directory: String, name: String) {
        scriptPath = directory + "/\(name).nft"
        outputPath = directory + "/\(name).out"
        program = Self.locate() ?? "/usr/sbin/nft"
    }

    /// Where nft is installed, if it is.
    public static func locate() -> String? {
        ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"].first { access($0, X_OK) == 0 }
    }

    /// Runs `script` as one transaction; a refusal comes with nft's own explanation.
    public func run(_ script: String) throws(Failure) {
        guard (try? SmallFile.replace(scriptPath, with: Array(script.utf8))) != nil else {
            throw Failure(description: "cannot write \(scriptPath): \(String(cString: strerror(vigil_errno())))")
        }
        let output = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw Failure(description: "cannot write \(outputPath): \(String(cString: strerror(vigil_errno())))") }
        defer { close(output) }
        let process: ChildProcess
        do {
            process = try ChildProcess([program, "-f", scriptPath], output: output)
        } catch {
            throw Failure(description: "cannot run \(program): \(error)")
        }
        guard let ending = process.wait(upTo: .seconds(10)) else {
            process.killGroup()
            process.reapInBackground()
            throw Failure(description: "\(program) did not finish in 10 s")
        }
        guard ending.succeeded else {
            let message = (SmallFile.text(outputPath, limit: 8192, followSymlinks: false) ?? "").prefix(2000)
            throw Failure(description: "\(program) -f \(scriptPath) \(ending): \(message)")
        }
    }
}

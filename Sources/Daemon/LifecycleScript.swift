import Glibc
import LinuxNet
import Logging
import VigilConfig

/// `startup_script` and `shutdown_script`: run by the supervisor, waited for, and stopped as keepalived stops them
/// when they overrun their timeout (SIGTERM to the script's process group, SIGKILL 2 s later, given up 2 s after
/// that). Vigil goes on whatever the script's outcome.
public struct LifecycleScript: Sendable {
    let command: ScriptCommand
    let timeout: Duration
    let what: String

    public init(_ command: ScriptCommand, timeout: Duration, what: String) {
        self.command = command
        self.timeout = timeout
        self.what = what
    }

    /// Runs the script to its end (or its stop); says how it went.
    func run(launcher: ScriptLauncher, logger: Logger) {
        let process: ChildProcess
        do {
            process = try launcher.start(command)
        } catch {
            logger.error("\(what) script \(command.program) not run: \(error)")
            return
        }
        logger.info("Running \(what) script \(command.program)")
        var ending = process.wait(upTo: timeout)
        if ending == nil {
            logger.error("\(what) script \(command.program) timed out after \(timeout); stopping it")
            process.killGroup(SIGTERM)
            ending = process.wait(upTo: .seconds(2))
            if ending == nil {
                process.killGroup(SIGKILL)
                ending = process.wait(upTo: .seconds(2))
            }
            guard let ending else {
                logger.error("\(what) script \(command.program) failed to terminate after kill; going on without it")
                process.reapInBackground()
                return
            }
            logger.info("\(what) script \(command.program) stopped: \(ending)")
            return
        }
        if let ending, !ending.succeeded {
            logger.warning("\(what) script \(command.program) failed, \(ending)")
        } else {
            logger.info("\(what) script \(command.program) finished")
        }
    }
}

import CLinux
import Glibc

/// The result of a finished command.
public struct CommandResult: Sendable, CustomStringConvertible {
    public var status: Int32
    public var output: String
    public var error: String

    public var succeeded: Bool { status == 0 }
    public var description: String { "exit \(status)\nstdout: \(output)\nstderr: \(error)" }
}

public struct CommandError: Error, CustomStringConvertible {
    public var arguments: [String]
    public var reason: String
    public var result: CommandResult?

    public init(arguments: [String], reason: String, result: CommandResult? = nil) {
        self.arguments = arguments
        self.reason = reason
        self.result = result
    }

    public var description: String {
        "`\(arguments.joined(separator: " "))` \(reason)" + (result.map { "\n\($0)" } ?? "")
    }
}

/// Runs programs with posix_spawn: to completion with their output, or in the background with a log file.
public enum Command {
    /// Runs `arguments` and waits; throws when it cannot start or, with `check`, exits non-zero.
    @discardableResult
    public static func run(
        _ arguments: [String], check: Bool = true, input: String? = nil
    ) throws(CommandError)
        -> CommandResult
    {
        let program = try resolve(arguments[0])
        var outputPipe: [Int32] = [0, 0]
        var errorPipe: [Int32] = [0, 0]
        var inputPipe: [Int32] = [0, 0]
        guard vigil_pipe_cloexec(&outputPipe) == 0, vigil_pipe_cloexec(&errorPipe) == 0,
            vigil_pipe_cloexec(&inputPipe) == 0
        else {
            throw CommandError(arguments: arguments, reason: "cannot create pipes")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        var pid: pid_t = 0
        let status = spawn(program, arguments, &actions, &pid)
        close(inputPipe[0])
        close(outputPipe[1])
        close(errorPipe[1])
        guard status == 0 else {
            close(inputPipe[1])
            close(outputPipe[0])
            close(errorPipe[0])
            throw CommandError(arguments: arguments, reason: "cannot start: \(String(cString: strerror(status)))")
        }
        if let input {
            var text = input
            text.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(inputPipe[1], bytes.baseAddress! + offset, bytes.count - offset)
                    if written <= 0 { break }
                    offset += written
                }
            }
        }
        close(inputPipe[1])
        // Read both pipes together so that a chatty command cannot fill one and block.
        var output = [UInt8]()
        var error = [UInt8]()
        var open = [outputPipe[0], errorPipe[0]]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 || errno == EINTR else { break }
            for entry in fds where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    if entry.fd == outputPipe[0] { output += buffer[0..<count] } else { error += buffer[0..<count] }
                } else if count == 0 || errno != EINTR {
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        let code = wait(pid)
        let result = CommandResult(
            status: code, output: String(decoding: output, as: UTF8.self), error: String(decoding: error, as: UTF8.self)
        )
        if check && !result.succeeded {
            throw CommandError(arguments: arguments, reason: "failed", result: result)
        }
        return result
    }

    static func spawn(
        _ program: String, _ arguments: [String], _ actions: inout posix_spawn_file_actions_t, _ pid: inout pid_t
    ) -> Int32 {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        vigil_sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        return posix_spawn(&pid, program, &actions, &attributes, argv, environ)
    }

    /// Waits for `pid` and returns its exit status (128 + signal when killed).
    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if vigil_wifexited(status) != 0 { return vigil_wexitstatus(status) }
        return 128 + vigil_wtermsig(status)
    }

    /// The full path of a program, searched in PATH and the sbin directories root needs.
    public static func resolve(_ program: String) throws(CommandError) -> String {
        if program.contains("/") { return program }
        let path = (getenv("PATH").map { String(cString: $0) } ?? "") + ":/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw CommandError(arguments: [program], reason: "is not installed (not found in PATH)")
    }

    public static func exists(_ program: String) -> Bool { (try? resolve(program)) != nil }
}

/// A program running in the background, its output in a log file; killed when stopped or released.
public final class BackgroundProcess: @unchecked Sendable {
    public let arguments: [String]
    public let logPath: String
    public let pid: pid_t
    private var exitStatus: Int32?

    public init(_ arguments: [String], logPath: String) throws(CommandError) {
        self.arguments = arguments
        self.logPath = logPath
        let program = try Command.resolve(arguments[0])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let status = Command.spawn(program, arguments, &actions, &pid)
        guard status == 0 else {
            throw CommandError(arguments: arguments, reason: "cannot start: \(String(cString: strerror(status)))")
        }
        self.pid = pid
    }

    /// Whether it still runs (and collects its status if it ended).
    public var isRunning: Bool {
        guard exitStatus == nil else { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            exitStatus = vigil_wifexited(status) != 0 ? vigil_wexitstatus(status) : 128 + vigil_wtermsig(status)
            return false
        }
        return result == 0
    }

    public var log: String {
        let fd = open(logPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Sends `signal`, waits up to `timeout` for the end, then SIGKILL. Returns the exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(5)) -> Int32? {
        if isRunning { kill(pid, signal) }
        return waitForExit(timeout: timeout)
            ?? {
                kill(pid, SIGKILL)
                return waitForExit(timeout: .seconds(2))
            }()
    }

    /// The exit status once it ends, or nil after `timeout`.
    public func waitForExit(timeout: Duration) -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while isRunning && clock.now < deadline { usleep(5_000) }
        return exitStatus
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            _ = waitForExit(timeout: .seconds(2))
        }
    }
}

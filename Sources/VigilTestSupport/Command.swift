import Foundation

/// The result of a finished command.
public struct CommandResult: Sendable, CustomStringConvertible {
    public var status: Int32
    public var output: String
    public var error: String

    public var succeeded: Bool { status == 0 }
    public var description: String { "exit \(status)\nstdout: \(output)\nstderr: \(error)" }
}

public enum CommandError: Error, CustomStringConvertible {
    case failed([String], CommandResult)
    case cannotStart([String], String)

    public var description: String {
        switch self {
        case .failed(let arguments, let result):
            "`\(arguments.joined(separator: " "))` failed: \(result)"
        case .cannotStart(let arguments, let reason):
            "cannot start `\(arguments.joined(separator: " "))`: \(reason)"
        }
    }
}

/// Runs programs for tests: to completion with their output, or in the background.
public enum Command {
    /// Runs `arguments` and waits; throws when it cannot start or, with `check`, exits non-zero.
    @discardableResult
    public static func run(_ arguments: [String], check: Bool = true, input: String? = nil) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try resolve(arguments[0]))
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        let inputPipe = Pipe()
        if input != nil {
            process.standardInput = inputPipe
        } else {
            process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        }
        do {
            try process.run()
        } catch {
            throw CommandError.cannotStart(arguments, "\(error)")
        }
        if let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inputPipe.fileHandleForWriting.close()
        }
        // Read both pipes to the end before waiting, so a chatty command cannot fill a pipe and block.
        let group = DispatchGroup()
        nonisolated(unsafe) var outputData = Data()
        nonisolated(unsafe) var errorData = Data()
        group.enter()
        DispatchQueue.global().async {
            outputData = output.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        errorData = error.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        let result = CommandResult(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            error: String(decoding: errorData, as: UTF8.self))
        if check && !result.succeeded { throw CommandError.failed(arguments, result) }
        return result
    }

    /// The full path of a program, searched in PATH (and the sbin directories, which root needs).
    public static func resolve(_ program: String) throws -> String {
        if program.contains("/") { return program }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw CommandError.cannotStart([program], "not found in PATH")
    }

    public static func exists(_ program: String) -> Bool { (try? resolve(program)) != nil }
}

/// A program running in the background: its output goes to a file, and it is killed when stopped.
public final class BackgroundProcess: @unchecked Sendable {
    public let arguments: [String]
    public let logPath: String
    private let process: Process

    public init(_ arguments: [String], logPath: String, environment: [String: String]? = nil) throws {
        self.arguments = arguments
        self.logPath = logPath
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Command.resolve(arguments[0]))
        process.arguments = Array(arguments.dropFirst())
        if let environment { process.environment = environment }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits up to `timeout` for the process to end; SIGKILL after that.
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(5)) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    public func waitForExit(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    deinit { stop(signal: SIGKILL, timeout: .seconds(1)) }
}

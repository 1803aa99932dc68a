import Glibc
import Logging
import Testing
import VigilConfig

@testable import Daemon
@testable import LinuxNet

@Suite("init_file")
struct TrackFileInitializerTests {
    @Test("a missing file gets the value; an existing one only with overwrite, and only a regular file")
    func initialize() throws {
        let directory = "/tmp/vigil-initfile-\(getpid())"
        mkdir(directory, 0o755)
        defer { for name in ["missing", "kept", "replaced"] { unlink("\(directory)/\(name)") }; rmdir("\(directory)/adirectory"); rmdir(directory) }
        func file(_ name: String, value: Int, overwrite: Bool) -> TrackFile {
            var file = TrackFile(name: name, location: SourceLocation(file: "k", line: 1))
            file.path = "\(directory)/\(name)"
            file.initialValue = value
            file.overwrite = overwrite
            return file
        }
        try SmallFile.replace("\(directory)/kept", with: Array("3\n".utf8))
        try SmallFile.replace("\(directory)/replaced", with: Array("3\n".utf8))
        mkdir("\(directory)/adirectory", 0o755)
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        TrackFileInitializer.apply(
            [
                file("missing", value: 7, overwrite: false), file("kept", value: 7, overwrite: false),
                file("replaced", value: -5, overwrite: true), file("adirectory", value: 1, overwrite: true),
            ], logger: logger)
        #expect(SmallFile.text("\(directory)/missing") == "7\n")
        #expect(SmallFile.text("\(directory)/kept") == "3\n")
        #expect(SmallFile.text("\(directory)/replaced") == "-5\n")
        #expect(SmallFile.text("\(directory)/adirectory") == nil, "a directory is left alone")
        #expect(SmallFile.trackedValue("\(directory)/replaced") == -5)
    }

    @Test("values as keepalived's strtol(…, 0) reads them")
    func values() throws {
        let path = "/tmp/vigil-value-\(getpid())"
        defer { unlink(path) }
        for (text, value) in [("  42\n", 42), ("0x1f", 31), ("010", 8), ("-3abc", -3), ("", 0), ("abc", 0)] {
            try SmallFile.replace(path, with: Array(text.utf8))
            #expect(SmallFile.trackedValue(path) == value, "\(text)")
        }
        unlink(path)
        #expect(SmallFile.trackedValue(path) == nil)
    }
}

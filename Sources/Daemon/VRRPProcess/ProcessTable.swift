import Glibc
import LinuxNet
import VigilConfig

/// The processes running now, as `vrrp_track_process` matches them: by name (`comm`), or by their command line.
struct ProcessTable {
    struct Entry {
        var pid: Int32
        var name: String
        var arguments: [String]
    }

    var entries: [Entry] = []

    /// Every process but zombies.
    static func read() -> ProcessTable {
        var table = ProcessTable()
        for name in SmallFile.directoryEntries("/proc") {
            guard let pid = Int32(name), let entry = entry(pid) else { continue }
            table.entries.append(entry)
        }
        return table
    }

    /// One process's name and command line; nil when it is gone or a zombie.
    static func entry(_ pid: Int32) -> Entry? {
        guard let stat = SmallFile.text("/proc/\(pid)/stat", limit: 1024, followSymlinks: false),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        guard state != "Z" else { return nil }
        let comm = readSmall("/proc/\(pid)/comm").split(separator: "\n").first.map(String.init) ?? ""
        let cmdline = readSmall("/proc/\(pid)/cmdline").split(separator: "\0", omittingEmptySubsequences: false)
            .map(String.init)
        return Entry(pid: pid, name: comm, arguments: cmdline.last == "" ? Array(cmdline.dropLast()) : cmdline)
    }

    static func readSmall(_ path: String) -> String { SmallFile.text(path, followSymlinks: false) ?? "" }

    func count(matching tracked: TrackProcess) -> Int {
        entries.filter { Self.matches(tracked, name: $0.name, arguments: $0.arguments) }.count
    }

    /// keepalived 2.2.7's rule: the process's name (`comm`, at most 15 characters), or with `full_command` (set by
    /// parameters and `param_match` too) its program as started, equals `process`; then, with a parameter match,
    /// its parameters: `exact` the same ones (none when none are written), `partial` the written ones first, each
    /// whole, `initial` the same but the last written one may be the start of the process's.
    static func matches(_ tracked: TrackProcess, name: String, arguments: [String]) -> Bool {
        guard let process = tracked.process else { return false }
        guard (tracked.fullCommand ? arguments.first ?? "" : name) == process else { return false }
        let actual = Array(arguments.dropFirst())
        let written = tracked.parameters
        switch tracked.parameterMatch {
        case .none:
            return true
        case .exact:
            return actual == written
        case .partial:
            return actual.starts(with: written)
        case .initial:
            guard let last = written.last else { return true }
            guard actual.count >= written.count, actual.starts(with: written.dropLast()) else { return false }
            return actual[written.count - 1].hasPrefix(last)
        }
    }
}

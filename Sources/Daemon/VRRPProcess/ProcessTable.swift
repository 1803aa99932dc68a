import Glibc
import LinuxNet
import VigilConfig

/// The processes running now, as `vrrp_track_process` matches them: by name (`comm`, or the program's base
/// name) and, with parameters, by their command line.
struct ProcessTable {
    struct Entry {
        var name: String
        var arguments: [String]
    }

    var entries: [Entry] = []

    static func read() -> ProcessTable {
        var table = ProcessTable()
        guard let directory = opendir("/proc") else { return table }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let first = name.utf8.first, first >= 0x30 && first <= 0x39 else { continue }
            let comm = readSmall("/proc/\(name)/comm").split(separator: "\n").first.map(String.init) ?? ""
            let cmdline = readSmall("/proc/\(name)/cmdline").split(separator: "\0", omittingEmptySubsequences: false)
                .map(String.init)
            table.entries.append(Entry(name: comm, arguments: cmdline.last == "" ? Array(cmdline.dropLast()) : cmdline))
        }
        return table
    }

    static func readSmall(_ path: String) -> String { SmallFile.text(path, followSymlinks: false) ?? "" }

    func count(matching tracked: TrackProcess) -> Int {
        guard let process = tracked.process else { return 0 }
        return entries.filter { entry in
            let program = entry.arguments.first ?? ""
            let base = program.split(separator: "/").last.map(String.init) ?? program
            let nameMatches =
                tracked.fullCommand || process.contains("/")
                ? program == process : (entry.name == String(process.prefix(15)) || base == process)
            guard nameMatches else { return false }
            guard !tracked.parameters.isEmpty else { return true }
            let parameters = Array(entry.arguments.dropFirst())
            switch tracked.parameterMatch {
            case .exact: return parameters == tracked.parameters
            case .initial: return parameters.starts(with: tracked.parameters)
            case .partial:
                return parameters.joined(separator: " ").contains(tracked.parameters.joined(separator: " "))
            }
        }.count
    }
}

import CLinux
import Glibc

/// Gives back the program text and the heap pages that start-up (or a reload) touched and the steady state does
/// not use.
///
/// Reading keepalived.conf runs a lot of code once; the kernel also maps up to 64 KiB around every page fault
/// ("fault-around"). Both leave megabytes of executable pages mapped (and counted in RSS) that the event loop
/// never touches again. Dropping them from this process costs nothing: they stay in the page cache, and a page
/// needed later comes back with a minor fault. `MADV_RANDOM` first, so that such a fault maps that page alone.
///
/// Only unmodified executable mappings are touched (`r-xp`, no anonymous pages): a page written after loading
/// (relocations) must never be dropped, or its contents would be lost.
public enum StartupPages {
    /// Returns how many bytes were mapped in the mappings released.
    @discardableResult
    public static func release() -> Int {
        var released = 0
        for mapping in executableMappings() {
            guard let start = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
            let length = Int(mapping.end - mapping.start)
            _ = madvise(start, length, MADV_RANDOM)
            if madvise(start, length, MADV_DONTNEED) == 0 { released += mapping.resident }
        }
        // The heap, too: reading the file allocated and freed far more than the running daemon keeps (lines,
        // tokens, the parser's tree, diagnostics), and malloc keeps freed pages mapped unless asked to return
        // them. Freed pages between live allocations go back as well, not only the top of the heap.
        _ = malloc_trim(0)
        return released
    }

    struct Mapping {
        var start: UInt
        var end: UInt
        var resident = 0
        var anonymous = 0
    }

    /// File-backed `r-xp` mappings with no anonymous pages, from /proc/self/smaps.
    static func executableMappings() -> [Mapping] {
        guard let text = SmallFile.text("/proc/self/smaps", limit: 64 << 20) else { return [] }
        var result = [Mapping]()
        var current: Mapping?
        func finish() {
            if let mapping = current, mapping.anonymous == 0 { result.append(mapping) }
            current = nil
        }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.contains("-"), !first.hasSuffix(":") {
                finish()
                // "start-end perms offset dev inode path"
                guard fields.count >= 6, fields[1] == "r-xp", fields[5].hasPrefix("/") else { continue }
                let bounds = first.split(separator: "-")
                guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16)
                else { continue }
                current = Mapping(start: start, end: end)
            } else if current != nil, fields.count >= 2, let kilobytes = Int(fields[1]) {
                if first == "Rss:" { current?.resident = kilobytes * 1024 }
                if first == "Anonymous:" { current?.anonymous = kilobytes }
            }
        }
        finish()
        return result
    }
}

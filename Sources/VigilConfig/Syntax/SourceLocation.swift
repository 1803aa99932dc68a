import Synchronization

/// A position in a configuration file: the file as it was named, a 1-based line and a 1-based column.
///
/// The file name is interned: a location holds a small number for it, so the millions of tokens of a large
/// configuration copy and free their locations without touching reference counts.
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    let fileID: UInt32
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int = 1) {
        self.init(fileID: SourceFiles.id(of: file), line: line, column: column)
    }

    init(fileID: UInt32, line: Int, column: Int) {
        self.fileID = fileID
        self.line = line
        self.column = column
    }

    public var file: String { SourceFiles.name(of: fileID) }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        if lhs.fileID != rhs.fileID { return lhs.file < rhs.file }
        return (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

/// The file names locations refer to, each with a number for as long as the process lives.
enum SourceFiles {
    private struct Table {
        var names: [String] = []
        var ids: [String: UInt32] = [:]
    }

    private static let table = Mutex(Table())

    static func id(of name: String) -> UInt32 {
        table.withLock { table in
            if let id = table.ids[name] { return id }
            let id = UInt32(table.names.count)
            table.names.append(name)
            table.ids[name] = id
            return id
        }
    }

    static func name(of id: UInt32) -> String {
        table.withLock { $0.names[Int(id)] }
    }
}

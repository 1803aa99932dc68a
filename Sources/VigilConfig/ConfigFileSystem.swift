#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The file access the configuration reader needs: reading files and expanding include patterns. Injected so that
/// everything else in this target stays free of I/O; `LocalFileSystem` is the real one.
public protocol ConfigFileSystem: Sendable {
    /// The bytes of a regular file.
    func contents(of path: String) throws(ConfigFileError) -> [UInt8]
    /// The paths matching a glob pattern with brace expansion, wildcard matches sorted and brace alternatives in
    /// written order, directories marked with a trailing `/`. No match is an empty array.
    func glob(_ pattern: String) -> [String]
    /// The path with symbolic links and `..` resolved, or nil when it does not exist.
    func canonicalPath(_ path: String) -> String?
    /// The working directory the main file's relative path starts from.
    func currentDirectory() -> String
}

public enum ConfigFileError: Error, Sendable, Equatable {
    case notFound
    case isDirectory
    case notRegularFile
    case permissionDenied
    case tooLarge(Int)
    case other(String)

    public var explanation: String {
        switch self {
        case .notFound: "it does not exist"
        case .isDirectory: "it is a directory"
        case .notRegularFile: "it is not a regular file"
        case .permissionDenied: "permission denied"
        case .tooLarge(let size): "it is \(size) bytes, more than a configuration file can sensibly be"
        case .other(let text): text
        }
    }
}

/// Reads the real file system.
public struct LocalFileSystem: ConfigFileSystem {
    /// A configuration larger than this is refused rather than read into memory.
    public static let maximumFileSize = 256 << 20

    public init() {}

    public func contents(of path: String) throws(ConfigFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            switch errno {
            case ENOENT, ENOTDIR: throw .notFound
            case EACCES, EPERM: throw .permissionDenied
            default: throw .other(String(cString: strerror(errno)))
            }
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .other(String(cString: strerror(errno))) }
        if info.st_mode & S_IFMT == S_IFDIR { throw .isDirectory }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile }
        guard Int(info.st_size) <= Self.maximumFileSize else { throw .tooLarge(Int(info.st_size)) }
        var result = [UInt8]()
        result.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .other(String(cString: strerror(errno)))
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
            if result.count > Self.maximumFileSize { throw .tooLarge(result.count) }
        }
        return result
    }

    public func glob(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        let flags = GLOB_MARK | GLOB_BRACE
        guard Glibc.glob(pattern, flags, nil, &matches) == 0 else { return [] }
        var paths = [String]()
        for index in 0..<Int(matches.gl_pathc) {
            if let path = matches.gl_pathv[index] { paths.append(String(cString: path)) }
        }
        return paths
    }

    public func canonicalPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    public func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

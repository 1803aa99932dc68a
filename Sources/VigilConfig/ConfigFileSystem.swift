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
    /// A regular file opened to be read in pieces: refusals (missing, a directory, too large) come here, before any
    /// byte. By default the whole file in one piece.
    func pieces(of path: String) throws(ConfigFileError) -> ConfigFilePieces
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

extension ConfigFileSystem {
    public func pieces(of path: String) throws(ConfigFileError) -> ConfigFilePieces {
        ConfigFilePieces(bytes: try contents(of: path))
    }
}

/// A configuration file's bytes, a piece at a time: a large file is never held whole (93,000 lines are 1.9 MB).
public final class ConfigFilePieces {
    private var descriptor: Int32
    private var buffer: [UInt8]
    private var total = 0
    /// Why the file ended early, if it did.
    public private(set) var failure: ConfigFileError?

    /// The whole file, already read.
    public init(bytes: [UInt8]) {
        descriptor = -1
        buffer = bytes
    }

    /// An open file, read in pieces of `size` bytes; the descriptor is closed at the end.
    init(descriptor: Int32, size: Int = 65536) {
        self.descriptor = descriptor
        buffer = [UInt8](repeating: 0, count: size)
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// The next piece, or nil at the end of the file (or at a failure, which `failure` then says).
    public func next() -> ArraySlice<UInt8>? {
        if descriptor < 0 {
            defer { buffer = [] }
            return buffer.isEmpty ? nil : buffer[...]
        }
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { failure = .other(String(cString: strerror(errno))) }
            total += max(count, 0)
            if total > LocalFileSystem.maximumFileSize { failure = .tooLarge(total) }
            guard count > 0, failure == nil else {
                close(descriptor)
                descriptor = -1
                buffer = []
                return nil
            }
            return buffer[0..<count]
        }
    }
}

/// Reads the real file system.
public struct LocalFileSystem: ConfigFileSystem {
    /// A configuration larger than this is refused rather than read into memory.
    public static let maximumFileSize = 256 << 20

    public init() {}

    public func contents(of path: String) throws(ConfigFileError) -> [UInt8] {
        let pieces = try pieces(of: path)
        var result = [UInt8]()
        while let piece = pieces.next() { result.append(contentsOf: piece) }
        if let failure = pieces.failure { throw failure }
        return result
    }

    public func pieces(of path: String) throws(ConfigFileError) -> ConfigFilePieces {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            switch errno {
            case ENOENT, ENOTDIR: throw .notFound
            case EACCES, EPERM: throw .permissionDenied
            default: throw .other(String(cString: strerror(errno)))
            }
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = ConfigFileError.other(String(cString: strerror(errno)))
            close(fd)
            throw error
        }
        let refusal: ConfigFileError? =
            if info.st_mode & S_IFMT == S_IFDIR { .isDirectory }
            else if info.st_mode & S_IFMT != S_IFREG { .notRegularFile }
            else if Int(info.st_size) > Self.maximumFileSize { .tooLarge(Int(info.st_size)) }
            else { nil }
        if let refusal {
            close(fd)
            throw refusal
        }
        return ConfigFilePieces(descriptor: fd)
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

import Glibc
import LinuxNet
import Logging
import VigilConfig

/// `init_file [VALUE] [overwrite]` of `track_file`: at start the file is given VALUE (default 0) when it does not
/// exist, or, with `overwrite`, when it is a regular file, as keepalived does: written to a new file beside it
/// (mode 0666 less the umask) and renamed over it, so that a reader never sees half a number.
public enum TrackFileInitializer {
    public static func apply(_ files: [TrackFile], logger: Logger) {
        for file in files {
            guard let value = file.initialValue, let path = file.path else { continue }
            var status = stat()
            if lstat(path, &status) == 0 {
                guard file.overwrite else { continue }
                guard status.st_mode & S_IFMT == S_IFREG else {
                    logger.error("Cannot initialise track file \(path) - it is not a regular file")
                    continue
                }
            }
            let temporary = path + ".vigil-\(getpid())"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
            guard fd >= 0 else {
                logger.error("Cannot initialise track file \(path): \(String(cString: strerror(errno)))")
                continue
            }
            let written = SmallFile.writeAll(fd, Array("\(value)\n".utf8))
            close(fd)
            guard written, rename(temporary, path) == 0 else {
                logger.error("Cannot initialise track file \(path): \(String(cString: strerror(errno)))")
                unlink(temporary)
                continue
            }
        }
    }
}

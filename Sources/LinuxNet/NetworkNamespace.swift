import CLinux
import Glibc

/// `net_namespace NAME` / `-s NAME`: the calling thread moves into the network namespace `ip netns add NAME`
/// made (/run/netns/NAME), as keepalived does before it starts its processes; they inherit it.
public enum NetworkNamespace {
    public static func enter(named name: String, directory: String = "/run/netns") throws(SystemError) {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw SystemError("network namespace name \(name)", errno: EINVAL)
        }
        let path = directory + "/" + name
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open \(path)", errno: vigil_errno()) }
        defer { close(fd) }
        guard setns(fd, vigil_clone_newnet()) == 0 else { throw SystemError("setns \(path)", errno: vigil_errno()) }
    }
}

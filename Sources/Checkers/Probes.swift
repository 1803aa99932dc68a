import CLinux
import Glibc
import HealthCheck
import LinuxNet
import VigilConfig

/// What one check found.
public struct CheckResult: Error, Sendable, Equatable {
    public var success: Bool
    public var detail: String
    /// A dynamic MISC_CHECK's weight for the real server (exit status - 2).
    public var weight: Int?
    /// A FILE_CHECK's change to the real server's weight.
    public var adjustment: Int?
    /// HTTP: the status code, and the MD5 of the body once it was read to the end (`vigil genhash`).
    public var status: Int?
    public var digest: String?

    public static func ok(_ detail: String = "ok") -> CheckResult { CheckResult(success: true, detail: detail) }
    public static func failed(_ detail: String) -> CheckResult { CheckResult(success: false, detail: detail) }
}

/// Where and how to check: the resolved address and port, the deadline, and the bits of the configuration a
/// checker needs.
public struct CheckTarget: Sendable, Equatable {
    public var address: IPAddress
    public var port: UInt16
    public var bindAddress: IPAddress?
    public var bindInterface: String?
    /// `bind_port`: the probe's source port (0: an ephemeral one).
    public var bindPort: UInt16
    /// `fwmark`: the firewall mark (SO_MARK) on the probe's packets.
    public var mark: UInt32?
    public var timeout: Duration
    public var virtualhost: String?

    public init(
        address: IPAddress, port: UInt16, bindAddress: IPAddress? = nil, bindPort: UInt16 = 0,
        bindInterface: String? = nil, mark: UInt32? = nil, timeout: Duration, virtualhost: String? = nil
    ) {
        self.address = address
        self.port = port
        self.bindAddress = bindAddress
        self.bindPort = bindPort
        self.bindInterface = bindInterface
        self.mark = mark
        self.timeout = timeout
        self.virtualhost = virtualhost
    }

    public var endpoint: String { address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }
}

func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

/// Opens a non-blocking socket for `target`, bound as configured.
func openSocket(_ target: CheckTarget, type: Int32, proto: Int32 = 0) -> Result<Int32, CheckResult> {
    let family = target.address.family == .ipv4 ? AF_INET : AF_INET6
    let fd = socket(family, type | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), proto)
    guard fd >= 0 else { return .failure(.failed("cannot open a socket: \(errorText(vigil_errno()))")) }
    if let interface = target.bindInterface {
        var name = Array(interface.utf8CString)
        if setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, &name, socklen_t(name.count)) != 0 {
            close(fd)
            return .failure(.failed("cannot bind to interface \(interface): \(errorText(vigil_errno()))"))
        }
    }
    if var mark = target.mark {
        if setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, socklen_t(MemoryLayout<UInt32>.size)) != 0 {
            close(fd)
            return .failure(.failed("cannot set firewall mark \(mark): \(errorText(vigil_errno()))"))
        }
    }
    // Binding to a port: the address given, else any address of the target's family.
    if target.bindAddress != nil || target.bindPort != 0 {
        let bind = target.bindAddress ?? (target.address.family == .ipv4 ? IPAddress("0.0.0.0")! : IPAddress("::")!)
        if target.bindPort != 0 {
            // A fixed source port is used again at every check: the last connection's state must not stop it.
            var on: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        let address = InternetSocketAddress(bind, port: target.bindPort)
        if address.withPointer({ Glibc.bind(fd, $0, $1) }) != 0 {
            close(fd)
            let port = target.bindPort == 0 ? "" : " port \(target.bindPort)"
            return .failure(.failed("cannot bind to \(bind)\(port): \(errorText(vigil_errno()))"))
        }
    }
    return .success(fd)
}

/// `virtual_server IP PORT | fwmark N | group NAME { ... }`: a service the kernel load balancer offers, and the
/// real servers behind it. Timing and other inherited settings are already cascaded into each real server and
/// checker.
public struct VirtualServer: Hashable, Sendable {
    public enum Address: Hashable, Sendable, CustomStringConvertible {
        case socket(IPAddress, port: UInt16)
        case firewallMark(UInt32)
        case group(String)

        public var description: String {
            switch self {
            case .socket(let address, let port):
                address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
            case .firewallMark(let mark): "FWM \(mark)"
            case .group(let name): "group \(name)"
            }
        }
    }

    public enum ForwardingMethod: String, Hashable, Sendable {
        case nat = "NAT", directRouting = "DR", tunnel = "TUN"
    }

    /// `lvs_method TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`.
    public struct Tunnel: Hashable, Sendable {
        public enum Kind: UInt8, Hashable, Sendable { case ipip = 0, gue = 1, gre = 2 }
        public enum Checksum: UInt16, Hashable, Sendable { case none = 0, checksum = 1, remote = 2 }
        public var kind = Kind.ipip
        public var port: UInt16 = 0
        public var checksum = Checksum.none

        public init() {}
    }

    /// IPVS scheduler flags (IP_VS_SVC_F_SCHED1..3, _HASHED): `flag-1`..`flag-3`, `hashed`, and the names `sh-port`,
    /// `sh-fallback`, `mh-port`, `mh-fallback` give them.
    public struct SchedulerFlags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let hashed = SchedulerFlags(rawValue: 0x2)
        public static let flag1 = SchedulerFlags(rawValue: 0x8)
        public static let flag2 = SchedulerFlags(rawValue: 0x10)
        public static let flag3 = SchedulerFlags(rawValue: 0x20)
    }

    public enum TransportProtocol: String, Hashable, Sendable {
        case tcp = "TCP", udp = "UDP", sctp = "SCTP"
    }

    public static let schedulers: Set<String> = [
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "mh", "dh", "sed", "nq", "fo", "ovf", "twos",
    ]

    public var address: Address
    public var location: SourceLocation
    public var family: IPAddress.Family?
    public var scheduler = "wlc"
    public var forwardingMethod: ForwardingMethod = .nat
    public var transportProtocol: TransportProtocol = .tcp
    public var persistenceTimeout: Duration?
    public var persistenceGranularity: String?
    /// `persistence_granularity` as IPVS takes it: an IPv4 netmask (host order), or an IPv6 prefix length.
    public var persistenceNetmask: UInt32?
    public var persistenceEngine: String?
    public var schedulerFlags: SchedulerFlags = []
    /// The tunnel of `lvs_method TUN ...`, which the real servers inherit.
    public var tunnel: Tunnel?
    public var delayLoop: Duration = .seconds(60)
    public var weight = 1
    public var quorum = 1
    public var hysteresis = 0
    public var alpha = false
    public var omega = false
    public var quorumUp: ScriptCommand?
    public var quorumDown: ScriptCommand?
    public var inhibitOnFailure = false
    public var sorryServer: SorryServer?
    public var virtualhost: String?
    public var smtpAlert: Bool?
    public var operationMode = false
    public var haSuspend = false
    public var realServers: [RealServer] = []
    public var otherSettings: [Setting] = []
    /// Where each keyword of the block was written, for diagnostics about it.
    public var keywordLocations: [String: SourceLocation] = [:]

    public init(address: Address, location: SourceLocation) {
        self.address = address
        self.location = location
    }
}

public struct SorryServer: Hashable, Sendable {
    public var address: IPAddress
    public var port: UInt16?
    public var inhibit = false
    public var forwardingMethod: VirtualServer.ForwardingMethod?
    public var tunnel: VirtualServer.Tunnel?
}

/// `real_server IP [PORT] { ... }`.
public struct RealServer: Hashable, Sendable {
    public var address: IPAddress
    public var port: UInt16?
    public var location: SourceLocation
    public var weight = 1
    public var forwardingMethod: VirtualServer.ForwardingMethod = .nat
    public var tunnel: VirtualServer.Tunnel?
    public var inhibitOnFailure = false
    @OutOfLine public var notifyUp: ScriptCommand? = nil
    @OutOfLine public var notifyDown: ScriptCommand? = nil
    public var alpha = false
    public var upperThreshold: Int?
    public var lowerThreshold: Int?
    /// Real servers send mail by default; `smtp_alert off` silences them.
    public var smtpAlert = true
    public var virtualhost: String?
    public var checkers: [Checker] = []
    public var otherSettings: [Setting] = []
    /// Where the keywords of `locatedKeywords` were written, for the diagnostics about them.
    public var keywordLocations: [String: SourceLocation] = [:]
    /// The keywords a diagnostic may point at. Only these are located: a dictionary for every real server's
    /// `weight` and checker cost 2.3 MB at 10,000 real servers.
    public static let locatedKeywords: Set<String> = ["lvs_method", "uthreshold", "lthreshold"]

    public init(address: IPAddress, port: UInt16?, location: SourceLocation) {
        self.address = address
        self.port = port
        self.location = location
    }
}

/// One health check of a real server, with its timing resolved from checker, real server, virtual server and
/// keepalived's defaults.
public struct Checker: Hashable, Sendable {
    public var kind: Kind
    public var location: SourceLocation
    public var timing = Timing()
    public var connectIP: IPAddress?
    public var connectPort: UInt16?
    public var bindTo: IPAddress?
    public var bindPort: UInt16?
    public var bindInterface: String?
    public var firewallMark: UInt32?
    public var alpha = false
    public var logAllFailures = false
    public var otherSettings: [Setting] = []

    public init(kind: Kind, location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    public struct Timing: Hashable, Sendable {
        public var delayLoop: Duration = .seconds(60)
        public var connectTimeout: Duration = .seconds(5)
        public var retry = 1
        public var delayBeforeRetry: Duration = .seconds(1)
        public var warmup: Duration?
    }

    public enum Kind: Hashable, Sendable {
        case tcp
        case http(HTTPCheck)
        case https(HTTPCheck)
        case udp(UDPCheck)
        case ping
        case dns(DNSCheck)
        case smtp(SMTPCheck)
        /// Boxed: a MISC_CHECK's script is 120 bytes, and inline it would make every checker of every kind that
        /// much larger (0.7 MB at 10,000 real servers).
        indirect case misc(MiscCheck)
        case file(FileCheck)
        case bfd(name: String)

        public var keyword: String {
            switch self {
            case .tcp: "TCP_CHECK"
            case .http: "HTTP_GET"
            case .https: "SSL_GET"
            case .udp: "UDP_CHECK"
            case .ping: "PING_CHECK"
            case .dns: "DNS_CHECK"
            case .smtp: "SMTP_CHECK"
            case .misc: "MISC_CHECK"
            case .file: "FILE_CHECK"
            case .bfd: "BFD_CHECK"
            }
        }
    }
}

public struct HTTPCheck: Hashable, Sendable {
    public var urls: [URLCheck] = []
    public var virtualhost: String?
    public var httpProtocol: HTTPVersion = .http10
    public var enableSNI = false
    public var fastRecovery = false

    /// `http_protocol`: the request line's version, and whether it asks the server to close.
    public enum HTTPVersion: String, Hashable, Sendable {
        /// `GET path HTTP/1.0` (keepalived's default).
        case http10 = "1.0"
        /// `HTTP/1.0` with `Connection: close`.
        case http10Close = "1.0C"
        /// `HTTP/1.1` with `Connection: close`.
        case http11 = "1.1"
    }

    public struct URLCheck: Hashable, Sendable {
        public var path: String
        /// MD5 of the body, 32 lower-case hex digits.
        public var digest: String?
        /// Accepted status codes; empty means 200-299.
        public var statusCodes: [ClosedRange<Int>] = []
        public var virtualhost: String?
        /// A PCRE2 pattern the body must match (or, with `regexNoMatch`, must not).
        public var regex: String?
        public var regexNoMatch = false
        /// PCRE2 compile options by keepalived's names (`caseless`, `multiline`, ...).
        public var regexOptions: [String] = []
        /// The match must start at or after this offset of the body...
        public var regexMinOffset = 0
        /// ...and at or before this one.
        public var regexMaxOffset: Int?

        /// The PCRE2 compile options keepalived 2.2.7 names, with PCRE2's bits.
        public static let regexOptionTable: [(name: String, bit: UInt32)] = [
            ("allow_empty_class", 0x1), ("alt_bsux", 0x2), ("auto_callout", 0x4), ("caseless", 0x8),
            ("dollar_endonly", 0x10), ("dotall", 0x20), ("dupnames", 0x40), ("extended", 0x80),
            ("firstline", 0x100), ("match_unset_backref", 0x200), ("multiline", 0x400), ("never_ucp", 0x800),
            ("never_utf", 0x1000), ("no_auto_capture", 0x2000), ("no_auto_possess", 0x4000),
            ("no_dotstar_anchor", 0x8000), ("no_start_optimize", 0x10000), ("ucp", 0x20000),
            ("ungreedy", 0x40000), ("utf", 0x80000), ("never_backslash_c", 0x100000),
            ("alt_circumflex", 0x200000), ("alt_verbnames", 0x400000), ("use_offset_limit", 0x800000),
        ]
        public static var regexOptionNames: [String] { regexOptionTable.map(\.name) }

        /// The options as PCRE2's bits.
        public var regexOptionBits: UInt32 {
            regexOptions.reduce(0) { bits, name in bits | (Self.regexOptionTable.first { $0.name == name }?.bit ?? 0) }
        }
        public var location: SourceLocation
    }
}

public struct UDPCheck: Hashable, Sendable {
    public var payload: [UInt8] = []
    /// Expected reply as hex, `x`/`X` nibbles matching anything; nil when no reply is required.
    public var requireReply: String?
    public var minimumReplyLength = 0
    public var maximumReplyLength = 255
}

public struct DNSCheck: Hashable, Sendable {
    public var type = "SOA"
    public var name = "."
}

public struct SMTPCheck: Hashable, Sendable {
    public var heloName = "smtpchecker.keepalived.org"
}

public struct MiscCheck: Hashable, Sendable {
    public var command: ScriptCommand?
    public var timeout: Duration?
    public var dynamic = false
    public var user: String?
    public var group: String?
}

public struct FileCheck: Hashable, Sendable {
    public var trackFile: String?
    public var weight: Int?
    public var reverse = false

    public init(trackFile: String? = nil, weight: Int? = nil, reverse: Bool = false) {
        self.trackFile = trackFile
        self.weight = weight
        self.reverse = reverse
    }
}

/// `virtual_server_group NAME { ... }`.
public struct VirtualServerGroup: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var entries: [Entry] = []

    public enum Entry: Hashable, Sendable {
        /// An address or an inclusive range of addresses, with an optional port.
        case addresses(first: IPAddress, last: IPAddress, port: UInt16?)
        case firewallMark(UInt32, family: IPAddress.Family?)
    }
}

/// The global `SSL { }` block used by `SSL_GET`.
public struct SSLSettings: Hashable, Sendable {
    public var password: String?
    public var certificateAuthority: String?
    public var certificate: String?
    public var key: String?
    public var location: SourceLocation
}

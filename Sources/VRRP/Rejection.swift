/// Why a received packet is not an advert this router acts on. One case per counter keepalived keeps (its stats
/// dump and the community exporters' metric names), plus the drops keepalived only logs; every rejected packet bumps
/// exactly one counter and never reaches the state machine.
public enum Rejection: String, Error, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Too short, too long, or its length fields disagree (keepalived `packet_len_err`).
    case packetLength = "packet_len_err"
    /// Multicast TTL / hop limit not 255, or a unicast peer's TTL outside its bounds (`ip_ttl_err`).
    case ttl = "ip_ttl_err"
    /// Not the version this router speaks (`vers_err`).
    case version = "vers_err"
    /// Not an advertisement (`invalid_type_rcvd`).
    case invalidType = "invalid_type_rcvd"
    /// An authentication type VRRP does not define (`invalid_authtype`).
    case invalidAuthenticationType = "invalid_authtype"
    /// Another authentication type than ours (`authtype_mismatch`).
    case authenticationTypeMismatch = "authtype_mismatch"
    /// Wrong password or AH check failed (`auth_failure`).
    case authenticationFailure = "auth_failure"
    /// Version 2 advert with another interval than ours (`advert_interval_err`).
    case advertisementInterval = "advert_interval_err"
    /// The checksum does not add up (`chk_err`).
    case checksum = "chk_err"
    /// Another router's VRID on our interface (`vrid_err`).
    case unknownVirtualRouter = "vrid_err"
    /// Multicast advert for a unicast router or the other way round, or (under `vrrp_strict`) addresses that are
    /// not ours (`addr_list_err`).
    case addressList = "addr_list_err"
    /// A unicast advert from an address that is not one of our peers.
    case unknownPeer = "unicast_peer_err"

    /// A dense index, for counters kept in arrays (the receive path must not hash).
    public var ordinal: Int {
        switch self {
        case .packetLength: 0
        case .ttl: 1
        case .version: 2
        case .invalidType: 3
        case .invalidAuthenticationType: 4
        case .authenticationTypeMismatch: 5
        case .authenticationFailure: 6
        case .advertisementInterval: 7
        case .checksum: 8
        case .unknownVirtualRouter: 9
        case .addressList: 10
        case .unknownPeer: 11
        }
    }

    public var description: String {
        switch self {
        case .packetLength: "bad length"
        case .ttl: "bad TTL/hop limit"
        case .version: "wrong VRRP version"
        case .invalidType: "not an advertisement"
        case .invalidAuthenticationType: "unknown authentication type"
        case .authenticationTypeMismatch: "authentication type mismatch"
        case .authenticationFailure: "authentication failure"
        case .advertisementInterval: "advertisement interval mismatch"
        case .checksum: "bad checksum"
        case .unknownVirtualRouter: "unknown VRID"
        case .addressList: "address list mismatch"
        case .unknownPeer: "source is not a unicast peer"
        }
    }
}

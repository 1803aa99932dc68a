import VigilConfig

/// What one virtual router expects of the adverts it hears, from its configuration. Checks run in keepalived's
/// order, so the same bad packet bumps the same counter in both.
public struct ReceivePolicy: Sendable, Equatable {
    public struct Peer: Sendable, Equatable {
        public var address: IPAddress
        public var minimumTTL: Int
        public var maximumTTL: Int

        public init(address: IPAddress, minimumTTL: Int = 0, maximumTTL: Int = 255) {
            self.address = address
            self.minimumTTL = minimumTTL
            self.maximumTTL = maximumTTL
        }
    }

    public enum Verdict: Equatable, Sendable {
        /// Act on it. `addressListMismatch`: the advert lists other addresses than ours (counted and logged).
        case accept(addressListMismatch: Bool)
        case reject(Rejection)
    }

    public var version: Advertisement.Version
    public var authentication: Advertisement.Authentication
    /// Our advertisement interval; version 2 drops adverts with another one.
    public var interval: Duration
    public var unicastPeers: [Peer]
    /// Accept unicast adverts only from `unicastPeers`, within their TTL bounds.
    public var checkUnicastSource: Bool
    /// The addresses we advertise, to compare with what the master advertises.
    public var virtualAddresses: [IPAddress]
    public var checkAddresses: Bool
    /// Under `vrrp_strict` an address-list mismatch drops the advert; otherwise it is only reported, so a rolling
    /// configuration change cannot split the brain (keepalived 2.2.7 drops it).
    public var strict: Bool

    public init(
        version: Advertisement.Version, authentication: Advertisement.Authentication = .none,
        interval: Duration, unicastPeers: [Peer] = [], checkUnicastSource: Bool = false,
        virtualAddresses: [IPAddress], checkAddresses: Bool = true, strict: Bool = false
    ) {
        self.version = version
        self.authentication = authentication
        self.interval = interval
        self.unicastPeers = unicastPeers
        self.checkUnicastSource = checkUnicastSource
        self.virtualAddresses = virtualAddresses
        self.checkAddresses = checkAddresses
        self.strict = strict
    }

    public var isUnicast: Bool { !unicastPeers.isEmpty }

    public func check(_ advert: Advertisement, _ packet: ReceivedPacket) -> Verdict {
        let expectsAH: Bool
        if case .ah = authentication { expectsAH = true } else { expectsAH = false }
        if packet.source.family == .ipv4 && version == .v2 && packet.hasAuthenticationHeader != expectsAH {
            return .reject(.authenticationTypeMismatch)
        }
        if !isUnicast, let hopLimit = packet.hopLimit, hopLimit != 255 { return .reject(.ttl) }
        guard advert.version == version else { return .reject(.version) }
        if version == .v2 && packet.source.family == .ipv4 {
            switch (authentication, advert.authentication) {
            case (.none, .none), (.ah, .ah):
                break
            case (.password(let ours), .password(let theirs)):
                guard Self.constantTimeEqualPadded(ours, theirs) else {
                    return .reject(.authenticationFailure)
                }
            default:
                return .reject(.authenticationTypeMismatch)
            }
            guard advert.interval == .seconds(Int(interval.microseconds / 1_000_000)) else {
                return .reject(.advertisementInterval)
            }
        }
        if packet.destination.isMulticast == isUnicast { return .reject(.addressList) }
        if isUnicast && checkUnicastSource {
            guard let peer = unicastPeers.first(where: { $0.address == packet.source }) else {
                return .reject(.unknownPeer)
            }
            if let hopLimit = packet.hopLimit, !(peer.minimumTTL...peer.maximumTTL).contains(hopLimit) {
                return .reject(.ttl)
            }
        }
        var mismatch = false
        if checkAddresses {
            mismatch =
                advert.addresses.count != virtualAddresses.count
                || !virtualAddresses.allSatisfy { advert.addresses.contains($0) }
            if mismatch && strict { return .reject(.addressList) }
        }
        return .accept(addressListMismatch: mismatch)
    }

    static func padded(_ password: [UInt8]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 8)
        for (index, byte) in password.prefix(8).enumerated() { bytes[index] = byte }
        return bytes
    }

    /// Compares two secrets as their zero-padded 8 bytes, in time that does not depend on where they differ,
    /// without building the padded copies.
    static func constantTimeEqualPadded(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = 0
        for index in 0..<8 {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    /// Compares two 8-byte secrets in time that does not depend on where they differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

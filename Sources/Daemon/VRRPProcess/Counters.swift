import VRRP

/// What one virtual router counts, with keepalived's names: its stats dump (SIGUSR2) and the community exporters'
/// metrics read these.
struct Counters: Sendable {
    var advertisementsReceived = 0
    var advertisementsSent = 0
    var becameMaster = 0
    var releasedMaster = 0
    var priorityZeroReceived = 0
    var priorityZeroSent = 0
    var addressListMismatches = 0
    /// Per `Rejection.ordinal`.
    var rejections = [Int](repeating: 0, count: Rejection.allCases.count)

    subscript(rejection: Rejection) -> Int { rejections[rejection.ordinal] }

    /// keepalived's `keepalived.stats` block for one instance, with the same labels and indentation.
    func statsDump(instance: String) -> String {
        """
        VRRP Instance: \(instance)
          Advertisements:
            Received: \(advertisementsReceived)
            Sent: \(advertisementsSent)
          Became master: \(becameMaster)
          Released master: \(releasedMaster)
          Packet Errors:
            Length: \(self[.packetLength])
            TTL: \(self[.ttl])
            Invalid Type: \(self[.invalidType])
            Advertisement Interval: \(self[.advertisementInterval])
            Address List: \(self[.addressList] + addressListMismatches)
          Authentication Errors:
            Invalid Type: \(self[.invalidAuthenticationType])
            Type Mismatch: \(self[.authenticationTypeMismatch])
            Failure: \(self[.authenticationFailure])
          Priority Zero:
            Received: \(priorityZeroReceived)
            Sent: \(priorityZeroSent)
          Vigil:
            Checksum Errors: \(self[.checksum])
            Version Errors: \(self[.version])
            Unknown Peer: \(self[.unknownPeer])

        """
    }
}

import VRRP

/// One single-hop BFD session in asynchronous mode (RFC 5880 6.8, RFC 5881), as a value: packets and timer
/// expiries in, packets to send and state changes out. It never reads a clock or a random source: the caller
/// passes the time with every event, and the jitter comes from the session's own generator, seeded by the caller.
public struct Session: Sendable {
    /// What the configuration asks for (keepalived's `bfd_instance`).
    public struct Parameters: Hashable, Sendable {
        /// `min_tx`: the interval wanted while Up.
        public var desiredMinTX: Duration
        /// `min_rx`: the smallest interval this end accepts.
        public var requiredMinRX: Duration
        /// `idle_tx`: the interval while not Up (RFC 5880 6.8.3 asks for at least one second).
        public var idleTX: Duration
        /// `multiplier`.
        public var multiplier: UInt8
        /// `passive`: send nothing until the peer has spoken.
        public var passive: Bool

        public init(
            desiredMinTX: Duration = .milliseconds(10), requiredMinRX: Duration = .milliseconds(10),
            idleTX: Duration = .seconds(1), multiplier: UInt8 = 5, passive: Bool = false
        ) {
            self.desiredMinTX = desiredMinTX
            self.requiredMinRX = requiredMinRX
            self.idleTX = idleTX
            self.multiplier = multiplier
            self.passive = passive
        }
    }

    public enum Action: Hashable, Sendable {
        case send(ControlPacket)
        /// The session moved; `diagnostic` says why it went down (`.none` otherwise).
        case stateChanged(from: SessionState, to: SessionState, diagnostic: SessionDiagnostic)
    }

    public private(set) var parameters: Parameters
    public private(set) var state: SessionState = .down
    public private(set) var remoteState: SessionState = .down
    public let localDiscriminator: UInt32
    public private(set) var remoteDiscriminator: UInt32 = 0
    public private(set) var diagnostic: SessionDiagnostic = .none
    /// What the peer last asked for (RFC 5880's bfd.RemoteMinRxInterval starts at 1 µs).
    public private(set) var remoteMinRX: Duration = .microseconds(1)
    public private(set) var remoteDesiredMinTX: Duration = .zero
    public private(set) var remoteMultiplier: UInt8 = 0
    /// A Poll Sequence runs: packets carry P until one with F arrives.
    public private(set) var polling = false
    /// The interval in force while a Poll Sequence for a slower interval runs (RFC 5880 6.8.3).
    private var heldTXInterval: Duration?
    public private(set) var nextTransmission: MonotonicTime?
    public private(set) var detectionDeadline: MonotonicTime?
    private var random: SplitMix64

    public init(parameters: Parameters, localDiscriminator: UInt32, seed: UInt64) {
        precondition(localDiscriminator != 0, "RFC 5880: a local discriminator is never 0")
        self.parameters = parameters
        self.localDiscriminator = localDiscriminator
        random = SplitMix64(seed: seed)
    }

    /// The interval this end asks to send at now: `min_tx` while Up, `idle_tx` otherwise.
    public var desiredMinTX: Duration { state == .up ? parameters.desiredMinTX : max(parameters.idleTX, parameters.desiredMinTX) }

    /// The periodic interval before jitter: the larger of what this end wants and what the peer accepts.
    public var transmitInterval: Duration { max(heldTXInterval ?? desiredMinTX, remoteMinRX) }

    /// RFC 5880 6.8.4, asynchronous mode: the peer's multiplier times the larger of what this end accepts and
    /// what the peer wants to send at.
    public var detectionTime: Duration {
        max(parameters.requiredMinRX, remoteDesiredMinTX) * Int(remoteMultiplier)
    }

    /// The earliest time the session needs the caller to call `timersFired`.
    public var nextDeadline: MonotonicTime? {
        switch (nextTransmission, detectionDeadline) {
        case (let a?, let b?): min(a, b)
        case (let a?, nil): a
        case (nil, let b?): b
        case (nil, nil): nil
        }
    }

    /// Starts sending (unless passive): the first packet goes out at once.
    public mutating func start(now: MonotonicTime) -> [Action] {
        guard !parameters.passive else { return [] }
        return transmit(now: now)
    }

    /// Timers due at `now`: detection time expired (the session goes Down, diagnostic 1) and the periodic packet.
    public mutating func timersFired(now: MonotonicTime) -> [Action] {
        var actions = [Action]()
        if let deadline = detectionDeadline, deadline <= now {
            detectionDeadline = nil
            if state == .up || state == .initializing {
                actions += move(to: .down, diagnostic: .controlDetectionTimeExpired)
                // The peer is gone: forget it (RFC 5880 6.8.1: bfd.RemoteDiscr is reset when the detection time
                // passes), and go back to the idle interval at once.
                remoteDiscriminator = 0
                remoteMinRX = .microseconds(1)
                remoteState = .down
                polling = false
                heldTXInterval = nil
                if !parameters.passive { nextTransmission = min(nextTransmission ?? now, now + jittered(transmitInterval)) }
                else { nextTransmission = nil }
            }
        }
        if let next = nextTransmission, next <= now { actions += transmit(now: now) }
        return actions
    }

    /// A packet for this session arrived (the caller checked the TTL and looked the session up, RFC 5881 / 5880
    /// 6.8.6).
    public mutating func received(_ packet: ControlPacket, now: MonotonicTime) -> [Action] {
        guard state != .adminDown else { return [] }
        var actions = [Action]()
        let wasSilent = nextTransmission == nil
        remoteDiscriminator = packet.myDiscriminator
        remoteState = packet.state
        remoteMinRX = .microseconds(Int64(packet.requiredMinRX))
        remoteDesiredMinTX = .microseconds(Int64(packet.desiredMinTX))
        remoteMultiplier = packet.detectMultiplier
        if packet.final && polling {
            polling = false
            heldTXInterval = nil
        }
        switch (state, packet.state) {
        case (_, .adminDown):
            if state != .down { actions += move(to: .down, diagnostic: .neighborSignaledSessionDown) }
        case (.down, .down):
            actions += move(to: .initializing, diagnostic: .none)
        case (.down, .initializing), (.initializing, .initializing), (.initializing, .up):
            actions += move(to: .up, diagnostic: .none)
        case (.up, .down):
            actions += move(to: .down, diagnostic: .neighborSignaledSessionDown)
        default:
            break
        }
        if state == .up || state == .initializing {
            detectionDeadline = now + detectionTime
        } else {
            detectionDeadline = nil
        }
        if packet.poll {
            // RFC 5880 6.8.6: answer a Poll with a Final at once, outside the periodic schedule.
            actions.append(.send(self.packet(final: true)))
        }
        if packet.requiredMinRX == 0 {
            nextTransmission = nil
        } else if wasSilent || (nextTransmission.map { $0 > now + transmitInterval } ?? true) {
            // A passive end starts once the peer spoke; a slower schedule shortens when the peer's wish allows.
            nextTransmission = now + jittered(transmitInterval)
        }
        return actions
    }

    /// Changes the parameters (a reload): a running Up session polls so that the peer learns them.
    public mutating func update(_ parameters: Parameters, now: MonotonicTime) -> [Action] {
        guard parameters != self.parameters else { return [] }
        let before = transmitInterval
        self.parameters = parameters
        if state == .up {
            if transmitInterval > before { heldTXInterval = before }
            polling = true
        }
        if nextTransmission == nil && !parameters.passive && state != .adminDown { return transmit(now: now) }
        return []
    }

    // MARK: - Inside

    private mutating func move(to new: SessionState, diagnostic: SessionDiagnostic) -> [Action] {
        let old = state
        let before = transmitInterval
        state = new
        if new == .down || new == .adminDown { self.diagnostic = diagnostic }
        if new == .up {
            // The intervals change from idle_tx to min_tx: the peer learns it through a Poll Sequence.
            polling = true
            if transmitInterval > before { heldTXInterval = before }
        } else if old == .up {
            polling = false
            heldTXInterval = nil
        }
        return [.stateChanged(from: old, to: new, diagnostic: new == .down || new == .adminDown ? diagnostic : .none)]
    }

    private mutating func transmit(now: MonotonicTime) -> [Action] {
        if parameters.passive && remoteDiscriminator == 0 {
            nextTransmission = nil
            return []
        }
        if remoteMinRX == .zero {
            nextTransmission = nil
            return []
        }
        nextTransmission = now + jittered(transmitInterval)
        return [.send(packet(final: false))]
    }

    /// The packet this end sends now.
    public func packet(final: Bool) -> ControlPacket {
        var packet = ControlPacket(
            diagnostic: diagnostic, state: state, detectMultiplier: parameters.multiplier,
            myDiscriminator: localDiscriminator, yourDiscriminator: remoteDiscriminator,
            desiredMinTX: UInt32(clamping: desiredMinTX.microseconds),
            requiredMinRX: UInt32(clamping: parameters.requiredMinRX.microseconds))
        packet.final = final
        packet.poll = polling && !final
        return packet
    }

    /// RFC 5880 6.8.7: each interval is reduced by a random 0-25 % (10-25 % with a multiplier of 1).
    private mutating func jittered(_ interval: Duration) -> Duration {
        let low = parameters.multiplier == 1 ? 10 : 0
        let percent = low + Int(random.next() % UInt64(26 - low))
        return interval * (100 - percent) / 100
    }
}

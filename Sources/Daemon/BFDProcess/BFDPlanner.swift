import BFD
import Logging
import VRRP
import VigilConfig

/// The BFD process's decisions, as a value: every `bfd_instance` as a session (RFC 5880), packets and timers in;
/// packets to send, timers, the Up/Down events the VRRP and checker processes follow, and logs out. keepalived
/// 2.2.7's behaviour where it chooses: a session starts Down and sends at once; the processes hear Up when it
/// comes up and Down when it leaves Up, but not when the peer said AdminDown (RFC 5882: an administrative down is
/// not a failure); a stop or a removal sends nothing (the peer times out).
struct BFDPlanner {
    enum Action: Equatable, Sendable {
        /// Opens the session's sending socket (and the receiving socket of its family, when not yet open).
        case openSession(name: String, family: IPAddress.Family, source: IPAddress?, ttl: Int)
        case closeSession(name: String)
        case send(name: String, bytes: [UInt8], to: IPAddress)
        /// The session's next deadline (nil: none).
        case arm(name: String, at: MonotonicTime?)
        /// Tells the processes that follow this instance (`vrrp`, `checker`) its state.
        case publish(BFDEvent)
        case log(Logger.Level, String)
    }

    struct Record {
        var instance: BFDInstance
        var session: Session
        /// What the processes were last told: Up or not.
        var published = false
        var remoteDiagnostic: SessionDiagnostic = .none
        var lastReceived: MonotonicTime?
    }

    private(set) var records: [String: Record] = [:]
    private var random: SplitMix64
    /// Packets dropped, by reason.
    private(set) var dropped: [String: Int] = [:]
    private(set) var received = 0
    private(set) var sent = 0

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    // MARK: - Configuration

    /// Starts the configuration's sessions; a reload keeps the sessions whose name remains (with their state and
    /// discriminators) and updates their intervals, as keepalived does.
    mutating func configure(_ instances: [BFDInstance], now: MonotonicTime) -> [Action] {
        var actions = [Action]()
        let names = Set(instances.map(\.name))
        for name in records.keys.sorted() where !names.contains(name) {
            records[name] = nil
            actions += [.arm(name: name, at: nil), .closeSession(name: name), .log(.info, "(\(name)) Removed")]
        }
        for instance in instances {
            guard let neighbor = instance.neighbor else { continue }
            if var record = records[instance.name], record.instance.neighbor == neighbor,
                record.instance.source == instance.source
            {
                let ttlChanged = record.instance.sendTTL != instance.sendTTL
                record.instance = instance
                let sessionActions = record.session.update(Self.parameters(instance), now: now)
                records[instance.name] = record
                if ttlChanged {
                    actions.append(.closeSession(name: instance.name))
                    actions.append(
                        .openSession(
                            name: instance.name, family: neighbor.family, source: instance.source,
                            ttl: instance.sendTTL))
                }
                actions += apply(sessionActions, to: instance.name, now: now)
                continue
            }
            if records[instance.name] != nil {
                actions += [.arm(name: instance.name, at: nil), .closeSession(name: instance.name)]
            }
            var session = Session(
                parameters: Self.parameters(instance), localDiscriminator: newDiscriminator(), seed: random.next())
            let starting = session.start(now: now)
            records[instance.name] = Record(instance: instance, session: session)
            actions.append(
                .openSession(
                    name: instance.name, family: neighbor.family, source: instance.source, ttl: instance.sendTTL))
            actions.append(.publish(BFDEvent(name: instance.name, up: false)))
            actions += apply(starting, to: instance.name, now: now)
        }
        return actions
    }

    /// A reload read the file again: refused, as the VRRP process refuses it, when the file has errors (the
    /// sessions run on); otherwise the sessions move to it, and every follower hears every session again (what it
    /// follows may have changed with `vrrp` and `checker`).
    mutating func configurationLoaded(_ result: ConfigLoader.Result, now: MonotonicTime) -> [Action] {
        let blocking = result.reloadBlockers
        guard blocking.isEmpty else {
            return [
                .log(
                    .error,
                    "Reload refused: the new configuration has \(blocking.count) error\(blocking.count == 1 ? "" : "s"); the BFD sessions run on"
                )
            ]
        }
        var actions: [Action] = [.log(.info, "Reloading")]
        actions += configure(result.configuration.bfdInstances, now: now)
        actions += snapshot.map { .publish($0) }
        return actions
    }

    static func parameters(_ instance: BFDInstance) -> Session.Parameters {
        Session.Parameters(
            desiredMinTX: instance.minTX, requiredMinRX: instance.minRX, idleTX: instance.idleTX,
            multiplier: UInt8(clamping: instance.multiplier), passive: instance.passive)
    }

    /// A random local discriminator, not 0 and not in use (RFC 5880 6.8.1).
    private mutating func newDiscriminator() -> UInt32 {
        let used = Set(records.values.map(\.session.localDiscriminator))
        while true {
            let value = UInt32(truncatingIfNeeded: random.next())
            if value != 0 && !used.contains(value) { return value }
        }
    }

    // MARK: - Events

    /// A datagram arrived on port 3784: checked (RFC 5880 6.8.6, RFC 5881's TTL), matched to its session, and
    /// handed to it. What cannot be matched or fails a check is dropped and counted.
    mutating func received(
        _ bytes: some Collection<UInt8>, from source: IPAddress, to destination: IPAddress?, ttl: Int?,
        now: MonotonicTime
    ) -> [Action] {
        let packet: ControlPacket
        do {
            packet = try ControlPacket(decoding: bytes)
        } catch {
            return drop(error.rawValue, from: source)
        }
        if packet.poll && packet.final { return drop("poll and final both set", from: source) }
        let name: String?
        if packet.yourDiscriminator != 0 {
            name = records.first { $0.value.session.localDiscriminator == packet.yourDiscriminator }?.key
        } else {
            guard packet.state == .down || packet.state == .adminDown else {
                return drop("your discriminator 0 in state \(packet.state)", from: source)
            }
            name = records.first { record in
                record.value.instance.neighbor == source
                    && (record.value.instance.source == nil || destination == nil
                        || record.value.instance.source == destination)
            }?.key
        }
        guard let name, var record = records[name] else { return drop("no session", from: source) }
        guard record.instance.neighbor == source else { return drop("wrong source address", from: source) }
        if record.instance.maxHops != 255, let ttl, ttl + record.instance.maxHops < record.instance.effectiveTTL {
            return drop("TTL \(ttl) below \(record.instance.effectiveTTL - record.instance.maxHops)", from: source)
        }
        received += 1
        record.remoteDiagnostic = packet.diagnostic
        record.lastReceived = now
        let sessionActions = record.session.received(packet, now: now)
        records[name] = record
        return apply(sessionActions, to: name, now: now)
    }

    /// A session's deadline came.
    mutating func timerFired(_ name: String, now: MonotonicTime) -> [Action] {
        guard var record = records[name] else { return [] }
        let wasUp = record.session.state == .up
        let detectionTime = record.session.detectionTime
        let overdue = record.session.detectionDeadline.map { now - $0 }
        let sessionActions = record.session.timersFired(now: now)
        records[name] = record
        var actions = [Action]()
        if wasUp, record.session.state == .down, let overdue {
            actions.append(
                .log(
                    .info,
                    "(\(name)) Expired after \(detectionTime.microseconds / 1000) ms (\(overdue.microseconds) usec overdue)"))
        }
        return actions + apply(sessionActions, to: name, now: now)
    }

    private mutating func apply(_ sessionActions: [Session.Action], to name: String, now: MonotonicTime) -> [Action] {
        guard var record = records[name], let neighbor = record.instance.neighbor else { return [] }
        var actions = [Action]()
        for action in sessionActions {
            switch action {
            case .send(let packet):
                sent += 1
                actions.append(.send(name: name, bytes: packet.encoded, to: neighbor))
            case .stateChanged(let from, let to, let diagnostic):
                if to == .up {
                    actions.append(.log(.info, "(\(name)) Entering Up state"))
                } else if from == .up {
                    actions.append(
                        .log(
                            .warning,
                            "(\(name)) Entering \(to) state (Local diagnostic - \(diagnostic), Remote diagnostic - \(record.remoteDiagnostic))"
                        ))
                } else {
                    actions.append(.log(.debug, "(\(name)) Entering \(to) state"))
                }
                let up = to == .up
                // The peer going AdminDown is not a failure (RFC 5882 3.2): nothing is published.
                let administrative = from == .up && record.session.remoteState == .adminDown
                if up != record.published && !administrative {
                    record.published = up
                    actions.append(.publish(BFDEvent(name: name, up: up)))
                }
            }
        }
        records[name] = record
        actions.append(.arm(name: name, at: record.session.nextDeadline))
        return actions
    }

    private mutating func drop(_ reason: String, from source: IPAddress) -> [Action] {
        dropped[reason, default: 0] += 1
        return [.log(.debug, "BFD packet from \(source) dropped: \(reason)")]
    }

    /// Every instance's state, for a process that starts following (keepalived sends them all at start).
    var snapshot: [BFDEvent] {
        records.keys.sorted().map { BFDEvent(name: $0, up: records[$0]!.published) }
    }

    /// The instances that report to the VRRP process and to the checker process.
    func follows(_ name: String, vrrp: Bool) -> Bool {
        guard let instance = records[name]?.instance else { return false }
        return vrrp ? instance.toVRRP : instance.toChecker
    }

    /// `vigil status` lines and the data dump: one per session.
    func describe(now: MonotonicTime) -> String {
        var lines = [String]()
        for name in records.keys.sorted() {
            let record = records[name]!
            let session = record.session
            var line =
                "BFD \(name): \(session.state) neighbor \(record.instance.neighbor.map { "\($0)" } ?? "-")"
                + " local discriminator \(session.localDiscriminator) remote \(session.remoteDiscriminator)"
                + " tx \(session.transmitInterval.microseconds / 1000) ms"
            if session.state == .up { line += " detection \(session.detectionTime.microseconds / 1000) ms" }
            if session.diagnostic != .none { line += " last diagnostic \(session.diagnostic)" }
            lines.append(line)
        }
        lines.append("BFD packets: received \(received), sent \(sent), dropped \(dropped.values.reduce(0, +))")
        for (reason, count) in dropped.sorted(by: { $0.key < $1.key }) { lines.append("  dropped \(count): \(reason)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// One BFD instance's state as the VRRP and checker processes hear it: `NAME up` or `NAME down`, one per line.
public struct BFDEvent: Hashable, Sendable {
    public var name: String
    public var up: Bool

    public init(name: String, up: Bool) {
        self.name = name
        self.up = up
    }

    public var line: String { "\(name) \(up ? "up" : "down")\n" }

    /// Reads the events in `text`; lines that are not events are skipped.
    public static func parse(_ text: String) -> [BFDEvent] {
        text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard words.count == 2, words[1] == "up" || words[1] == "down" else { return nil }
            return BFDEvent(name: String(words[0]), up: words[1] == "up")
        }
    }
}

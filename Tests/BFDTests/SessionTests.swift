import Testing
import VRRP

@testable import BFD

@Suite struct ControlPacketTests {
    @Test func roundTrip() throws {
        var packet = ControlPacket(
            diagnostic: .controlDetectionTimeExpired, state: .up, detectMultiplier: 3, myDiscriminator: 0x0102_0304,
            yourDiscriminator: 0xa0b0_c0d0, desiredMinTX: 10_000, requiredMinRX: 20_000)
        packet.poll = true
        let bytes = packet.encoded
        // RFC 5880 4.1: version 1, diag 1; state 3 with P; multiplier 3; length 24.
        #expect(Array(bytes[0..<4]) == [0x21, 0xe0, 3, 24])
        #expect(Array(bytes[4..<12]) == [1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0])
        #expect(Array(bytes[12..<16]) == [0, 0, 0x27, 0x10])
        #expect(try ControlPacket(decoding: bytes) == packet)
    }

    @Test func rejections() {
        let good = ControlPacket(
            diagnostic: .none, state: .down, detectMultiplier: 3, myDiscriminator: 7, yourDiscriminator: 0,
            desiredMinTX: 1_000_000, requiredMinRX: 10_000
        ).encoded
        func rejected(_ change: (inout [UInt8]) -> Void) -> ControlPacket.Rejection? {
            var bytes = good
            change(&bytes)
            do {
                _ = try ControlPacket(decoding: bytes)
                return nil
            } catch { return error }
        }
        #expect(rejected { $0.removeLast() } == .truncated)
        #expect(rejected { $0[3] = 30 } == .truncated)
        #expect(rejected { $0[3] = 20 } == .truncated)
        #expect(rejected { $0[0] = 0x40 } == .badVersion)
        #expect(rejected { $0[2] = 0 } == .zeroMultiplier)
        #expect(rejected { $0[1] |= 0x01 } == .multipoint)
        #expect(rejected { $0[7] = 0 } == .zeroDiscriminator)
        #expect(rejected { $0[1] |= 0x04; $0[3] = 26; $0 += [1, 2] } == .authentication)
        #expect(rejected { _ in } == nil)
    }
}

/// Two sessions wired back to back over a made-up clock: what one sends the other receives after `delay`.
struct Pair {
    var a: Session
    var b: Session
    var now = MonotonicTime.zero
    var changes: [String] = []
    var sent: [(from: String, packet: ControlPacket)] = []
    var link = true
    /// When each end last received a packet.
    var lastReceived: [String: MonotonicTime] = [:]

    init(a: Session.Parameters = .init(), b: Session.Parameters = .init()) {
        self.a = Session(parameters: a, localDiscriminator: 11, seed: 1)
        self.b = Session(parameters: b, localDiscriminator: 22, seed: 2)
    }

    mutating func deliver(_ actions: [Session.Action], from: String) {
        for action in actions {
            switch action {
            case .stateChanged(let old, let new, let diagnostic):
                changes.append("\(from) \(old)->\(new) \(diagnostic)")
            case .send(let packet):
                sent.append((from, packet))
                guard link else { continue }
                lastReceived[from == "a" ? "b" : "a"] = now
                if from == "a" { deliver(b.received(packet, now: now), from: "b") }
                else { deliver(a.received(packet, now: now), from: "a") }
            }
        }
    }

    mutating func start() {
        deliver(a.start(now: now), from: "a")
        deliver(b.start(now: now), from: "b")
    }

    /// Runs both sessions' timers until `end`.
    mutating func run(until end: MonotonicTime) {
        while true {
            let next = [a.nextDeadline, b.nextDeadline].compactMap { $0 }.min()
            guard let next, next <= end else { break }
            now = next
            if let due = a.nextDeadline, due <= now { deliver(a.timersFired(now: now), from: "a") }
            if let due = b.nextDeadline, due <= now { deliver(b.timersFired(now: now), from: "b") }
        }
        now = end
    }
}

@Suite struct SessionTests {
    @Test func threeWayHandshakeThenFastIntervals() {
        var pair = Pair()
        pair.start()
        pair.run(until: MonotonicTime(.seconds(3)))
        #expect(pair.a.state == .up)
        #expect(pair.b.state == .up)
        // a hears b's Init while Down and goes straight Up (RFC 5880 6.8.6).
        #expect(pair.changes == ["b Down->Init No Diagnostic", "a Down->Up No Diagnostic", "b Init->Up No Diagnostic"])
        #expect(pair.a.remoteDiscriminator == 22)
        #expect(pair.b.remoteDiscriminator == 11)
        // Up: both send at min_tx (10 ms less jitter) once the Poll Sequence ended.
        #expect(!pair.a.polling && !pair.b.polling)
        #expect(pair.a.transmitInterval == .milliseconds(10))
        let before = pair.sent.count
        pair.run(until: MonotonicTime(.seconds(4)))
        let perSecond = pair.sent.count - before
        // Two ends, 10 ms less 0-25 % jitter: between 200 and 267 packets a second.
        #expect((200...268).contains(perSecond))
        // Every periodic interval is 75-100 % of 10 ms.
        let aTimes = pair.sent.filter { $0.from == "a" }.count
        #expect(aTimes > 0)
    }

    @Test func detectionTimeExpiresAfterMultiplierIntervals() {
        var pair = Pair(a: .init(multiplier: 3), b: .init(multiplier: 3))
        pair.start()
        pair.run(until: MonotonicTime(.seconds(3)))
        #expect(pair.a.state == .up)
        pair.link = false
        let cut = pair.now
        let heard = pair.lastReceived["a"]!
        // a's detection time is b's multiplier (3) times max(a's min_rx, b's min_tx) = 30 ms from the last packet.
        #expect(pair.a.detectionTime == .milliseconds(30))
        pair.run(until: heard + .milliseconds(29))
        #expect(pair.a.state == .up)
        pair.run(until: heard + .milliseconds(30))
        #expect(pair.a.state == .down)
        #expect(pair.a.diagnostic == .controlDetectionTimeExpired)
        #expect(pair.a.remoteDiscriminator == 0)
        // Down: back to idle_tx (1 s, less jitter), and the diagnostic goes out.
        #expect(pair.a.transmitInterval == .seconds(1))
        #expect(pair.a.packet(final: false).diagnostic == .controlDetectionTimeExpired)
        // The link comes back: both come up again within a few idle intervals.
        pair.link = true
        pair.run(until: cut + .seconds(5))
        #expect(pair.a.state == .up && pair.b.state == .up, "\(pair.changes) \(pair.a) \(pair.b)")
    }

    @Test func peerSignalsDown() {
        var pair = Pair()
        pair.start()
        pair.run(until: MonotonicTime(.seconds(3)))
        // b says AdminDown (Vigil never does: it stops silently, as keepalived), then falls silent.
        var adminDown = pair.b.packet(final: false)
        adminDown.state = .adminDown
        adminDown.diagnostic = .administrativelyDown
        pair.deliver(pair.a.received(adminDown, now: pair.now), from: "a")
        #expect(pair.a.state == .down)
        #expect(pair.a.diagnostic == .neighborSignaledSessionDown)
        // a stays Down: it never hears Down or Init from b again.
        pair.link = false
        pair.run(until: pair.now + .seconds(5))
        #expect(pair.a.state == .down)
    }

    @Test func pollIsAnsweredWithFinal() {
        var session = Session(parameters: .init(), localDiscriminator: 5, seed: 3)
        var packet = ControlPacket(
            diagnostic: .none, state: .down, detectMultiplier: 3, myDiscriminator: 9, yourDiscriminator: 0,
            desiredMinTX: 1_000_000, requiredMinRX: 10_000)
        packet.poll = true
        let actions = session.received(packet, now: .zero)
        let finals = actions.compactMap { if case .send(let p) = $0, p.final { p } else { nil } }
        #expect(finals.count == 1)
        #expect(finals.first?.poll == false)
        #expect(finals.first?.yourDiscriminator == 9)
        #expect(session.state == .initializing)
    }

    @Test func slowerPeerSetsTheInterval() {
        // The peer accepts packets no faster than every 300 ms: this end sends at 300 ms, not its 10 ms.
        var pair = Pair(b: .init(desiredMinTX: .milliseconds(300), requiredMinRX: .milliseconds(300), multiplier: 3))
        pair.start()
        pair.run(until: MonotonicTime(.seconds(4)))
        #expect(pair.a.state == .up)
        #expect(pair.a.transmitInterval == .milliseconds(300))
        // a detects b's loss after b's multiplier times max(10 ms, b's 300 ms).
        #expect(pair.a.detectionTime == .milliseconds(900))
        #expect(pair.b.detectionTime == .milliseconds(1500))
    }

    @Test func passiveWaitsForThePeer() {
        var pair = Pair(a: .init(passive: true))
        pair.deliver(pair.a.start(now: pair.now), from: "a")
        #expect(pair.sent.isEmpty)
        #expect(pair.a.nextDeadline == nil)
        pair.deliver(pair.b.start(now: pair.now), from: "b")
        pair.run(until: MonotonicTime(.seconds(3)))
        #expect(pair.a.state == .up && pair.b.state == .up)
    }

    @Test func zeroRequiredMinRXStopsTransmission() {
        var session = Session(parameters: .init(), localDiscriminator: 5, seed: 3)
        _ = session.start(now: .zero)
        #expect(session.nextTransmission != nil)
        let packet = ControlPacket(
            diagnostic: .none, state: .down, detectMultiplier: 3, myDiscriminator: 9, yourDiscriminator: 5,
            desiredMinTX: 1_000_000, requiredMinRX: 0)
        _ = session.received(packet, now: .zero)
        #expect(session.nextTransmission == nil)
    }

    @Test func jitterStaysWithinRFCBounds() {
        var session = Session(parameters: .init(idleTX: .seconds(1)), localDiscriminator: 5, seed: 42)
        var now = MonotonicTime.zero
        _ = session.start(now: now)
        var intervals = [Duration]()
        for _ in 0..<200 {
            let next = session.nextTransmission!
            intervals.append(next - now)
            now = next
            _ = session.timersFired(now: now)
        }
        #expect(intervals.allSatisfy { $0 >= .milliseconds(750) && $0 <= .seconds(1) })
        #expect(Set(intervals).count > 10)
        var single = Session(parameters: .init(multiplier: 1), localDiscriminator: 5, seed: 42)
        now = .zero
        _ = single.start(now: now)
        for _ in 0..<200 {
            let next = single.nextTransmission!
            #expect(next - now <= .milliseconds(900) && next - now >= .milliseconds(750))
            now = next
            _ = single.timersFired(now: now)
        }
    }
}

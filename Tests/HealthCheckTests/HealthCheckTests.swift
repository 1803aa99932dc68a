import Testing
import VigilConfig

@testable import HealthCheck

func ip(_ text: String) -> IPAddress { IPAddress(text)! }

@Suite("Checker: keepalived's retry and timing")
struct CheckerMachineTests {
    let timing = CheckerMachine.Timing(
        delayLoop: .seconds(6), connectTimeout: .seconds(2), retry: 2, delayBeforeRetry: .seconds(1))

    @Test("An up checker goes down only after retry + 1 failures, delay_before_retry apart")
    func retries() {
        var checker = CheckerMachine(timing: timing, alpha: false)
        #expect(checker.isUp)
        let first = checker.record(success: false)
        #expect(first.transition == nil && first.next == .seconds(1))
        let second = checker.record(success: false)
        #expect(second.transition == nil && second.next == .seconds(1))
        let third = checker.record(success: false)
        #expect(third.transition == .down(attempts: 3) && third.next == .seconds(6))
        let again = checker.record(success: false)
        #expect(again.transition == nil && again.next == .seconds(6))
        let back = checker.record(success: true)
        #expect(back.transition == .up && back.next == .seconds(6))
    }

    @Test("A success in between resets the retries")
    func reset() {
        var checker = CheckerMachine(timing: timing, alpha: false)
        _ = checker.record(success: false)
        _ = checker.record(success: true)
        #expect(checker.retries == 0)
        _ = checker.record(success: false)
        let second = checker.record(success: false)
        #expect(second.transition == nil)
    }

    @Test("alpha starts down and comes up on the first success")
    func alpha() {
        var checker = CheckerMachine(timing: timing, alpha: true)
        #expect(!checker.isUp)
        #expect(checker.record(success: false).transition == nil)
        #expect(checker.record(success: true).transition == .up)
    }

    @Test("Detection bound and first check")
    func bounds() {
        #expect(timing.detectionBound == .seconds(6 + 2 * 3 + 1 * 2))
        let checker = CheckerMachine(timing: timing, alpha: false)
        #expect(checker.firstDelay(random: 0) == .seconds(1))
        #expect(checker.firstDelay(random: 0.5) == .seconds(4))
    }
}

@Suite("Pool: quorum, sorry server, inhibit_on_failure")
struct ServicePoolTests {
    func pool(quorum: Int = 1, hysteresis: Int = 0, sorry: Bool = false, inhibit: Bool = false) -> ServicePool {
        let members = (1...3).map {
            ServicePool.Member(
                address: ip("10.0.0.\($0)"), port: 80, weight: $0, inhibitOnFailure: inhibit, forwardingMethod: .nat,
                checkers: [true])
        }
        return ServicePool(
            members: members, quorum: quorum, hysteresis: hysteresis,
            sorryServer: sorry ? Destination(address: ip("10.0.0.9"), port: 80, weight: 1) : nil, sorryInhibit: false)
    }

    @Test("A failed real server leaves the pool; inhibit_on_failure keeps it at weight 0")
    func removal() {
        var plain = pool()
        #expect(plain.update(member: 1, checker: 0, up: false) == [.realServerDown(1)])
        #expect(plain.destinations.map(\.address) == [ip("10.0.0.1"), ip("10.0.0.3")])
        var inhibited = pool(inhibit: true)
        _ = inhibited.update(member: 1, checker: 0, up: false)
        #expect(inhibited.destinations.map(\.weight) == [1, 0, 3])
    }

    @Test("Below quorum the sorry server alone serves; above quorum plus hysteresis the pool returns")
    func quorum() {
        // Weights 1, 2, 3: quorum 5 with hysteresis 1 is gained at 6 and lost below 4.
        var pool = self.pool(quorum: 5, hysteresis: 1, sorry: true)
        #expect(pool.quorumUp)
        #expect(pool.update(member: 2, checker: 0, up: false) == [.realServerDown(2), .quorumLost(weight: 3)])
        #expect(pool.destinations.map(\.address) == [ip("10.0.0.9")])
        // Weight 3 + 3 = 6 >= 5 + 1: back.
        #expect(pool.update(member: 2, checker: 0, up: true) == [.realServerUp(2), .quorumGained(weight: 6)])
        #expect(pool.destinations.map(\.address) == [ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3")])
        // 6 - 1 = 5 is not below 5 - 1: quorum holds.
        #expect(pool.update(member: 0, checker: 0, up: false) == [.realServerDown(0)])
        #expect(pool.quorumUp)
    }

    @Test("Every checker must be up; weights add FILE_CHECK adjustments")
    func checkersAndWeights() {
        var pool = ServicePool(
            members: [
                .init(
                    address: ip("10.0.0.1"), port: 80, weight: 5, inhibitOnFailure: false, forwardingMethod: .nat,
                    checkers: [true, true])
            ], quorum: 1, hysteresis: 0, sorryServer: nil, sorryInhibit: false)
        _ = pool.update(member: 0, checker: 1, up: false)
        #expect(pool.destinations.isEmpty)
        _ = pool.update(member: 0, checker: 1, up: true)
        _ = pool.setWeight(member: 0, adjustment: -3)
        #expect(pool.destinations.first?.weight == 2)
    }
}

@Suite("Load balancer: changes and the nftables ruleset")
struct LoadBalancerTests {
    let service = Service(address: ip("198.51.100.200"), port: 80, scheduler: "wrr")

    @Test("Changes add services before destinations and remove them after")
    func changes() {
        let a = Destination(address: ip("10.0.0.1"), port: 80, weight: 1)
        let b = Destination(address: ip("10.0.0.2"), port: 80, weight: 1)
        var b2 = b
        b2.weight = 3
        let old = LoadBalancerState(services: [service: [a, b]])
        let new = LoadBalancerState(services: [service: [b2]])
        #expect(new.changes(from: old) == [.editDestination(service, b2), .removeDestination(service, a)])
        #expect(
            LoadBalancerState().changes(from: new) == [.removeDestination(service, b2), .removeService(service)])
        #expect(new.changes(from: LoadBalancerState()) == [.addService(service), .addDestination(service, b2)])
    }

    @Test("Weighted slots, round robin, source hashing, and a reset when nobody is left")
    func ruleset() {
        let a = Destination(address: ip("10.0.0.1"), port: 8080, weight: 2)
        let b = Destination(address: ip("10.0.0.2"), port: 8080, weight: 4)
        #expect(NFTablesRuleset.slots("wrr", [a, b]).map(\.address) == [ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.2")])
        #expect(NFTablesRuleset.slots("rr", [a, b]).count == 2)
        let text = NFTablesRuleset.render(LoadBalancerState(services: [service: [a, b]]))
        #expect(
            text.contains(
                "ip daddr 198.51.100.200 tcp dport 80 dnat ip to numgen inc mod 3 map { 0 : 10.0.0.1 . 8080, 1 : 10.0.0.2 . 8080, 2 : 10.0.0.2 . 8080 }"
            ))
        #expect(text.hasPrefix("table ip vigil {\n}\ndelete table ip vigil\n"))
        var hashed = service
        hashed.scheduler = "sh"
        #expect(NFTablesRuleset.render(LoadBalancerState(services: [hashed: [a]])).contains("jhash ip saddr mod 1"))
        #expect(
            NFTablesRuleset.render(LoadBalancerState(services: [service: []])).contains(
                "tcp dport 80 reject with tcp reset"))
        // A firewall-mark service matches the mark alone (the administrator marks before NAT).
        var marked = service
        marked.firewallMark = 7
        #expect(
            NFTablesRuleset.render(LoadBalancerState(services: [marked: [a]])).contains(
                "meta mark 7 meta l4proto tcp dnat ip to numgen inc mod 1 map { 0 : 10.0.0.1 . 8080 }"))
    }
}

@Suite("Checker codecs: HTTP responses, DNS, UDP replies")
struct CheckerCodecTests {
    func parse(_ chunks: [String]) throws -> (status: Int?, body: String, ended: Bool) {
        var parser = HTTPResponseParser()
        var body = [UInt8]()
        var status: Int?
        var ended = false
        for chunk in chunks {
            for event in try parser.feed(Array(chunk.utf8)) {
                switch event {
                case .status(let code): status = code
                case .body(let bytes): body += bytes
                case .end: ended = true
                }
            }
        }
        return (status, String(decoding: body, as: UTF8.self), ended)
    }

    @Test("Content-Length, chunked and close-delimited bodies, in any split")
    func bodies() throws {
        let length = try parse(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", "\r\nhel", "lo extra"])
        #expect(length.status == 200 && length.body == "hello" && length.ended)
        let chunked = try parse([
            "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "2;x=y\r\nde\r\n0\r\n\r\n",
        ])
        #expect(chunked.status == 404 && chunked.body == "abcde" && chunked.ended)
        var open = HTTPResponseParser()
        _ = try open.feed(Array("HTTP/1.0 200 OK\r\n\r\nbody".utf8))
        #expect(try open.finish() == [.end])
    }

    @Test("Hostile heads fail cleanly: a 100 KB status line, garbage, a truncated body")
    func hostile() {
        var long = HTTPResponseParser()
        let line = "HTTP/1.1 200 " + String(repeating: "A", count: 100_000)
        #expect(throws: HTTPResponseParser.Failure.statusLineTooLong) { _ = try long.feed(Array(line.utf8)) }
        var garbage = HTTPResponseParser()
        #expect(throws: HTTPResponseParser.Failure.self) { _ = try garbage.feed(Array("SSH-2.0-OpenSSH\r\n".utf8)) }
        var truncated = HTTPResponseParser()
        _ = try? truncated.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8))
        #expect(throws: HTTPResponseParser.Failure.truncated) { _ = try truncated.finish() }
    }

    /// The parser's verdict for bytes fed whole and one byte at a time.
    func verdicts(_ text: String) -> (String, String) {
        func run(_ pieces: [[UInt8]]) -> String {
            var parser = HTTPResponseParser()
            var events = [HTTPResponseParser.Event]()
            do {
                for piece in pieces { events += try parser.feed(piece) }
                events += try parser.finish()
            } catch {
                return "\(error)"
            }
            let body = events.flatMap { if case .body(let bytes) = $0 { bytes } else { [] } }
            return "\(events.first.map { "\($0)" } ?? "") body \(body.count) end \(events.last == .end)"
        }
        let bytes = Array(text.utf8)
        return (run([bytes]), run(bytes.map { [$0] }))
    }

    @Test("Fuzzer finding: garbage after a chunk is malformed whether it arrives whole or in pieces")
    func chunkEndFinding() {
        let (whole, split) = verdicts(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcncodin\n")
        #expect(whole == split)
        #expect(whole == "malformed chunked encoding")
        let good = verdicts("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        #expect(good.0 == good.1 && good.0.hasSuffix("body 3 end true"), "\(good)")
    }

    @Test("DNS query and answers")
    func dns() throws {
        let query = try #require(DNSMessage.query(id: 0x1234, name: "www.lab", type: "A"))
        #expect(query.prefix(4) == [0x12, 0x34, 0x01, 0x00])
        #expect(Array(query.suffix(13)) == [3, 119, 119, 119, 3, 108, 97, 98, 0, 0, 1, 0, 1])
        var answer = query
        answer[2] = 0x81
        answer[3] = 0x80
        answer[7] = 1
        #expect(DNSMessage.check(response: answer, id: 0x1234) == .healthy)
        answer[7] = 0
        #expect(DNSMessage.check(response: answer, id: 0x1234) == .failed("the server has no answer"))
        #expect(DNSMessage.check(response: answer, id: 0x9999) == .ignore)
    }

    @Test("UDP reply patterns with wildcards")
    func replies() {
        #expect(ReplyPattern.matches([0x12, 0xab], pattern: "12ab"))
        #expect(ReplyPattern.matches([0x12, 0xab], pattern: "1xaX"))
        #expect(!ReplyPattern.matches([0x12, 0xab], pattern: "13"))
        #expect(!ReplyPattern.matches([0x12], pattern: "1234"))
    }
}

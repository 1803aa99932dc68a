import Testing

@testable import VigilConfig

/// keepalived 2.2.7's checker keywords beyond timing: `http_protocol`, `regex` and its settings, SMTP_CHECK `host`
/// blocks, and the checker process's scheduling.
@Suite("Checkers: keepalived's grammar")
struct CheckerConfigTests {
    func load(_ text: String) -> ConfigLoader.Result {
        ConfigLoader.load(text: text, options: ConfigLoader.Options(configID: "test"))
    }

    func checkers(_ checker: String) -> (checkers: [Checker], diagnostics: [Diagnostic]) {
        let result = load(
            "virtual_server 192.0.2.1 80 {\n real_server 198.51.100.1 80 {\n\(checker)\n }\n}\n")
        return (result.configuration.virtualServers.first?.realServers.first?.checkers ?? [], result.diagnostics)
    }

    func http(_ checker: String) -> HTTPCheck? {
        guard case .http(let http) = checkers(checker).checkers.first?.kind else { return nil }
        return http
    }

    @Test("http_protocol: 1.0, 1.0C (or 1.0c) and 1.1; anything else is an error")
    func httpProtocol() {
        #expect(http("HTTP_GET {\n url {\n path /\n }\n}")?.httpProtocol == .http10)
        #expect(http("HTTP_GET {\n http_protocol 1.1\n url {\n path /\n }\n}")?.httpProtocol == .http11)
        #expect(http("HTTP_GET {\n http_protocol 1.0c\n url {\n path /\n }\n}")?.httpProtocol == .http10Close)
        let bad = checkers("HTTP_GET {\n http_protocol 2\n url {\n path /\n }\n}")
        #expect(bad.diagnostics.contains { $0.severity == .error && $0.message.contains("http_protocol") })
    }

    @Test("regex: one pattern, read quoted and escaped as keepalived reads it; options by name; offsets")
    func regex() {
        let url = http(
            #"HTTP_GET {\#n url {\#n path /\#n regex "status: (ok|fine)\\d"\#n regex_no_match\#n regex_options caseless multiline\#n regex_min_offset 4\#n regex_max_offset 100\#n regex_stack 1000 2000\#n }\#n}"#
        )?.urls.first
        #expect(url?.regex == #"status: (ok|fine)\d"#)
        #expect(url?.regexNoMatch == true)
        #expect(url?.regexOptions == ["caseless", "multiline"])
        let bits: UInt32? = url?.regexOptionBits
        #expect(bits == 0x408, "PCRE2_CASELESS | PCRE2_MULTILINE")
        #expect(url?.regexMinOffset == 4 && url?.regexMaxOffset == 100)
        let unknown = checkers("HTTP_GET {\n url {\n path /\n regex ok\n regex_options shouting\n }\n}")
        #expect(unknown.diagnostics.contains { $0.severity == .warning && $0.message.contains("'shouting'") })
        let two = checkers("HTTP_GET {\n url {\n path /\n regex a b\n }\n}")
        #expect(two.diagnostics.contains { $0.severity == .error && $0.message.contains("one pattern") })
    }

    @Test("SMTP_CHECK host blocks: one checker per host; the block's own connection only when it sets one")
    func smtpHosts() {
        let hosts = checkers(
            "SMTP_CHECK {\n helo_name me\n retry 4\n host {\n connect_ip 198.51.100.7\n connect_port 2525\n bind_port 5000\n }\n host {\n connect_timeout 9\n fwmark 3\n delay_loop 7\n }\n}"
        ).checkers
        #expect(hosts.count == 2)
        #expect(hosts.map(\.connectIP) == [IPAddress("198.51.100.7"), nil])
        #expect(hosts.map(\.connectPort) == [2525, nil])
        #expect(hosts[0].bindPort == 5000 && hosts[1].firewallMark == 3)
        #expect(hosts[1].timing.connectTimeout == .seconds(9) && hosts[0].timing.connectTimeout == .seconds(5))
        #expect(hosts.allSatisfy { $0.timing.retry == 4 && $0.timing.delayLoop == .seconds(7) }, "one timing per checker")
        let withOwn = checkers("SMTP_CHECK {\n connect_port 25\n host {\n connect_ip 198.51.100.7\n }\n}").checkers
        #expect(withOwn.map(\.connectIP) == [nil, IPAddress("198.51.100.7")])
        #expect(!checkers("SMTP_CHECK {\n host {\n connect_ip 198.51.100.7\n }\n}").diagnostics.contains { $0.severity == .warning && $0.code == .notSupported })
    }

    @Test("checker and VRRP process scheduling: priorities, real time, no swap, CPU affinity")
    func scheduling() {
        let result = load(
            "global_defs {\n checker_priority -5\n checker_rt_priority 20\n checker_rlimit_rttime 5000\n checker_no_swap\n checker_cpu_affinity 0 1\n vrrp_cpu_affinity 1\n checker_log_all_failures\n no_checker_emails\n rs_init_notifies\n}\n"
        )
        let global = result.configuration.global
        #expect(global.checkerScheduling.nice == -5 && global.checkerScheduling.realtimePriority == 20)
        #expect(global.checkerScheduling.realtimeLimitMicroseconds == 5000 && global.checkerScheduling.noSwap)
        #expect(global.checkerScheduling.cpus == [0, 1] && global.vrrpScheduling.cpus == [1])
        #expect(global.checkerLogAllFailures && global.noCheckerEmails && global.realServerInitialNotifies)
        #expect(!result.diagnostics.contains { $0.severity >= .warning }, "\(result.diagnostics)")
        let bad = load("global_defs {\n checker_cpu_affinity 0 x\n}\n")
        #expect(bad.configuration.global.checkerScheduling.cpus.isEmpty)
        #expect(bad.diagnostics.contains { $0.severity == .error })
    }
}

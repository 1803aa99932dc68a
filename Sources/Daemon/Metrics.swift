import LinuxNet
import Logging
import VRRP

/// Prometheus metrics in the text format (0.0.4), with the names and labels (`iname`, `intf`, `vrid`) of the
/// community keepalived exporters, so that their dashboards work unchanged; Vigil's own extras are `vigil_*`.
struct MetricsPage {
    struct Family {
        var name: String
        var help: String
        var type: String
        var samples: [(labels: [(String, String)], value: String)] = []
    }

    var families: [Family] = []

    mutating func add(
        _ name: String, _ type: String, _ help: String, _ samples: [(labels: [(String, String)], value: String)]
    ) {
        families.append(Family(name: name, help: help, type: type, samples: samples))
    }

    var text: String {
        var out = ""
        for family in families {
            out += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.type)\n"
            for sample in family.samples {
                let labels = sample.labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",")
                out +=
                    labels.isEmpty ? "\(family.name) \(sample.value)\n" : "\(family.name){\(labels)} \(sample.value)\n"
            }
        }
        return out
    }

    /// Serves `answer` over HTTP at `endpoint`, logging where (or why not).
    static func serve(
        at endpoint: String, loop: EventLoop, logger: Logger, _ answer: @escaping ([UInt8]) -> String
    ) -> RequestServer? {
        do {
            let server = try RequestServer(
                listener: try listenTCP(endpoint), loop: loop, terminator: Array("\r\n\r\n".utf8), ownerOnly: false,
                handler: answer)
            logger.info("Prometheus metrics on http://\(endpoint)/metrics")
            return server
        } catch {
            logger.error("cannot serve metrics on \(endpoint): \(error)")
            return nil
        }
    }

    /// The answer to one HTTP request: GET /metrics (or /) gets `body()`, anything else 404.
    static func httpAnswer(_ request: [UInt8], body: () -> String) -> String {
        let line = String(decoding: request.prefix { $0 != 0x0d && $0 != 0x0a }, as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[0] == "GET", parts[1] == "/metrics" || parts[1] == "/" else {
            return
                "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\nnot found\n"
        }
        let text = body()
        return
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: \(text.utf8.count)\r\nConnection: close\r\n\r\n"
            + text
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}

extension VRRPService {
    func metricsPage() -> MetricsPage {
        var page = MetricsPage()
        func labels(_ driver: RouterDriver) -> [(String, String)] {
            [
                ("iname", driver.name), ("intf", driver.instance.interface ?? ""),
                ("vrid", String(driver.virtualRouterID)),
            ]
        }
        func perInstance(_ name: String, _ type: String, _ help: String, _ value: (RouterDriver) -> Int) {
            page.add(name, type, help, drivers.map { (labels($0), String(value($0))) })
        }
        page.add("keepalived_up", "gauge", "Whether the VRRP process is up.", [([], "1")])
        perInstance("keepalived_vrrp_state", "gauge", "State: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 98 STOP.") {
            $0.router.state.keepalivedNumber
        }
        perInstance("keepalived_advertisements_received_total", "counter", "Adverts received and accepted.") {
            $0.counters.advertisementsReceived
        }
        perInstance("keepalived_advertisements_sent_total", "counter", "Adverts sent.") {
            $0.counters.advertisementsSent
        }
        perInstance("keepalived_become_master_total", "counter", "Transitions to MASTER.") { $0.counters.becameMaster }
        perInstance("keepalived_release_master_total", "counter", "Transitions out of MASTER.") {
            $0.counters.releasedMaster
        }
        perInstance("keepalived_packet_length_errors_total", "counter", "Adverts of a wrong length.") {
            $0.counters[.packetLength]
        }
        perInstance("keepalived_ip_ttl_errors_total", "counter", "Adverts with a wrong TTL or hop limit.") {
            $0.counters[.ttl]
        }
        perInstance("keepalived_invalid_type_received_total", "counter", "Packets that are not adverts.") {
            $0.counters[.invalidType]
        }
        perInstance("keepalived_advertisements_interval_errors_total", "counter", "Adverts with another interval.") {
            $0.counters[.advertisementInterval]
        }
        perInstance("keepalived_address_list_errors_total", "counter", "Adverts listing other addresses.") {
            $0.counters[.addressList] + $0.counters.addressListMismatches
        }
        perInstance("keepalived_authentication_invalid_total", "counter", "Adverts with an unknown auth type.") {
            $0.counters[.invalidAuthenticationType]
        }
        perInstance("keepalived_authentication_mismatch_total", "counter", "Adverts with another auth type.") {
            $0.counters[.authenticationTypeMismatch]
        }
        perInstance("keepalived_authentication_failure_total", "counter", "Adverts failing authentication.") {
            $0.counters[.authenticationFailure]
        }
        perInstance("keepalived_priority_zero_received_total", "counter", "Priority-0 adverts received.") {
            $0.counters.priorityZeroReceived
        }
        perInstance("keepalived_priority_zero_sent_total", "counter", "Priority-0 adverts sent.") {
            $0.counters.priorityZeroSent
        }
        page.add(
            "keepalived_script_status", "gauge", "vrrp_script status: 0 failed, 1 good (unknown scripts are left out).",
            scripts.values.sorted { $0.script.name < $1.script.name }.compactMap { runtime in
                switch runtime.health.status {
                case .good: ([("name", runtime.script.name)], "1")
                case .failed: ([("name", runtime.script.name)], "0")
                case .unknown: nil
                }
            })
        perInstance("vigil_vrrp_effective_priority", "gauge", "The priority in use, trackers applied.") {
            $0.router.effectivePriority
        }
        perInstance("vigil_vrrp_configured_priority", "gauge", "The configured priority.") { $0.router.basePriority }
        perInstance("vigil_checksum_errors_total", "counter", "Adverts with a bad checksum.") { $0.counters[.checksum] }
        perInstance("vigil_version_errors_total", "counter", "Adverts of another VRRP version.") {
            $0.counters[.version]
        }
        perInstance("vigil_unknown_peer_total", "counter", "Unicast adverts from an address that is not a peer.") {
            $0.counters[.unknownPeer]
        }
        page.add(
            "vigil_unknown_vrid_total", "counter", "Adverts for no router of ours.",
            [([], String(unknownVirtualRouters))])
        page.add(
            "vigil_malformed_packets_total", "counter", "Packets too broken to read.", [([], String(malformedPackets))])
        page.add(
            "vigil_notifications_dropped_total", "counter", "Notifications dropped because their queue was full.",
            [([], String(notifier.droppedCount))])
        return page
    }

    /// Answers one HTTP request: GET /metrics (or /), anything else 404.
    func httpAnswer(_ request: [UInt8]) -> String {
        MetricsPage.httpAnswer(request) {
            // The checker's metrics, as it last published them (at most a second old).
            metricsPage().text
                + readFile(runtime.file(CheckerService.metricsFileName), limit: 1 << 20, followSymlink: false)
        }
    }
}

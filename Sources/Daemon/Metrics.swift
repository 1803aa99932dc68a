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
                listener: try listenTCP(endpoint), loop: loop, terminator: Array("\r\n\r\n".utf8), access: .anyone
            ) { request, _ in answer(request) }
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


import Testing
import VigilConfig

@testable import Daemon

@Suite("vrrp_track_process matching")
struct ProcessTableTests {
    let table = ProcessTable(entries: [
        .init(name: "nginx", arguments: ["nginx: master process /usr/sbin/nginx"]),
        .init(name: "haproxy", arguments: ["/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg", "-Ws"]),
        .init(name: "haproxy", arguments: ["/usr/sbin/haproxy", "-f", "/etc/haproxy/other.cfg"]),
        .init(name: "a-very-long-pro", arguments: ["/opt/bin/a-very-long-process-name"]),
    ])

    func tracked(
        _ process: String, _ parameters: [String] = [], match: TrackProcess.ParameterMatch = .exact
    )
        -> TrackProcess
    {
        var tracked = TrackProcess(name: "p", location: SourceLocation(file: "k.conf", line: 1))
        tracked.process = process
        tracked.parameters = parameters
        tracked.parameterMatch = match
        return tracked
    }

    @Test("By name: the kernel's 15-character comm, or the program's base name")
    func names() {
        #expect(table.count(matching: tracked("nginx")) == 1)
        #expect(table.count(matching: tracked("haproxy")) == 2)
        #expect(table.count(matching: tracked("a-very-long-process-name")) == 1)
        #expect(table.count(matching: tracked("apache2")) == 0)
        #expect(table.count(matching: tracked("/usr/sbin/haproxy")) == 2)
    }

    @Test("Parameters: exact, initial and partial")
    func parameters() {
        #expect(table.count(matching: tracked("haproxy", ["-f", "/etc/haproxy/other.cfg"])) == 1)
        #expect(table.count(matching: tracked("haproxy", ["-f"])) == 0)
        #expect(table.count(matching: tracked("haproxy", ["-f"], match: .initial)) == 2)
        #expect(table.count(matching: tracked("haproxy", ["-Ws"], match: .partial)) == 1)
    }
}

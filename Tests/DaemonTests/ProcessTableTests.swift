import Testing
import VigilConfig

@testable import Daemon

/// keepalived 2.2.7's matching of `vrrp_track_process`, read from the same configuration lines.
@Suite("vrrp_track_process matching")
struct ProcessTableTests {
    let table = ProcessTable(entries: [
        .init(pid: 10, name: "nginx", arguments: ["nginx: master process /usr/sbin/nginx"]),
        .init(pid: 11, name: "haproxy", arguments: ["/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg", "-Ws"]),
        .init(pid: 12, name: "haproxy", arguments: ["/usr/sbin/haproxy", "-f", "/etc/haproxy/other.cfg"]),
        .init(pid: 13, name: "a-very-long-pro", arguments: ["/opt/bin/a-very-long-process-name"]),
        .init(pid: 14, name: "sleep", arguments: ["sleep"]),
    ])

    /// The tracked process a `vrrp_track_process` block with these lines gives.
    func tracked(_ lines: String) -> TrackProcess {
        let text = "vrrp_track_process p {\n\(lines)\n}\n"
        return ConfigLoader.load(text: text, options: ConfigLoader.Options(configID: "t")).configuration.trackProcesses[0]
    }

    @Test("By name: the kernel's 15-character comm, compared whole; with full_command, the program as started")
    func names() {
        #expect(table.count(matching: tracked("process nginx")) == 1)
        #expect(table.count(matching: tracked("process haproxy")) == 2)
        #expect(table.count(matching: tracked("process a-very-long-process-name")) == 0, "longer than comm")
        #expect(table.count(matching: tracked("process a-very-long-pro")) == 1)
        #expect(table.count(matching: tracked("process apache2")) == 0)
        #expect(table.count(matching: tracked("process /usr/sbin/haproxy")) == 0, "comm is not a path")
        #expect(table.count(matching: tracked("process /usr/sbin/haproxy\nfull_command")) == 2)
    }

    @Test("Parameters: exact by default, partial (the written ones first, whole), initial (the last may be cut)")
    func parameters() {
        #expect(table.count(matching: tracked("process /usr/sbin/haproxy -f /etc/haproxy/other.cfg")) == 1)
        #expect(table.count(matching: tracked("process /usr/sbin/haproxy -f")) == 0)
        #expect(table.count(matching: tracked("process /usr/sbin/haproxy -f\nparam_match partial")) == 2)
        #expect(table.count(matching: tracked("process /usr/sbin/haproxy -f /etc/haproxy/h\nparam_match partial")) == 0)
        #expect(table.count(matching: tracked("process /usr/sbin/haproxy -f /etc/haproxy/h\nparam_match initial")) == 1)
        #expect(table.count(matching: tracked("process sleep\nparam_match")) == 1, "exact with none written: none")
        #expect(table.count(matching: tracked("process /usr/sbin/haproxy\nparam_match")) == 0)
    }
}

import Foundation
import NetworkLab

struct CheckerResult: Codable {
    /// "vigil" or "haproxy".
    var implementation: String
    var kind: String
    var servers: Int
    var seconds: Double
    var checksPerSecond: Double
    var cpuSeconds: Double
    var cpuSecondsPer1000Checks: Double
    var residentMiB: Double
    var processes: Int
}

/// Health checks at scale: `count` real servers (addresses of one namespace, answered by nginx) checked every
/// second by Vigil's checker, then by HAProxy's health checks, with TCP connects or HTTP GETs. Checks are counted
/// where they arrive (an nftables counter of SYNs in the servers' namespace); CPU and memory are those of every
/// process of the checker, from /proc.
func measureCheckers(kind: String, count: Int, seconds: Int, vigil: String) throws -> [CheckerResult] {
    var results = [CheckerResult]()
    for implementation in ["vigil", "haproxy"] {
        let lab = try Lab("chk")
        defer { lab.close() }
        let balancer = try lab.namespace("lb")
        let servers = try lab.namespace("rs")
        try lab.veth("eth0", in: balancer, peer: "eth0", in: servers)
        try lab.run(balancer, ["ip", "addr", "add", "198.18.0.1/15", "dev", "eth0"])
        var batch = ""
        let addresses = (0..<count).map { "198.18.\(1 + $0 / 250).\(1 + $0 % 250)" }
        for address in addresses { batch += "addr add \(address)/15 dev eth0\n" }
        let batchFile = try lab.write("addresses.batch", batch)
        try lab.run(servers, ["ip", "-batch", batchFile])
        try lab.run(
            servers,
            [
                "nft",
                "add table inet bench; add chain inet bench input { type filter hook input priority 0; }; add rule inet bench input tcp dport 80 tcp flags syn counter",
            ])
        let nginxConfig = try lab.write(
            "nginx.conf",
            """
            worker_processes 1;
            pid \(lab.path("nginx.pid"));
            error_log \(lab.path("nginx-error.log"));
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path \(lab.path("nginx-tmp"));
                server {
                    listen 80 backlog=4096;
                    location / { return 200 "ok\\n"; }
                }
            }
            """)
        _ = try lab.start(servers, ["nginx", "-c", nginxConfig, "-g", "daemon off;"], log: "nginx")
        sleep(1)
        let process: BackgroundProcess
        if implementation == "vigil" {
            let checker =
                kind == "TCP"
                ? "TCP_CHECK {\n            connect_timeout 2\n        }"
                : "HTTP_GET {\n            url {\n                path /\n                status_code 200\n            }\n            connect_timeout 2\n        }"
            var config = "virtual_server 203.0.113.100 80 {\n    delay_loop 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n"
            for address in addresses { config += "    real_server \(address) 80 {\n        \(checker)\n    }\n" }
            config += "}\n"
            let path = try lab.write("vigil.conf", config)
            let runtime = lab.path("run")
            try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
            process = try lab.start(
                balancer, [vigil, "-n", "-l", "-f", path, "--runtime-dir", runtime], log: "vigil")
        } else {
            var config = """
                global
                    maxconn 8192
                defaults
                    mode \(kind == "TCP" ? "tcp" : "http")
                    timeout connect 2s
                    timeout client 5s
                    timeout server 5s
                    timeout check 2s
                frontend web
                    bind 203.0.113.100:80
                    default_backend pool
                backend pool
                    balance roundrobin

                """
            if kind == "HTTP" { config += "    option httpchk GET /\n    http-check expect status 200\n" }
            for (index, address) in addresses.enumerated() {
                config += "    server s\(index) \(address):80 check inter 1s\n"
            }
            let path = try lab.write("haproxy.cfg", config)
            try lab.run(balancer, ["ip", "addr", "add", "203.0.113.100/32", "dev", "lo"])
            process = try lab.start(balancer, ["haproxy", "-W", "-db", "-f", path], log: "haproxy")
        }
        // Warm-up: both spread their first checks over about one interval.
        sleep(5)
        func syns() -> Double {
            let output = (try? lab.run(servers, ["nft", "list", "table", "inet", "bench"]).output) ?? ""
            guard let range = output.range(of: "packets ") else { return 0 }
            return Double(output[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }
        let pids = ((try? Command.run(["ip", "netns", "pids", balancer]).output) ?? "").split(separator: "\n")
            .compactMap { Int32($0) }
        let synsBefore = syns()
        let cpuBefore = pids.map(ProcessCost.cpuSeconds).reduce(0, +)
        let start = epochNow()
        sleep(UInt32(seconds))
        let elapsed = epochNow() - start
        let cpu = pids.map(ProcessCost.cpuSeconds).reduce(0, +) - cpuBefore
        let checks = syns() - synsBefore
        let resident = pids.map(ProcessCost.residentKiB).reduce(0, +)
        guard process.isRunning else {
            throw CommandError(arguments: [implementation], reason: "stopped during the measurement: \(process.log)")
        }
        results.append(
            CheckerResult(
                implementation: implementation, kind: kind, servers: count, seconds: elapsed,
                checksPerSecond: checks / elapsed, cpuSeconds: cpu,
                cpuSecondsPer1000Checks: checks > 0 ? cpu / (checks / 1000) : .nan,
                residentMiB: Double(resident) / 1024, processes: pids.count))
    }
    return results
}

/// The same measurement in the VM lab, where the kernel has IPVS and keepalived's checker runs: Vigil (the static
/// binary, as the package ships it), keepalived 2.2.7 and HAProxy, alternating in one boot (bench/vm-checkers.sh).
/// The VM's CPU is emulated when the host's KVM cannot boot it, so CPU seconds compare the three with each other
/// only, not with the host's table.
func measureCheckersInVM(count: Int, seconds: Int, staticVigil: String?) throws -> [CheckerResult] {
    var arguments = ["scripts/vm-run", "--file", "bench/vm-checkers.sh", "--timeout", "900"]
    if let staticVigil { arguments += ["--vigil", staticVigil] }
    arguments += ["--", "sh", "/tmp/in/vm-checkers.sh", String(count), String(seconds)]
    let run = try Command.run(arguments)
    let results = (run.output + run.error).split(separator: "\n").compactMap { line -> CheckerResult? in
        let fields = line.split(separator: " ")
        guard fields.count == 7, fields[0] == "CHECKERS", let rate = Double(fields[3]), let cost = Double(fields[4]),
            let resident = Double(fields[5]), let processes = Int(fields[6])
        else { return nil }
        return CheckerResult(
            implementation: String(fields[1]), kind: String(fields[2]), servers: count, seconds: Double(seconds),
            checksPerSecond: rate, cpuSeconds: cost * rate * Double(seconds) / 1000,
            cpuSecondsPer1000Checks: cost < 0 ? .nan : cost, residentMiB: resident, processes: processes)
    }
    guard results.count == 6 else {
        throw CommandError(arguments: arguments, reason: "expected six CHECKERS lines: \(run.output.suffix(2000))")
    }
    return results
}

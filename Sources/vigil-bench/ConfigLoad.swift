import Foundation
import NetworkLab

struct ConfigLoadResult: Codable {
    var file: String
    var lines: Int
    var keepalivedMs: Double
    var vigilMs: Double
    var vigilInProcessMs: Double
    /// Peak resident memory of the `-t` process (the largest of its processes), KiB, median of the runs.
    var keepalivedPeakKiB: Double? = nil
    var vigilPeakKiB: Double? = nil
}

/// Parse + validate time of `keepalived -t` and `vigil -t` on generated large files, median of `runs`, in a
/// namespace holding the interfaces the files name.
func measureConfigLoad(runs: Int, vigil: String, generator: String) throws -> [ConfigLoadResult] {
    let lab = try BenchLab(scale: "config", interfaces: 2, vigil: vigil)
    defer { lab.close() }
    let namespace = lab.nodes["n1"]!
    var results = [ConfigLoadResult]()
    for (kind, count, name) in [
        ("real-servers", 1000, "rs-1000"), ("real-servers", 10000, "rs-10000"), ("instances", 500, "vrrp-500"),
    ] {
        let path = lab.lab.path("\(name).conf")
        try Command.run(["/usr/bin/python3", generator, kind, String(count), path])
        let lines = (try String(contentsOfFile: path, encoding: .utf8)).split(
            separator: "\n", omittingEmptySubsequences: false
        ).count
        func median(_ arguments: [String]) -> Double {
            var times = [Double]()
            for _ in 0..<runs {
                let start = epochNow()
                _ = try? lab.lab.run(namespace, arguments, check: false)
                times.append((epochNow() - start) * 1000)
            }
            return times.median
        }
        /// The peak RSS of a run: the kernel's ru_maxrss of the children of a fresh parent that only waits.
        func peak(_ arguments: [String]) -> Double? {
            var peaks = [Double]()
            for _ in 0..<runs {
                let script =
                    "import resource, subprocess, sys\nsubprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\nprint(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
                let output = try? lab.lab.run(namespace, ["/usr/bin/python3", "-c", script] + arguments, check: false)
                if let value = output.flatMap({ Double($0.output.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
                    peaks.append(value)
                }
            }
            return peaks.isEmpty ? nil : peaks.median
        }
        let keepalivedArguments = [
            "keepalived", "-t", "-f", path, "-p", lab.lab.path("k.pid"), "-r", lab.lab.path("v.pid"), "-c",
            lab.lab.path("c.pid"),
        ]
        let keepalived = median(keepalivedArguments)
        let vigilTime = median([vigil, "-t", "-f", path])
        let inProcess =
            try lab.lab.run(namespace, [vigil, "config", "time", "-f", path, "--repeat", String(runs)], check: false)
            .output.split(separator: " ").first.flatMap { Double($0) } ?? .nan
        let keepalivedPeak = peak(keepalivedArguments)
        let vigilPeak = peak([vigil, "-t", "-f", path])
        results.append(
            ConfigLoadResult(
                file: name, lines: lines, keepalivedMs: keepalived, vigilMs: vigilTime, vigilInProcessMs: inProcess,
                keepalivedPeakKiB: keepalivedPeak, vigilPeakKiB: vigilPeak))
        log(
            "config \(name): keepalived \(keepalived) ms \(keepalivedPeak ?? .nan) KiB, vigil \(vigilTime) ms \(vigilPeak ?? .nan) KiB (in-process \(inProcess) ms)"
        )
    }
    return results
}

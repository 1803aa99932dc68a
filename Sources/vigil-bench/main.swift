import ArgumentParser
import Foundation
import NetworkLab

/// `vigil-bench`: Vigil beside keepalived in the same lab, alternating, measured from outside.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-bench",
        abstract: "Measure Vigil beside keepalived 2.2.7: takeover, advert timing, idle cost, start-up, config load.")

    @Option(
        help:
            "Sections to run, comma-separated: takeover, jitter, scale, curve, startup, config, flood, checkers, checkers-vm, tracking, bfd, loss, stress (loss, stress and curve are not in the default run: loss takes --loss-seconds, stress --stress-seconds, curve about 20 minutes)."
    )
    var only = "takeover,jitter,scale,startup,config,flood,checkers,checkers-vm,tracking,bfd"

    @Option(help: "Seconds the advert-loss measurement lasts (both implementations at once).")
    var lossSeconds = 300

    @Option(help: "Seconds the advert_int 0.01 run under full CPU load lasts (every variant at once).")
    var stressSeconds = 600

    @Option(help: "Takeover trials per mode and implementation.")
    var trials = 20

    @Option(help: "Seconds each idle-cost and jitter measurement lasts.")
    var window = 30

    @Option(help: "Rounds of the idle-cost and start-up measurements (the implementations alternate).")
    var rounds = 4

    @Option(help: "The vigil binary to measure (a release build).")
    var vigil = ".build/release/vigil"

    @Option(help: "The static vigil binary for the VM lab (checkers-vm); built by scripts/vm-run when not given.")
    var staticVigil: String?

    @Option(help: "Where the report goes.")
    var output = "bench/results"

    func run() throws {
        guard getuid() == 0 else { throw ValidationError("vigil-bench needs root (network namespaces)") }
        let vigil = URL(fileURLWithPath: self.vigil).standardizedFileURL.path
        guard FileManager.default.isExecutableFile(atPath: vigil) else {
            throw ValidationError("no vigil binary at \(vigil); build it: swift build -c release --product vigil")
        }
        let sections = Set(only.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        let stamp = ISO8601DateFormatter().string(from: Date())
        let day = String(stamp.prefix(10))
        var report = BenchReport(
            date: stamp, command: CommandLine.arguments.joined(separator: " "), machine: machineDescription(),
            // `vigil -v`, as keepalived's, answers on standard error.
            vigilVersion: (try? Command.run([vigil, "--version"], check: false)).map {
                ($0.output + $0.error).split(separator: "\n").first.map(String.init) ?? "?"
            } ?? "?",
            keepalivedVersion: ((try? Command.run(["keepalived", "-v"], check: false))?.error.split(separator: "\n")
                .first).map(String.init) ?? "?")
        if sections.contains("config") {
            log("config load")
            report.configLoad = try measureConfigLoad(runs: 5, vigil: vigil, generator: "bench/generate-config.py")
        }
        if sections.contains("takeover") {
            for (interval, version, count) in [("1", 2, trials), ("0.1", 3, trials), ("0.05", 3, trials)] {
                for implementation in Implementation.allCases {
                    log("takeover \(implementation) v\(version) \(interval) x\(count)")
                    report.takeover.append(
                        try measureTakeover(
                            implementation, interval: interval, version: version, trials: count, vigil: vigil))
                }
            }
        }
        if sections.contains("jitter") {
            // Three alternating rounds per load: one disturbance of the machine must not decide the comparison.
            let rounds = 3
            let seconds = max(5, window / 2)
            for busy in [false, true] {
                var gaps = [Implementation: [[Double]]]()
                for round in 1...rounds {
                    for implementation in Implementation.allCases {
                        log("jitter \(implementation) \(busy ? "busy" : "idle") round \(round)/\(rounds)")
                        gaps[implementation, default: []].append(
                            try measureJitterGaps(implementation, busy: busy, seconds: seconds, vigil: vigil))
                    }
                }
                for implementation in Implementation.allCases {
                    report.jitter.append(
                        JitterResult(implementation, busy: busy, interval: 0.05, rounds: gaps[implementation] ?? []))
                }
            }
        }
        if sections.contains("flood") {
            // keepalived twice: as configured by default (normal priority, as the flooder), and with its own
            // real-time option, which Vigil uses by default.
            for (implementation, global) in [
                (Implementation.vigil, ""), (.keepalived, ""), (.keepalived, "vrrp_rt_priority 1"),
            ] {
                log("flood \(implementation) \(global) 50000 per second")
                report.flood.append(
                    try measureFlood(implementation, rate: 50_000, seconds: 10, vigil: vigil, global: global))
            }
        }
        if sections.contains("checkers") {
            for kind in ["TCP", "HTTP"] {
                log("checkers: 1000 real servers, \(kind), Vigil then HAProxy")
                report.checkers += try measureCheckers(kind: kind, count: 1000, seconds: window, vigil: vigil)
            }
        }
        if sections.contains("checkers-vm") {
            log("checkers in the VM lab: 1000 real servers, TCP and HTTP, Vigil, keepalived and HAProxy")
            report.checkersVM = try measureCheckersInVM(count: 1000, seconds: window, staticVigil: staticVigil)
        }
        if sections.contains("tracking") {
            for implementation in Implementation.allCases {
                log("tracking \(implementation): file writes, process exits and starts")
                report.tracking += try measureTracking(implementation, trials: 10, vigil: vigil)
            }
        }
        if sections.contains("bfd") {
            // keepalived's smallest interval (1 ms) and FRR's (10 ms), multiplier 3; the implementations alternate.
            for interval in ["1", "10"] {
                for implementation in Implementation.allCases {
                    log("bfd \(implementation) \(interval) ms x 3, peer keepalived's BFD, \(max(5, trials / 2)) kills")
                    report.bfd.append(
                        try measureBFD(
                            implementation, interval: interval, multiplier: 3, trials: max(5, trials / 2), vigil: vigil))
                }
            }
        }
        if sections.contains("stress") {
            log("advert_int 0.01 under full CPU load for \(stressSeconds) s, every variant at once")
            report.stress = try measureStress(seconds: stressSeconds, vigil: vigil)
        }
        if sections.contains("loss") {
            log("loss 20% for \(lossSeconds) s, both implementations at once")
            report.loss = try measureLoss(seconds: lossSeconds, percent: 20, vigil: vigil)
        }
        if sections.contains("scale") {
            for (count, interval, version) in [(1, "1", 2), (100, "1", 2), (500, "1", 2), (100, "0.1", 3), (500, "0.1", 3)] {
                report.scale += try measureScale(
                    count: count, interval: interval, version: version, window: window, rounds: rounds, vigil: vigil,
                    log: log)
            }
        }
        if sections.contains("curve") {
            // The scaling curve: 1 to 1,000 IPv6 VRRPv3 masters at advert_int 1, two rounds each (the per-instance
            // slope is what matters, and the end points have four rounds in `scale`).
            for count in [1, 10, 100, 250, 500, 750, 1000] {
                report.curve += try measureScale(
                    count: count, interval: "1", version: 3, window: min(window, 20), rounds: min(rounds, 2),
                    vigil: vigil, curve: true, log: log)
            }
        }
        if sections.contains("startup") {
            for count in [1, 500] {
                var results = [Implementation: StartupResult]()
                for round in 1...rounds {
                    let order = round % 2 == 1 ? Implementation.allCases : Implementation.allCases.reversed()
                    for implementation in order {
                        log("startup \(implementation) \(count) round \(round)/\(rounds)")
                        let one = try measureStartup(implementation, count: count, vigil: vigil)
                        if var result = results[implementation] {
                            result.firstAdvert += one.firstAdvert
                            result.allAdverts += one.allAdverts
                            result.allAddresses += one.allAddresses
                            results[implementation] = result
                        } else {
                            results[implementation] = one
                        }
                    }
                }
                report.startup += Implementation.allCases.compactMap { results[$0] }
            }
        }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        // A report never replaces another: a second run on the same day gets a name of its own.
        var name = day
        var suffix = 1
        while FileManager.default.fileExists(atPath: "\(output)/\(name).md") {
            suffix += 1
            name = "\(day)-\(suffix)"
        }
        let markdown = report.markdown()
        try markdown.write(toFile: "\(output)/\(name).md", atomically: true, encoding: .utf8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // A measurement with nothing to measure (no adverts during a flood) is NaN; JSON has no NaN.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(report).write(to: URL(fileURLWithPath: "\(output)/\(name).json"))
        var plots = [String]()
        if !report.takeover.isEmpty {
            _ = try? Command.run([
                "/usr/bin/python3", "bench/plot.py", "\(output)/\(name).json", "\(output)/\(name)-takeover.png",
            ])
            plots.append("-takeover.png")
        }
        if !report.curve.isEmpty {
            _ = try? Command.run([
                "/usr/bin/python3", "bench/plot-curve.py", "\(output)/\(name).json", "\(output)/\(name)-curve.png",
            ])
            plots.append("-curve.png")
        }
        print(markdown)
        log("report: \(output)/\(name).md, .json" + plots.map { ", \($0)" }.joined())
    }

    func machineDescription() -> String {
        let kernel = (try? Command.run(["uname", "-r"]).output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? "?"
        let cpu =
            (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
            .first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces)
            ?? "?"
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), Linux \(kernel)"
    }
}

Bench.main()

import Foundation

/// Everything one run measured.
struct BenchReport: Codable {
    var date: String
    var command: String
    var machine: String
    var vigilVersion: String
    var keepalivedVersion: String
    var takeover: [TakeoverSeries] = []
    var jitter: [JitterResult] = []
    var flood: [FloodResult] = []
    var loss: [LossResult] = []
    var stress: [StressResult] = []
    var checkers: [CheckerResult] = []
    var checkersVM: [CheckerResult] = []
    var scale: [ScaleResult] = []
    var curve: [ScaleResult] = []
    var startup: [StartupResult] = []
    var configLoad: [ConfigLoadResult] = []
    var tracking: [TrackingResult] = []
    var bfd: [BFDResult] = []

    func markdown() -> String {
        var out = "# Vigil beside keepalived 2.2.7: \(date)\n\n"
        out +=
            "Command: `\(command)`  \nMachine: \(machine)  \nVigil: \(vigilVersion)  \nkeepalived: \(keepalivedVersion)\n\n"
        out +=
            "Everything is read from outside the daemons: the wire (tshark on the lab bridge), the kernel (`ip -ts monitor`), /proc. Both implementations run the same keepalived.conf in the same lab, alternating.\n\n"
        if !takeover.isEmpty {
            out += "## Takeover after kill -9 of the master\n\n"
            out +=
                "Backup priority 100, master 150; the master is killed at phases spread evenly over its advert cycle, the same for both implementations. *Kill to VIP*: until the address appears in the backup's kernel. *Kill to GARP*: until the backup's first gratuitous ARP on the wire. *Overhead*: from the old master's last advert to the new master's first advert, or to the VIP in its kernel, minus Master_Down_Interval: the part an implementation controls. Kill to VIP also holds where the kill fell in the master's advert cycle: the same phases for both, but measured from the master's start, so a few milliseconds either way from run to run.\n\n"
            out +=
                "| mode | implementation | trials | kill to VIP median / p95 / max (s) | kill to GARP median / p95 / max (s) | overhead to advert median / max (ms) | overhead to VIP median / max (ms) |\n"
            out += "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n"
            for series in takeover {
                let vip = series.trials.compactMap(\.killToAddress)
                let garp = series.trials.compactMap(\.killToAnnouncement)
                let overhead = series.trials.compactMap(\.protocolOverhead).map { $0 * 1000 }
                let toAddress = series.trials.compactMap(\.addressOverhead).map { $0 * 1000 }
                out +=
                    "| \(series.mode) | \(series.implementation) | \(series.trials.count) | \(f3(vip.median)) / \(f3(vip.percentile(95))) / \(f3(vip.max())) | \(f3(garp.median)) / \(f3(garp.percentile(95))) / \(f3(garp.max())) | \(f3(overhead.median)) / \(f3(overhead.max())) | \(f3(toAddress.median)) / \(f3(toAddress.max())) |\n"
            }
            out += "\n"
        }
        if !jitter.isEmpty {
            out +=
                "## Advert timing at advert_int 0.05\n\nThe gaps between a master's adverts on the wire, from alternating rounds pooled per implementation; deviations are from the 50 ms interval.\n\n| implementation | load | rounds | adverts | gap std dev (ms) | p99 deviation (ms) | worst deviation (ms) |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n"
            for result in jitter {
                out +=
                    "| \(result.implementation) | \(result.load) | \(result.rounds) | \(result.adverts) | \(f2(result.gapStandardDeviationMs)) | \(f2(result.p99DeviationMs)) | \(f2(result.worstDeviationMs)) |\n"
            }
            out += "\n"
        }
        if !flood.isEmpty {
            out +=
                "## Under a flood of adverts\n\nA third host sends VRRP adverts (VRID of the pair, priority 254, wrong password) to 224.0.0.18; a master and a backup at advert_int 1 receive them. CPU is that of every process of both daemons during the flood. The flooder shares the two cores at normal priority; Vigil's VRRP loop runs at SCHED_RR 1 by default, keepalived at normal priority unless `vrrp_rt_priority` is set (its own row).\n\n| implementation | flood (packets/s) | seconds | CPU s (both nodes) | master adverts | worst gap deviation (ms) | backup took over | daemon processes gone |\n| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |\n"
            for result in flood {
                out +=
                    "| \(result.implementation)\(result.variant.isEmpty ? "" : " (`\(result.variant)`)") | \(Int(result.packetsPerSecond)) | \(f1(result.seconds)) | \(f2(result.cpuSeconds)) | \(result.adverts) | \(f1(result.worstGapDeviationMs)) | \(result.backupBecameMaster ? "yes" : "no") | \(result.processesLost) |\n"
            }
            out += "\n"
        }
        if !checkers.isEmpty {
            out +=
                "## Health checks: 1,000 real servers every second, beside HAProxy 2.6\n\nkeepalived's checker exits at start on a kernel without IPVS, so HAProxy's health checks are the peer here (the same 1,000 addresses, `inter 1s`). Checks are counted where they arrive (SYNs in the servers' namespace); CPU and RSS are every process of the checker's namespace.\n\n| checks | implementation | checks/s | CPU s per 1,000 checks | RSS (MiB) | processes |\n| --- | --- | ---: | ---: | ---: | ---: |\n"
            for result in checkers {
                out +=
                    "| \(result.kind) | \(result.implementation) | \(f1(result.checksPerSecond)) | \(f3(result.cpuSecondsPer1000Checks)) | \(f1(result.residentMiB)) | \(result.processes) |\n"
            }
            out += "\n"
        }
        if !checkersVM.isEmpty {
            out +=
                "## Health checks in the VM lab: 1,000 real servers every second, beside keepalived 2.2.7 and HAProxy 2.6\n\nThe VM lab's kernel has IPVS, so keepalived's checker runs: the same keepalived.conf for Vigil (the static binary the package ships) and keepalived, the same 1,000 addresses for HAProxy (`inter 1s`), alternating in one boot of the VM (`bench/vm-checkers.sh`). keepalived runs as packaged, with `-C` (checker only). The VM's CPU is emulated (TCG) when the host's KVM cannot boot it, which inflates every CPU figure alike: compare the three with each other, not with the table above.\n\n| checks | implementation | checks/s | CPU s per 1,000 checks | RSS (MiB) | processes |\n| --- | --- | ---: | ---: | ---: | ---: |\n"
            for result in checkersVM {
                out +=
                    "| \(result.kind) | \(result.implementation) | \(f1(result.checksPerSecond)) | \(f3(result.cpuSecondsPer1000Checks)) | \(f1(result.residentMiB)) | \(result.processes) |\n"
            }
            out += "\n"
        }
        if !loss.isEmpty {
            out +=
                "## Spurious takeovers under advert loss\n\nThe backup's kernel drops a random share of the VRRP packets it receives (nftables numgen); both implementations run at the same time in two labs. Predicted: three adverts lost in a row let Master_Down_Interval expire, (1 - p) p^3 per advert.\n\n| implementation | loss | seconds | spurious takeovers | predicted |\n| --- | ---: | ---: | ---: | ---: |\n"
            for result in loss {
                out +=
                    "| \(result.implementation) | \(result.lossPercent)% | \(result.seconds) | \(result.spuriousTakeovers) | \(f1(result.predicted)) |\n"
            }
            out += "\n"
        }
        if !stress.isEmpty {
            out +=
                "## advert_int 0.01 under full CPU load\n\nA master (priority 150) and a backup (100) at VRRPv3 `advert_int 0.01` (Master_Down_Interval 36.1 ms) while \(stress[0].hogs) busy loops (`sh -c 'while :; do :; done'`, two per CPU, normal priority) keep both CPUs full for \(stress[0].seconds) s. Every row runs at the same time, each pair in a lab of its own, so that all see the same load. Settings: both daemons `-l` (console log), the same keepalived.conf; Vigil's defaults (its VRRP loop at SCHED_RR 1); keepalived's defaults (normal priority), and keepalived again with its documented remedy for a busy host, `vrrp_rt_priority 1` (with its default `vrrp_rlimit_rttime` 10 ms). A spurious takeover is the VIP added on the backup (`ip monitor address`); the gaps are the master's, on the wire.\n\n| implementation | global_defs | spurious takeovers | backup adverts | master adverts | longest master gap (ms) | gaps over 20 ms | load average |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            for result in stress {
                out +=
                    "| \(result.implementation) | \(result.variant.isEmpty ? "(defaults)" : "`\(result.variant)`") | \(result.spuriousTakeovers) | \(result.backupAdverts) | \(result.masterAdverts) | \(f1(result.longestGapMs)) | \(result.gapsOverTwoIntervals) | \(f1(result.loadAverage)) |\n"
            }
            out += "\n"
        }
        if !scale.isEmpty {
            let window = scale.first?.windowSeconds ?? 0
            let rounds = scale.first?.cpuSecondsPerMinute.count ?? 0
            out +=
                "## Idle cost at scale (all instances MASTER)\n\nSettings: each daemon started `-n -G` (in the foreground, logging nowhere: neither pays for a console or syslog), every instance `state MASTER` with priority 255 on one or two veths, no other global settings (keepalived's documented defaults; Vigil's defaults, SCHED_RR for the VRRP loop, keepalived's own `vrrp_rt_priority` left unset as its documentation leaves it). \(rounds) rounds, the implementations alternating and swapping who goes first; each round a fresh namespace, 3 s after every VIP is up, then \(window) s. CPU is every thread's scheduler time (`/proc/PID/task/*/schedstat`, nanoseconds) of every process of the implementation, per minute of wall time. Memory is the sum of their VmRSS (pages two processes share count twice) and of their PSS (shared pages split between the sharers: what they cost the machine). Median, with the minimum and maximum of the rounds.\n\n| instances | mode | implementation | processes | CPU s per minute, median (min-max) | RSS MiB, median (min-max) | PSS MiB, median (min-max) |\n| ---: | --- | --- | ---: | ---: | ---: | ---: |\n"
            func spread(_ values: [Double], _ digits: Int) -> String {
                "\(format(values.median, digits)) (\(format(values.min(), digits))-\(format(values.max(), digits)))"
            }
            for result in scale {
                out +=
                    "| \(result.instances) | \(result.mode) | \(result.implementation) | \(result.processes) | \(spread(result.cpuSecondsPerMinute, 3)) | \(spread(result.residentMiB, 1)) | \(spread(result.proportionalMiB, 1)) |\n"
            }
            out += "\n"
        }
        if !curve.isEmpty {
            out += curveMarkdown()
        }
        if !startup.isEmpty {
            out +=
                "## Start-up: exec to adverts on the wire (address owners, advert_int 1)\n\nBoth started `-n -G`; rounds alternate the implementations. Median (min-max) of the rounds; '-' where not every instance advertised (or not every address arrived) within the capture. Addresses: the kernel's, from `ip -ts monitor address` in the namespace.\n\n| instances | implementation | rounds | first advert (s) | every instance advertised (s) | every address in the kernel (s) |\n| ---: | --- | ---: | ---: | ---: | ---: |\n"
            func spread(_ values: [Double?]) -> String {
                let present = values.compactMap { $0 }
                guard present.count == values.count, !present.isEmpty else { return "-" }
                return "\(f3(present.median)) (\(f3(present.min()))-\(f3(present.max())))"
            }
            for result in startup {
                out +=
                    "| \(result.instances) | \(result.implementation) | \(result.firstAdvert.count) | \(spread(result.firstAdvert)) | \(spread(result.allAdverts)) | \(spread(result.allAddresses)) |\n"
            }
            out += "\n"
        }
        if !configLoad.isEmpty {
            out +=
                "## Config load: parse and validate (`-t`, median wall time and peak memory)\n\nPeak: the largest resident set of the `-t` run's processes (ru_maxrss, read by a parent that only waits), median of the runs.\n\n| file | lines | keepalived -t (ms) | vigil -t (ms) | vigil in-process (ms) | keepalived -t peak (MiB) | vigil -t peak (MiB) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            for result in configLoad {
                let peaks = [result.keepalivedPeakKiB, result.vigilPeakKiB].map { $0.map { f1($0 / 1024) } ?? "-" }
                out +=
                    "| \(result.file) | \(result.lines) | \(f1(result.keepalivedMs)) | \(f1(result.vigilMs)) | \(f1(result.vigilInProcessMs)) | \(peaks[0]) | \(peaks[1]) |\n"
            }
            out += "\n"
        }
        if !tracking.isEmpty {
            out +=
                "## Tracked file and process to the new priority on the wire\n\nA master (priority 150, advert_int 1) tracks a file and a process with weight 0: writing 1 to the file, or killing the process, puts it in FAULT, and it resigns with a priority-0 advert at once, whatever the phase of its advert cycle (with a weight the new priority waits for the next advert, which both implementations show alike). Both daemons are started in the host's network namespace with `net_namespace`, keepalived's way of receiving the kernel's process events; each uses inotify and process events. Time from the change to the priority-0 advert on the wire.\n\n| change | implementation | changes | seen on the wire | median (ms) | p95 (ms) | max (ms) |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n"
            for result in tracking {
                let seen = result.latencies.compactMap { $0 }.map { $0 * 1000 }
                out +=
                    "| \(result.change) | \(result.implementation) | \(result.latencies.count) | \(seen.count) | \(f1(seen.median)) | \(f1(seen.percentile(95))) | \(f1(seen.max())) |\n"
            }
            out += "\n"
        }
        if !bfd.isEmpty {
            out +=
                "## BFD detection beside keepalived\n\nThe measured implementation on n1 runs one `bfd_instance` (`min_rx` = `min_tx` = the interval, `multiplier 3`, both started `-n -l`, each at its defaults otherwise: Vigil's BFD process at SCHED_RR 1, keepalived's at normal priority as its documentation leaves `bfd_rt_priority` unset) with keepalived 2.2.7's BFD process on n2, the same peer for both. The peer is killed (SIGKILL) after 2 s Up, at phases spread over the interval; detection is read on the wire, from the peer's last packet to n1's first packet saying Down with diagnostic 1 (Control Detection Time Expired): the detection time plus the wait for n1's next transmission. *Spurious*: n1 declared the session down while the peer ran.\n\n| interval × multiplier | detection time | implementation | kills | seen on the wire | median (ms) | max (ms) | spurious downs | seconds |\n| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            for result in bfd {
                let seen = result.detections.compactMap { $0 }
                out +=
                    "| \(format(result.intervalMs, 0)) ms × \(result.multiplier) | \(format(result.detectionTimeMs, 0)) ms | \(result.implementation) | \(result.detections.count) | \(seen.count) | \(f1(seen.median)) | \(f1(seen.max())) | \(result.spuriousDowns) | \(format(result.seconds, 0)) |\n"
            }
            out += "\n"
        }
        out += targets()
        return out
    }

    /// The scaling curve: medians per count, and the cost of each instance beyond the first (the slope from one
    /// instance to the largest count).
    func curveMarkdown() -> String {
        let window = curve.first?.windowSeconds ?? 0
        let rounds = curve.first?.cpuSecondsPerMinute.count ?? 0
        var out =
            "## Scaling curve: 1 to 1,000 instances\n\nSettings as for the idle cost above, but every instance VRRPv3 over IPv6 (a /128 from 2001:db8::/32; the lab's IPv4 documentation ranges hold only about 500 addresses) at advert_int 1, 250 VRIDs per veth (four veths at 1,000). \(rounds) rounds of \(window) s per point, alternating. Plot: the `-curve.png` beside this report.\n\n| instances | implementation | CPU s per minute | RSS MiB | PSS MiB |\n| ---: | --- | ---: | ---: | ---: |\n"
        for result in curve {
            out +=
                "| \(result.instances) | \(result.implementation) | \(format(result.cpuSecondsPerMinute.median, 3)) | \(f1(result.residentMiB.median)) | \(f1(result.proportionalMiB.median)) |\n"
        }
        out +=
            "\nPer instance beyond the first (from 1 to the largest count, medians):\n\n| implementation | CPU ms per minute per instance | RSS KiB per instance | PSS KiB per instance |\n| --- | ---: | ---: | ---: |\n"
        for implementation in Implementation.allCases {
            let points = curve.filter { $0.implementation == implementation }.sorted { $0.instances < $1.instances }
            guard let first = points.first, let last = points.last, last.instances > first.instances else { continue }
            let count = Double(last.instances - first.instances)
            let cpu = (last.cpuSecondsPerMinute.median - first.cpuSecondsPerMinute.median) / count * 1000
            let rss = (last.residentMiB.median - first.residentMiB.median) / count * 1024
            let pss = (last.proportionalMiB.median - first.proportionalMiB.median) / count * 1024
            out += "| \(implementation) | \(format(cpu, 3)) | \(f1(rss)) | \(f1(pss)) |\n"
        }
        return out + "\n"
    }

    func targets() -> String {
        var out = "## Targets\n\n| target | result |\n| --- | --- |\n"
        for mode in Set(takeover.map(\.mode)).sorted() {
            // Last advert to VIP, not kill to VIP: the latter also holds the kill's phase (see the section).
            let vigil = takeover.first { $0.mode == mode && $0.implementation == .vigil }?.trials.compactMap(
                \.addressOverhead
            ).median
            let keepalived = takeover.first { $0.mode == mode && $0.implementation == .keepalived }?.trials.compactMap(
                \.addressOverhead
            ).median
            if let vigil, let keepalived {
                out +=
                    "| takeover (last advert to VIP, beyond Master_Down_Interval) median no slower than keepalived's (\(mode)) | \(vigil <= keepalived ? "met" : "missed"): \(f3(vigil * 1000)) ms vs \(f3(keepalived * 1000)) ms |\n"
            }
        }
        for series in takeover where series.implementation == .vigil {
            let overhead = series.trials.compactMap(\.protocolOverhead).median * 1000
            out +=
                "| protocol overhead below 0.1 ms median (\(series.mode)) | \(overhead < 0.1 ? "met" : "missed"): \(f3(overhead)) ms |\n"
        }
        if let vigil = scale.first(where: { $0.instances == 500 && $0.implementation == .vigil }),
            let keepalived = scale.first(where: { $0.instances == 500 && $0.implementation == .keepalived })
        {
            let (vc, kc) = (vigil.cpuSecondsPerMinute.median, keepalived.cpuSecondsPerMinute.median)
            let (vr, kr) = (vigil.residentMiB.median, keepalived.residentMiB.median)
            let (vp, kp) = (vigil.proportionalMiB.median, keepalived.proportionalMiB.median)
            out +=
                "| CPU per minute at 500 instances (v2 1 s) no more than keepalived's, medians | \(vc <= kc ? "met" : "missed"): \(f3(vc)) vs \(f3(kc)) |\n"
            out +=
                "| RSS and PSS at 500 instances no more than keepalived's, medians | \(vr <= kr && vp <= kp ? "met" : "missed"): RSS \(f1(vr)) vs \(f1(kr)) MiB, PSS \(f1(vp)) vs \(f1(kp)) MiB |\n"
        }
        if let vigil = jitter.first(where: { $0.implementation == .vigil && $0.load != "idle" }),
            let keepalived = jitter.first(where: { $0.implementation == .keepalived && $0.load != "idle" })
        {
            out +=
                "| advert jitter under load no worse than keepalived's | \(vigil.gapStandardDeviationMs <= keepalived.gapStandardDeviationMs ? "met" : "missed"): σ \(f2(vigil.gapStandardDeviationMs)) ms vs \(f2(keepalived.gapStandardDeviationMs)) ms |\n"
        }
        if let largest = configLoad.max(by: { $0.lines < $1.lines }), let vigil = largest.vigilPeakKiB,
            let keepalived = largest.keepalivedPeakKiB
        {
            out +=
                "| `-t` peak memory on the largest file (\(largest.lines) lines) no more than keepalived's | \(vigil <= keepalived ? "met" : "missed"): \(f1(vigil / 1024)) vs \(f1(keepalived / 1024)) MiB |\n"
        }
        if let vigil = startup.first(where: { $0.instances == 500 && $0.implementation == .vigil }),
            let keepalived = startup.first(where: { $0.instances == 500 && $0.implementation == .keepalived })
        {
            let (v, k) = (vigil.allAdverts.compactMap { $0 }.median, keepalived.allAdverts.compactMap { $0 }.median)
            out +=
                "| start-up to every one of 500 instances advertising no slower than keepalived, medians | \(v <= k ? "met" : "missed"): \(f3(v)) vs \(f3(k)) s |\n"
            let (va, ka) = (vigil.allAddresses.compactMap { $0 }.median, keepalived.allAddresses.compactMap { $0 }.median)
            out +=
                "| start-up to every one of 500 addresses in the kernel no slower than keepalived, medians | \(va <= ka ? "met" : "missed"): \(f3(va)) vs \(f3(ka)) s |\n"
        }
        return out + "\n"
    }
}

func f1(_ value: Double?) -> String { format(value, 1) }
func f2(_ value: Double?) -> String { format(value, 2) }
func f3(_ value: Double?) -> String { format(value, 3) }
func format(_ value: Double?, _ digits: Int) -> String {
    guard let value, value.isFinite else { return "-" }
    return String(format: "%.\(digits)f", value)
}

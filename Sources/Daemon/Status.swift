import Glibc
import LinuxNet
import VRRP
import VigilConfig

/// What `vigil status` shows: one entry per instance, read on the loop when asked. The JSON form is described by
/// docs/status.schema.json.
struct StatusReport {
    struct Instance {
        var name: String
        var interface: String
        var family: String
        var virtualRouterID: Int
        var state: String
        var wantState: String
        var effectivePriority: Int
        var configuredPriority: Int
        /// The master as last heard (BACKUP), or this router (MASTER).
        var master: String?
        var masterPriority: Int?
        var virtualAddresses: [String]
        var fault: String?
        var lastTransitionSecondsAgo: Double?
        var lastTransitionTime: Int?
        var lastTransitionReason: String?
        var syncGroup: String?
        var trackers: [(kind: String, name: String, weight: Int, value: String)]
        var advertsSent: Int
        var advertsReceived: Int
        /// The last transitions, oldest first.
        var history: [Transition] = []
    }

    struct Transition {
        var secondsAgo: Double
        var unixTime: Int
        var from: String
        var to: String
        var reason: String
    }

    var version: String
    var pid: Int32
    var instances: [Instance]

    /// A JSON object per the schema: `{"vigil": ..., "pid": ..., "instances": [...]}`.
    var json: String {
        var out = "{\"vigil\":\(JSON.string(version)),\"pid\":\(pid),\"instances\":["
        out += instances.map { instance in
            var fields = [
                "\"name\":\(JSON.string(instance.name))",
                "\"interface\":\(JSON.string(instance.interface))",
                "\"family\":\(JSON.string(instance.family))",
                "\"vrid\":\(instance.virtualRouterID)",
                "\"state\":\(JSON.string(instance.state))",
                "\"want_state\":\(JSON.string(instance.wantState))",
                "\"priority\":{\"effective\":\(instance.effectivePriority),\"configured\":\(instance.configuredPriority)}",
                "\"master\":\(instance.master.map(JSON.string) ?? "null")",
                "\"master_priority\":\(instance.masterPriority.map(String.init) ?? "null")",
                "\"virtual_addresses\":[\(instance.virtualAddresses.map(JSON.string).joined(separator: ","))]",
                "\"fault\":\(instance.fault.map(JSON.string) ?? "null")",
                "\"sync_group\":\(instance.syncGroup.map(JSON.string) ?? "null")",
                "\"adverts\":{\"sent\":\(instance.advertsSent),\"received\":\(instance.advertsReceived)}",
            ]
            if let ago = instance.lastTransitionSecondsAgo, let time = instance.lastTransitionTime,
                let reason = instance.lastTransitionReason
            {
                fields.append(
                    "\"last_transition\":{\"seconds_ago\":\(JSON.number(ago)),\"unix_time\":\(time),\"reason\":\(JSON.string(reason))}"
                )
            } else {
                fields.append("\"last_transition\":null")
            }
            let trackers = instance.trackers.map {
                "{\"kind\":\(JSON.string($0.kind)),\"name\":\(JSON.string($0.name)),\"weight\":\($0.weight),\"value\":\(JSON.string($0.value))}"
            }
            fields.append("\"trackers\":[\(trackers.joined(separator: ","))]")
            let history = instance.history.map {
                "{\"seconds_ago\":\(JSON.number($0.secondsAgo)),\"unix_time\":\($0.unixTime),\"from\":\(JSON.string($0.from)),\"to\":\(JSON.string($0.to)),\"reason\":\(JSON.string($0.reason))}"
            }
            fields.append("\"history\":[\(history.joined(separator: ","))]")
            return "{" + fields.joined(separator: ",") + "}"
        }.joined(separator: ",")
        return out + "]}\n"
    }

    /// A table for people.
    var text: String {
        let header = ["INSTANCE", "INTERFACE", "VRID", "STATE", "PRIORITY", "MASTER", "VIPS", "SINCE", "WHY"]
        var rows = [header]
        for instance in instances {
            let since = instance.lastTransitionSecondsAgo.map { Self.duration($0) + " ago" } ?? "-"
            var why = instance.lastTransitionReason ?? "-"
            if let fault = instance.fault { why = "fault: \(fault)" }
            rows.append([
                instance.name, instance.interface, String(instance.virtualRouterID), instance.state,
                "\(instance.effectivePriority)/\(instance.configuredPriority)", instance.master ?? "-",
                instance.virtualAddresses.joined(separator: ","), since, why,
            ])
        }
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        var out = ""
        for row in rows {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            out += cells.joined(separator: "  ") + "\n"
        }
        // The recent transitions of every instance, newest last.
        let recent = instances.flatMap { instance in instance.history.map { (instance.name, $0) } }
            .sorted { $0.1.secondsAgo > $1.1.secondsAgo }.suffix(10)
        if !recent.isEmpty {
            out += "\nRecent transitions:\n"
            for (name, transition) in recent {
                out += "  \(Self.duration(transition.secondsAgo)) ago  \(name)  \(transition.from) -> \(transition.to)  (\(transition.reason))\n"
            }
        }
        for instance in instances where !instance.trackers.isEmpty {
            out += "\n\(instance.name) tracks:\n"
            for tracker in instance.trackers {
                out += "  \(tracker.kind) \(tracker.name) weight \(tracker.weight): \(tracker.value)\n"
            }
        }
        return out
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds)
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(whole % 60)s" }
        if whole < 86400 { return "\(whole / 3600)h\(whole % 3600 / 60)m" }
        return "\(whole / 86400)d\(whole % 86400 / 3600)h"
    }
}

/// The little JSON writing Vigil needs, without Foundation.
enum JSON {
    static func string(_ text: String) -> String {
        var out = ""
        ConfigurationDump.quote(text, into: &out)
        return out
    }

    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        return String((value * 1000).rounded() / 1000)
    }
}


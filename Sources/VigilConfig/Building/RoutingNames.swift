/// The names iproute2 gives numbers (`table vpn`, `protocol bird`, `scope link`, `realms isp1/isp2`, `tos
/// lowdelay`, `sup_group wan`), looked up as keepalived 2.2.7 does: a number is itself; a name is searched in
/// /etc/iproute2's file for its kind, then in the built-in names of tables, protocols and scopes.
public struct RoutingNames: Sendable {
    public enum Kind: Sendable {
        case table, dsfield, realm, protocolName, scope, group

        var file: String {
            switch self {
            case .table: "rt_tables"
            case .dsfield: "rt_dsfield"
            case .realm: "rt_realms"
            case .protocolName: "rt_protos"
            case .scope: "rt_scopes"
            case .group: "group"
            }
        }

        var maximum: UInt32 {
            switch self {
            case .table: UInt32.max
            case .group: UInt32(Int32.max)
            default: 255
            }
        }

        var builtIn: [(UInt32, String)] {
            switch self {
            case .table: [(253, "default"), (254, "main"), (255, "local")]
            case .protocolName:
                [
                    (0, "none"), (1, "redirect"), (2, "kernel"), (3, "boot"), (4, "static"), (8, "gated"), (9, "ra"),
                    (10, "mrt"), (11, "zebra"), (12, "bird"), (42, "babel"), (13, "dnrouted"), (14, "xorp"),
                    (15, "ntk"), (16, "dhcp"),
                ]
            case .scope: [(0, "global"), (255, "nowhere"), (254, "host"), (253, "link"), (200, "site")]
            default: []
            }
        }
    }

    let fileSystem: any ConfigFileSystem
    let directory: String

    public init(fileSystem: any ConfigFileSystem, directory: String = "/etc/iproute2/") {
        self.fileSystem = fileSystem
        self.directory = directory
    }

    /// The number for `text`, or nil when it is neither a number in range nor a known name.
    public func number(_ text: String, _ kind: Kind) -> UInt32? {
        if let value = Preprocessor.parseCInteger(text) {
            return value >= 0 && value <= Int(kind.maximum) ? UInt32(value) : nil
        }
        var entries = fileEntries(kind)
        for (id, name) in kind.builtIn where !entries.contains(where: { $0.0 == id }) { entries.append((id, name)) }
        return entries.first { $0.1 == text }?.0
    }

    /// `realms FROM[/TO]`: FROM << 16 | TO when both are given, as the kernel packs them.
    public func realms(_ text: String) -> UInt32? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let first = number(parts[0], .realm) else { return nil }
        guard parts.count == 2 else { return first }
        guard let second = number(parts[1], .realm) else { return nil }
        return first << 16 | second
    }

    /// Lines of two words, "NUMBER NAME"; anything else is skipped, as keepalived skips it.
    func fileEntries(_ kind: Kind) -> [(UInt32, String)] {
        guard let bytes = try? fileSystem.contents(of: directory + kind.file) else { return [] }
        var entries = [(UInt32, String)]()
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count == 2, !words[0].hasPrefix("-"), let id = Preprocessor.parseCInteger(String(words[0])),
                id >= 0, id <= Int(kind.maximum)
            else { continue }
            entries.append((UInt32(id), String(words[1])))
        }
        return entries
    }
}

/// The resolved configuration as a tree of plain values, for `vigil config dump` (text or JSON). Secrets are
/// masked. Built by reflection over the model, so every field the model gains shows up without more code.
public indirect enum ConfigurationDump: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([ConfigurationDump])
    case object([(String, ConfigurationDump)])

    public static func == (lhs: ConfigurationDump, rhs: ConfigurationDump) -> Bool {
        lhs.json() == rhs.json()
    }

    public static func render(_ configuration: Configuration) -> ConfigurationDump {
        value(configuration)
    }

    static let masked = ConfigurationDump.string("********")

    static func value(_ subject: Any) -> ConfigurationDump {
        switch subject {
        case let value as Bool: return .bool(value)
        case let value as Int: return .number(String(value))
        case let value as UInt16: return .number(String(value))
        case let value as UInt32: return .number(String(value))
        case let value as String: return .string(value)
        case let value as IPAddress: return .string(value.description)
        case let value as IPPrefix: return .string(value.description)
        case let value as Duration: return .number(ConfigurationBuilder.format(value))
        case let value as SourceLocation: return .string(value.description)
        case let value as Token: return .string(value.text)
        case let value as ClosedRange<Int>:
            return .string(
                value.lowerBound == value.upperBound ? "\(value.lowerBound)" : "\(value.lowerBound)-\(value.upperBound)"
            )
        case let value as ScriptCommand:
            var fields: [(String, ConfigurationDump)] = [("command", .array(value.arguments.map { .string($0) }))]
            if let user = value.user { fields.append(("user", .string(user))) }
            if let group = value.group { fields.append(("group", .string(group))) }
            return .object(fields)
        case let value as Authentication:
            switch value {
            case .password: return .object([("type", .string("PASS")), ("password", masked)])
            case .ah: return .object([("type", .string("AH")), ("key", masked)])
            }
        case let value as SSLSettings:
            var fields = reflect(value)
            if value.password != nil { fields = fields.map { $0.0 == "password" ? ($0.0, masked) : $0 } }
            return .object(fields)
        case let value as [UInt8] where !value.isEmpty:
            return .string(
                value.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
                    .joined())
        default:
            break
        }
        let mirror = Mirror(reflecting: subject)
        switch mirror.displayStyle {
        case .optional:
            guard let wrapped = mirror.children.first else { return .null }
            return value(wrapped.value)
        case .collection, .set:
            return .array(mirror.children.map { value($0.value) })
        case .dictionary:
            var pairs = [(String, ConfigurationDump)]()
            for child in mirror.children {
                let pair = Mirror(reflecting: child.value).children.map(\.value)
                if pair.count == 2 { pairs.append(("\(pair[0])", value(pair[1]))) }
            }
            return .object(pairs.sorted { $0.0 < $1.0 })
        case .enum:
            if let payload = mirror.children.first {
                let label = payload.label ?? "\(subject)"
                return .object([(label, value(payload.value))])
            }
            if let raw = subject as? any RawRepresentable { return .string("\(raw.rawValue)") }
            return .string("\(subject)")
        case .struct, .class, .tuple:
            return .object(reflect(subject))
        default:
            return .string("\(subject)")
        }
    }

    static func reflect(_ subject: Any) -> [(String, ConfigurationDump)] {
        var fields = [(String, ConfigurationDump)]()
        for child in Mirror(reflecting: subject).children {
            // A property wrapper's storage (`_notify` of `@OutOfLine notify`) is named for its property.
            guard let stored = child.label, stored != "keywordLocations" else { continue }
            let label = stored.hasPrefix("_") ? String(stored.dropFirst()) : stored
            let rendered = value(child.value)
            if case .null = rendered { continue }
            if case .array(let items) = rendered, items.isEmpty { continue }
            if case .object(let items) = rendered, items.isEmpty { continue }
            fields.append((label, rendered))
        }
        return fields
    }

    /// Compact JSON, keys in model order.
    public func json() -> String {
        var out = ""
        write(json: &out)
        return out
    }

    private func write(json out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .number(let value): out += value
        case .string(let value): Self.quote(value, into: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(json: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (index, (key, item)) in fields.enumerated() {
                if index > 0 { out += "," }
                Self.quote(key, into: &out)
                out += ":"
                item.write(json: &out)
            }
            out += "}"
        }
    }

    /// Appends `text` as a JSON string literal (quotes, escapes, control characters as \\u00XX).
    public static func quote(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    /// Indented `key: value` text for people.
    public func text() -> String {
        var out = ""
        write(text: &out, indent: "")
        return out
    }

    private func write(text out: inout String, indent: String) {
        switch self {
        case .object(let fields):
            for (key, item) in fields {
                switch item {
                case .object, .array:
                    out += "\(indent)\(key):\n"
                    item.write(text: &out, indent: indent + "  ")
                default:
                    out += "\(indent)\(key): \(item.scalarText)\n"
                }
            }
        case .array(let items):
            for item in items {
                switch item {
                case .object(let fields) where !fields.isEmpty:
                    var nested = ""
                    item.write(text: &nested, indent: indent + "  ")
                    out += indent + "- " + nested.dropFirst(indent.count + 2)
                default:
                    out += "\(indent)- \(item.scalarText)\n"
                }
            }
        default:
            out += "\(indent)\(scalarText)\n"
        }
    }

    private var scalarText: String {
        switch self {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .number(let value): value
        case .string(let value): value
        case .array(let items): "[" + items.map(\.scalarText).joined(separator: ", ") + "]"
        case .object: "{...}"
        }
    }
}

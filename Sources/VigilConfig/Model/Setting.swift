/// A keyword keepalived accepts that Vigil keeps as written rather than as a typed field: its name, its
/// arguments and where it stands, so nothing in a file is lost and `config dump` can show it.
public struct Setting: Hashable, Sendable {
    public var name: String
    public var arguments: [String]
    public var location: SourceLocation

    public init(name: String, arguments: [String], location: SourceLocation) {
        self.name = name
        self.arguments = arguments
        self.location = location
    }
}

/// A command line from a script keyword (`notify_master`, `script`, `misc_path`, ...), split as keepalived splits
/// it: the program and its arguments, and the user and group it runs as when the line names them.
public struct ScriptCommand: Hashable, Sendable, CustomStringConvertible {
    /// The program first, then its arguments. Never empty.
    public var arguments: [String]
    public var user: String?
    public var group: String?
    public var location: SourceLocation

    public init(arguments: [String], user: String? = nil, group: String? = nil, location: SourceLocation) {
        self.arguments = arguments
        self.user = user
        self.group = group
        self.location = location
    }

    public var program: String { arguments[0] }

    /// Whether the command needs `/bin/sh -c`: one of its words is shell syntax, such as keepalived's sample
    /// `</dev/tcp/host/80` or a `|`. A word with blanks in it was quoted in the file and is one literal argument.
    public var needsShell: Bool {
        let shellCharacters: Set<Character> = ["<", ">", "|", "&", ";", "$", "`", "(", ")", "*", "?", "[", "~"]
        return arguments.contains { argument in
            !argument.contains(where: \.isWhitespace) && argument.contains { shellCharacters.contains($0) }
        }
    }

    /// The line `/bin/sh -c` runs: shell words as written, quoted words single-quoted so they stay one argument.
    public var shellLine: String {
        arguments.map { argument in
            guard argument.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\"" }) else { return argument }
            var quoted = "'"
            for character in argument {
                if character == "'" { quoted += "'\\''" } else { quoted.append(character) }
            }
            return quoted + "'"
        }.joined(separator: " ")
    }

    public var description: String {
        arguments.map { $0.contains(" ") || $0.isEmpty ? "'\($0)'" : $0 }.joined(separator: " ")
    }
}

/// A FIFO keepalived writes state lines into, with the owner it should have.
public struct FIFOSpec: Hashable, Sendable {
    public var path: String
    public var user: String?
    public var group: String?
    public var location: SourceLocation
}

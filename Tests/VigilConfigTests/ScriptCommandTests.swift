import Testing

@testable import VigilConfig

@Suite("Script commands: exec or shell")
struct ScriptCommandTests {
    func command(_ arguments: String...) -> ScriptCommand {
        ScriptCommand(arguments: arguments, location: SourceLocation(file: "k.conf", line: 1))
    }

    @Test("Plain commands run without a shell")
    func plain() {
        #expect(!command("killall", "-0", "nginx").needsShell)
        #expect(!command("/etc/keepalived/check_list").needsShell)
    }

    @Test("Shell syntax in a word needs a shell; a quoted phrase with blanks is one literal argument")
    func shell() {
        #expect(command("</dev/tcp/127.0.0.1/80").needsShell)
        #expect(command("pidof", "nginx", "||", "exit", "1").needsShell)
        let quoted = command("/bin/sh", "-c", "test -f /x | true")
        #expect(!quoted.needsShell)
    }

    @Test("The shell line keeps quoted words together and escapes single quotes")
    func shellLine() {
        #expect(command("</dev/tcp/127.0.0.1/80").shellLine == "</dev/tcp/127.0.0.1/80")
        #expect(command("echo", "a b", "it's", ">", "/tmp/x").shellLine == "echo 'a b' 'it'\\''s' > /tmp/x")
    }
}

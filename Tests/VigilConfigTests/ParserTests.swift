import Testing

@testable import VigilConfig

@Suite("Lexer and parser: braces, quotes, recovery")
struct ParserTests {
    func parse(_ text: String) -> (statements: [Statement], diagnostics: [Diagnostic]) {
        let (lines, _) = Preprocessor.run(text: text, name: "t.conf", options: Preprocessor.Options(configID: ""))
        return Parser.parse(lines)
    }

    @Test("braces stand anywhere on a line, attached or not")
    func bracesAnywhere() {
        let (statements, diagnostics) = parse(
            """
            virtual_ipaddress { 198.51.100.1 }
            global_defs{router_id r1}
            vrrp_instance VI_1
            {
                state BACKUP }
            a { b { c } d } e
            """)
        #expect(diagnostics.isEmpty)
        #expect(statements.map(\.name) == ["virtual_ipaddress", "global_defs", "vrrp_instance", "a", "e"])
        #expect(statements[0].block?.map(\.name) == ["198.51.100.1"])
        #expect(statements[1].block?.first?.arguments.map(\.text) == ["r1"])
        #expect(statements[2].arguments.map(\.text) == ["VI_1"])
        #expect(statements[2].block?.first?.arguments.map(\.text) == ["BACKUP"])
        #expect(statements[3].block?.map(\.name) == ["b", "d"])
        #expect(statements[3].block?.first?.block?.map(\.name) == ["c"])
    }

    @Test("a double-quoted word keeps spaces and braces; quotes are removed")
    func quotes() {
        let (statements, _) = parse("router_id \"a {b} c\" d\nx a\"b c\"d\nempty \"\"")
        #expect(statements[0].arguments.map(\.text) == ["a {b} c", "d"])
        #expect(statements[0].arguments[0].quoted)
        #expect(statements[1].arguments.map(\.text) == ["a", "b c", "d"])
        #expect(statements[2].arguments.map(\.text) == [""])
    }

    @Test("an unterminated quote is an error at the quote")
    func unterminatedQuote() {
        let (_, diagnostics) = parse("router_id \"abc")
        #expect(diagnostics.map(\.code) == [.unterminatedQuote])
        #expect(diagnostics.first?.location.column == 11)
    }

    @Test("locations carry file, line and column")
    func locations() {
        let (statements, _) = parse("\n\n    state MASTER")
        #expect(statements[0].location == SourceLocation(file: "t.conf", line: 3, column: 5))
        #expect(statements[0].arguments[0].location.column == 11)
    }

    @Test("an extra closing brace is reported where it stands and parsing goes on")
    func extraCloseBrace() {
        let (statements, diagnostics) = parse("a {\n}\n}\nb")
        #expect(diagnostics.map(\.code) == [.unbalancedCloseBrace])
        #expect(diagnostics.first?.location.line == 3)
        #expect(statements.map(\.name) == ["a", "b"])
    }

    @Test("a block never closed is reported at its opening brace and keeps its contents")
    func missingCloseBrace() {
        let (statements, diagnostics) = parse("vrrp_instance VI_1 {\n  state MASTER\n")
        #expect(diagnostics.map(\.code) == [.unclosedBlock])
        #expect(diagnostics.first?.location.line == 1)
        #expect(diagnostics.first?.location.column == 20)
        #expect(statements.first?.block?.first?.name == "state")
    }

    @Test("a brace with no keyword before it is reported and its block dropped")
    func orphanBrace() {
        let (statements, diagnostics) = parse("{\n x\n}\ny")
        #expect(diagnostics.map(\.code) == [.unexpectedOpenBrace])
        #expect(statements.map(\.name) == ["y"])
    }

    @Test("deep nesting is cut off with one error, not a stack overflow")
    func deepNesting() {
        let text = String(repeating: "a {\n", count: 100_000) + String(repeating: "}\n", count: 100_000) + "after"
        let (statements, diagnostics) = parse(text)
        #expect(diagnostics.map(\.code) == [.nestingTooDeep])
        #expect(statements.last?.name == "after")
    }

    @Test("script lines split like a shell: quotes join, escapes decode")
    func scriptLines() throws {
        #expect(
            try ScriptLine.split("\"/bin/echo a 'b c' d\\\"e\\\" f\\\\ g\"").get() == ["/bin/echo a 'b c' d\"e\" f\\ g"]
        )
        #expect(try ScriptLine.split("/bin/echo a 'b c' d\"e\" f\\ g").get() == ["/bin/echo", "a", "b c", "de", "f g"])
        #expect(try ScriptLine.split("x \\x41\\101\\n").get() == ["x", "AA\n"])
        #expect(try ScriptLine.split("/bin/echo\"ab\"'cd' root").get() == ["/bin/echoabcd", "root"])
        #expect(throws: ScriptLine.Failure.self) { try ScriptLine.split("'open").get() }
        #expect(throws: ScriptLine.Failure.self) { try ScriptLine.split("trailing \\").get() }
    }
}

@Suite("Hostile input never crashes the reader")
struct RobustnessTests {
    /// A deterministic generator, so a failure can be replayed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
    }

    static let sample =
        Seed.nopreemptBackup + """
            virtual_server 198.51.100.100 80 {
                delay_loop 6
                lb_algo rr
                real_server 198.51.100.11 80 {
                    HTTP_GET {
                        url {
                            path /health
                            digest 9b3a0c85a887a256d6939da88aabd8cd
                            status_code 200-299 302
                        }
                    }
                }
            }
            ~SEQ(i, 1, 3) vrrp_instance S$i { interface eth0 virtual_router_id 1$i virtual_ipaddress { 198.51.100.1$i } }
            """

    @Test("every truncation of a real configuration loads with diagnostics, never a crash")
    func truncations() {
        let bytes = Array(Self.sample.utf8)
        for length in stride(from: 0, through: bytes.count, by: 7) {
            let text = String(decoding: bytes[..<length], as: UTF8.self)
            let result = load(text)
            #expect(result.configTestExitCode != 4)
        }
    }

    @Test("random bytes and random mutations load with diagnostics, never a crash")
    func randomInput() {
        var generator = Generator(state: 42)
        for _ in 0..<100 {
            let length = Int.random(in: 0..<2000, using: &generator)
            let noise = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let result = load(String(decoding: noise, as: UTF8.self))
            if length > 100 { #expect(!result.diagnostics.isEmpty) }
        }
        let original = Array(Self.sample.utf8)
        let alphabet = Array("{}\"'$~@#!\\ \n\t0123456789./:-".utf8)
        for _ in 0..<100 {
            var mutated = original
            for _ in 0..<Int.random(in: 1...20, using: &generator) {
                let position = Int.random(in: 0..<mutated.count, using: &generator)
                mutated[position] = alphabet.randomElement(using: &generator)!
            }
            _ = load(String(decoding: mutated, as: UTF8.self))
        }
    }

    @Test("binary content is reported as such")
    func binary() {
        let result = load("global_defs {\u{0}\u{1}\u{2}\n}\n")
        #expect(result.diagnostics.contains { $0.code == .binaryContent })
    }
}

import Foundation
import Testing

@testable import VigilConfig

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Preprocessor: comments, conditionals, parameters, sequences")
struct PreprocessorTests {
    @Test("# and ! start comments anywhere outside double quotes")
    func comments() {
        let (lines, _) = preprocess(
            """
            router_id r1! bang
            ab#cd
            "x#y" z   # trailing
            k"l#m"n
            ! whole line
            # whole line
            a\\#b a\\!b
            """)
        #expect(lines == ["router_id r1", "ab", "\"x#y\" z", "k\"l#m\"n", "a#b a!b"])
    }

    @Test("single quotes do not protect a comment character, as in keepalived")
    func singleQuotesDoNotProtect() {
        #expect(preprocess("router_id 'a#b'").lines == ["router_id 'a"])
    }

    @Test("CRLF line ends and leading blanks are stripped; blank lines vanish")
    func lineEnds() {
        let (lines, _) = preprocess("  global_defs {\r\n\r\n\t router_id x\r\n}\r\n")
        #expect(lines == ["global_defs {", "router_id x", "}"])
    }

    @Test("@ID lines are kept only for that config id; @^ID only for others")
    func conditionals() {
        let text = """
            @lb01 router_id one
            @lb02 router_id two
            @^lb01 router_id not_one
            @^lb02 router_id not_two
            @lb01
            """
        #expect(preprocess(text, configID: "lb01").lines == ["router_id one", "router_id not_two"])
        #expect(preprocess(text, configID: "lb02").lines == ["router_id two", "router_id not_one"])
        #expect(preprocess("@LB01 x", configID: "lb01").lines == [], "the match is case-sensitive")
    }

    @Test("$NAME=VALUE defines; $NAME and ${NAME} substitute, recursively and lazily")
    func parameters() {
        let (lines, diagnostics) = preprocess(
            """
            $IF=eth0
            $B=${A}_beta
            $A=alpha
            interface $IF
            name ${B}
            glued_${IF}x
            no_$IFx
            list $A,$A)x
            $A = not a definition
            """)
        // A space before `=` makes it no definition; `$A` followed by a blank is then substituted.
        #expect(
            lines == [
                "interface eth0", "name alpha_beta", "glued_eth0x", "no_$IFx", "list alpha,alpha)x",
                "alpha = not a definition",
            ])
        #expect(diagnostics.isEmpty)
    }

    @Test("undefined parameters stay as written")
    func undefinedParameters() {
        #expect(preprocess("x $NOPE ${NOPE}").lines == ["x $NOPE ${NOPE}"])
    }

    @Test("redefinition takes effect from that line on")
    func redefinition() {
        #expect(preprocess("$V=1\na $V\n$V=2\nb $V").lines == ["a 1", "b 2"])
    }

    @Test("multi-line definitions expand to several lines at the end of a line")
    func multiLineDefinition() {
        let (lines, _) = preprocess(
            """
            $VIPS=198.51.100.10 \\
                198.51.100.11 \\
                198.51.100.12

            virtual_ipaddress {
                $VIPS
            }
            """)
        #expect(lines == ["virtual_ipaddress {", "198.51.100.10", "198.51.100.11", "198.51.100.12", "}"])
    }

    @Test("built-ins: _HASH, _BANG, _INSTANCE, _RANDOM within its range")
    func builtIns() {
        let (lines, _) = preprocess(
            """
            a "${_HASH}" "${_BANG}" ${_INSTANCE}
            b ${_HASH}comment
            r ${_RANDOM 5 7}
            """, configID: "node9")
        #expect(lines[0] == "a \"#\" \"!\" node9")
        #expect(lines[1] == "b", "an unquoted # from a parameter starts a comment, as in keepalived")
        let value = Int(lines[2].dropFirst(2))!
        #expect((5...7).contains(value))
    }

    @Test("a self-referencing parameter is cut off with an error instead of hanging")
    func selfReference() {
        let (lines, diagnostics) = preprocess("$X=a$X\nvalue $X")
        #expect(diagnostics.contains { $0.code == .parameterRecursion && $0.location.line == 2 })
        #expect(lines.count == 1)
        let (_, loop) = preprocess("$Y=$Y\nvalue $Y")
        #expect(loop.contains { $0.code == .parameterRecursion })
    }

    @Test("~SEQ with one, two and three numbers; start, step, end order")
    func sequences() {
        #expect(preprocess("~SEQ(i, 3) vip_$i").lines == ["vip_1", "vip_2", "vip_3"])
        #expect(preprocess("~SEQ(i, 5, 3) x${i}").lines == ["x5", "x4", "x3"])
        #expect(preprocess("~SEQ(i, 0, 5, 10) x$i").lines == ["x0", "x5", "x10"])
        #expect(preprocess("~SEQ(D,0) d$D").lines == ["d1", "d0"])
        #expect(preprocess("~SEQ(n, 0x10, 0x11) n$n").lines == ["n16", "n17"])
        #expect(preprocess("~SEQx(h, 254, 256) h$h").lines == ["hfe", "hff", "h100"])
    }

    @Test("~SEQ variables use parameters, nest left to right and stay defined")
    func nestedSequences() {
        let (lines, _) = preprocess(
            """
            $LO=1
            ~SEQ(P, $LO, 2) ~SEQ(Q, 1, 2) kw_${P}_${Q}
            after $Q
            """)
        #expect(lines == ["kw_1_1", "kw_1_2", "kw_2_1", "kw_2_2", "after 2"])
    }

    @Test("~LST over single values and over groups")
    func lists() {
        #expect(preprocess("~LST(n, a, b, c) if_$n").lines == ["if_a", "if_b", "if_c"])
        #expect(
            preprocess("~LST({x,y}, {1,2}, {3,4}, {5}) p_${x}_${y}").lines == ["p_1_2", "p_3_4", "p_5_"])
    }

    @Test("a bad sequence is reported at its line and produces nothing")
    func badSequence() {
        let (lines, diagnostics) = preprocess("\n~SEQ(i, 1, 0, 5) x$i\n~SEQ i\n~LST(K)")
        #expect(lines.isEmpty)
        #expect(diagnostics.map(\.location.line) == [2, 3, 4])
        #expect(diagnostics.allSatisfy { $0.code == .badSequence })
    }

    @Test("a sequence of millions of lines is refused, not produced")
    func hugeSequence() {
        let (lines, diagnostics) = preprocess("~SEQ(i, 1, 100000000) x$i")
        #expect(lines.isEmpty)
        #expect(diagnostics.first?.code == .badSequence)
    }

    @Test("a NUL byte ends the line with an error; later line numbers stay right")
    func nulByte() {
        let (lines, diagnostics) = Preprocessor.run(
            text: "a\u{0}b\nc d", name: "bin.conf", options: Preprocessor.Options(configID: ""))
        #expect(lines.map { String(decoding: $0.bytes, as: UTF8.self) } == ["a", "c d"])
        #expect(lines.map(\.location.line) == [1, 2])
        #expect(diagnostics.first?.code == .binaryContent)
    }
}

@Suite("Preprocessor: include")
struct IncludeTests {
    @Test("include expands globs in sorted order and braces in written order, relative to the including file")
    func globsAndBraces() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        _ = system("mkdir -p \(directory)/conf.d \(directory)/br")
        writeFile("\(directory)/main.conf", "top\ninclude conf.d/*.conf\ninclude br/{y,x}.conf\nend\n")
        writeFile("\(directory)/conf.d/b.conf", "from_b\n")
        writeFile("\(directory)/conf.d/a.conf", "from_a\ninclude ../br/z.conf\n")
        writeFile("\(directory)/br/x.conf", "from_x\n")
        writeFile("\(directory)/br/y.conf", "from_y\n")
        writeFile("\(directory)/br/z.conf", "from_z ${_PWD}\n")
        let (lines, diagnostics) = Preprocessor.run(
            path: "\(directory)/main.conf", options: Preprocessor.Options(configID: ""))
        let text = lines.map { String(decoding: $0.bytes, as: UTF8.self) }
        #expect(text == ["top", "from_a", "from_z \(directory)/br", "from_b", "from_y", "from_x", "end"])
        #expect(diagnostics.isEmpty)
        #expect(lines[1].location.file == "\(directory)/conf.d/a.conf")
        #expect(lines[1].location.line == 1)
        #expect(lines[6].location.line == 4)
    }

    @Test("a missing include is a note (keepalived carries on); quotes in the pattern are a warning")
    func missingInclude() {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        writeFile("\(directory)/main.conf", "include nothere.conf\ninclude \"quoted.conf\"\nx\n")
        let (lines, diagnostics) = Preprocessor.run(
            path: "\(directory)/main.conf", options: Preprocessor.Options(configID: ""))
        #expect(lines.count == 1)
        #expect(diagnostics.map(\.severity) == [.note, .warning])
        #expect(diagnostics.map(\.location.line) == [1, 2])
    }

    @Test("an include loop is refused with an error at the include that closes it")
    func includeLoop() {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        writeFile("\(directory)/a.conf", "in_a\ninclude b.conf\n")
        writeFile("\(directory)/b.conf", "in_b\ninclude a.conf\n")
        let (lines, diagnostics) = Preprocessor.run(
            path: "\(directory)/a.conf", options: Preprocessor.Options(configID: ""))
        #expect(lines.map { String(decoding: $0.bytes, as: UTF8.self) } == ["in_a", "in_b"])
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.code == .includeLoop)
        #expect(diagnostics.first?.location.file == "\(directory)/b.conf")
        #expect(diagnostics.first?.location.line == 2)
    }

    @Test("include works inside blocks and after @ID and parameters")
    func includeAnywhere() {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        writeFile("\(directory)/vips.txt", "198.51.100.10\n198.51.100.11\n")
        writeFile(
            "\(directory)/main.conf",
            "$INC=include vips.txt\nvirtual_ipaddress {\n@lb01 include vips.txt\n$INC\n}\n")
        let (lines, _) = Preprocessor.run(
            path: "\(directory)/main.conf", options: Preprocessor.Options(configID: "lb01"))
        #expect(lines.count == 6)
    }

    @Test("a missing main file is fatal and the config test exits 4")
    func missingMainFile() {
        let result = ConfigLoader.load(
            path: "/nonexistent/keepalived.conf", options: ConfigLoader.Options(configID: ""))
        #expect(result.diagnostics.first?.severity == .fatal)
        #expect(result.configTestExitCode == 4)
    }
}

/// A local file read in pieces of a few bytes, so that lines, CRLF ends and a last line without a newline fall
/// across pieces.
struct SmallPiecesFileSystem: ConfigFileSystem {
    var size: Int
    func contents(of path: String) throws(ConfigFileError) -> [UInt8] { try LocalFileSystem().contents(of: path) }
    func pieces(of path: String) throws(ConfigFileError) -> ConfigFilePieces {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .notFound }
        return ConfigFilePieces(descriptor: fd, size: size)
    }
    func glob(_ pattern: String) -> [String] { LocalFileSystem().glob(pattern) }
    func canonicalPath(_ path: String) -> String? { LocalFileSystem().canonicalPath(path) }
    func currentDirectory() -> String { LocalFileSystem().currentDirectory() }
}

@Suite("Configuration files read in pieces")
struct PiecesTests {
    @Test("every piece size reads the same lines, locations and diagnostics as the whole file")
    func pieceSizes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-pieces-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/keepalived.conf"
        let text =
            "global_defs {\r\n    router_id pieces\r\n}\n\n# a comment long enough to span several pieces of the file\n"
            + "$WORD=hello\nvrrp_instance VI_1 {\n    state MASTER\n    interface eth0\n    virtual_router_id 51\n"
            + "    priority 100\n    nonsense_keyword 1\n    virtual_ipaddress {\n        192.0.2.10/24\n"
            + "        192.0.2.11/24\n    }\n}"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        func load(_ fileSystem: any ConfigFileSystem) -> ConfigLoader.Result {
            ConfigLoader.load(path: path, options: ConfigLoader.Options(configID: "t", fileSystem: fileSystem))
        }
        let whole = load(LocalFileSystem())
        #expect(whole.configuration.instances.first?.virtualAddresses.count == 2)
        #expect(whole.configuration.global.routerID == "pieces")
        #expect(whole.diagnostics.contains { $0.message.contains("nonsense_keyword") && $0.location.line == 12 })
        for size in [1, 2, 3, 7, 64] {
            let pieces = load(SmallPiecesFileSystem(size: size))
            #expect(pieces.configuration == whole.configuration, "piece size \(size)")
            #expect(pieces.diagnostics == whole.diagnostics, "piece size \(size)")
        }
    }
}


import Checkers
import Testing
import VigilConfig

/// HTTP_GET's `regex` over a streamed body, through the system's PCRE2 (libpcre2-8, in every Debian system).
@Suite("HTTP regex: PCRE2 over a streamed body")
struct BodyPatternTests {
    func pattern(_ text: String, options: UInt32 = 0) throws -> BodyPattern {
        try BodyPattern.compile(text, options: options).get()
    }

    func matches(_ pattern: BodyPattern, _ chunks: [String], minimum: Int = 0, maximum: Int? = nil) -> Bool {
        var matcher = BodyMatcher(pattern: pattern, minimumOffset: minimum, maximumOffset: maximum)
        for chunk in chunks { Array(chunk.utf8).withUnsafeBytes { matcher.feed($0) } }
        return matcher.finish()
    }

    @Test("a match split across chunks is found (partial matching keeps what it needs)")
    func acrossChunks() throws {
        let ok = try pattern("status: (ok|fine)")
        #expect(matches(ok, ["<html>... stat", "us: o", "k ..."]))
        #expect(matches(ok, ["status: fine"]))
        #expect(!matches(ok, ["status: ", "bad"]))
        #expect(matches(try pattern("ok$"), ["all ", "ok"]), "the end of the body ends the subject")
    }

    @Test("a body far larger than the window is streamed, not held")
    func longBody() throws {
        let filler = String(repeating: "x", count: 10_000)
        let chunks = Array(repeating: filler, count: 50) + ["needle"]
        #expect(matches(try pattern("needle"), chunks))
        #expect(!matches(try pattern("needle"), Array(repeating: filler, count: 50)))
    }

    @Test("regex_min_offset and regex_max_offset bound where the match may start; lookbehind still sees before")
    func offsets() throws {
        let body = ["0123456789 ok 0123456789"]  // "ok" at offset 11
        let ok = try pattern("ok")
        #expect(matches(ok, body, minimum: 11))
        #expect(!matches(ok, body, minimum: 12))
        #expect(matches(ok, body, maximum: 11))
        #expect(!matches(ok, body, maximum: 10))
        #expect(matches(try pattern("(?<= )ok"), ["0123456789", " ok"], minimum: 11), "the lookbehind looks before the minimum")
    }

    @Test("compile options by keepalived's names; a bad pattern says where")
    func options() throws {
        let bits = HTTPCheck.URLCheck.regexOptionTable.first { $0.name == "caseless" }!.bit
        #expect(matches(try pattern("OK", options: bits), ["ok"]))
        #expect(!matches(try pattern("OK"), ["ok"]))
        guard case .failure(let error) = BodyPattern.compile("(unclosed", options: 0) else {
            Issue.record("an unclosed group compiled")
            return
        }
        #expect(error.offset == 9 && error.message.contains("missing closing parenthesis"), "\(error)")
    }

    @Test("the request line as keepalived writes it for each http_protocol")
    func requestText() {
        #expect(
            HTTPProbe.requestText(path: "/h", host: "a:81")
                == "GET /h HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: a:81\r\n\r\n")
        #expect(
            HTTPProbe.requestText(path: "/h", host: "a", version: .http10Close)
                == "GET /h HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: a\r\n\r\n")
        #expect(
            HTTPProbe.requestText(path: "/h", host: "a", version: .http11)
                == "GET /h HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: a\r\n\r\n")
    }
}

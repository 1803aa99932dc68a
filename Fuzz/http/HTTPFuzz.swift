import Checksums
import HealthCheck

/// libFuzzer target: any bytes as a real server's answer to HTTP_GET, fed to the bounded response parser whole and
/// split at every eighth byte; both ways must agree, and the parser never holds more than its bounds. The same bytes
/// go through the SMTP-free codecs checkers use on replies: DNS answers and UDP reply patterns.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = pointer else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = run([bytes[...]])
    var pieces = [ArraySlice<UInt8>]()
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + 1 + Int(bytes[start] % 8))
        pieces.append(bytes[start..<end])
        start = end
    }
    let split = run(pieces)
    if whole != split { fatalError("the parser's answer depends on how the bytes arrive: \(whole) vs \(split)") }
    _ = DNSMessage.check(response: bytes, id: 0x1234)
    _ = ReplyPattern.matches(bytes, pattern: "4f4bxx")
    return 0
}

/// The events (with the body as its length and MD5) or the failure.
func run(_ pieces: [ArraySlice<UInt8>]) -> String {
    var parser = HTTPResponseParser()
    var status: Int?
    var length = 0
    var md5 = MD5()
    var ended = false
    func take(_ events: [HTTPResponseParser.Event]) {
        for event in events {
            switch event {
            case .status(let code): status = code
            case .body(let body):
                length += body.count
                md5.update(body)
            case .end: ended = true
            }
        }
    }
    do {
        for piece in pieces { take(try parser.feed(piece)) }
        take(try parser.finish())
    } catch {
        return "failure \(error)"
    }
    return "status \(status.map(String.init) ?? "-") body \(length) \(md5.finish()) ended \(ended)"
}

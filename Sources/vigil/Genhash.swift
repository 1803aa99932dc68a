import Checkers
import Glibc
import LinuxNet
import VigilConfig

/// `vigil genhash URL` (or keepalived's `genhash -s SERVER -p PORT -u PATH [-S] [-V VHOST]`): fetches the page
/// as HTTP_GET / SSL_GET would and prints the MD5 of its body, ready for a `digest` line.
func genhash(_ arguments: [String]) -> Int32 {
    var server: String?
    var port: UInt16?
    var path = "/"
    var secure = false
    var virtualHost: String?
    var rest = arguments[...]
    while let word = rest.popFirst() {
        switch word {
        case "-s", "--server": server = rest.popFirst()
        case "-p", "--port": port = rest.popFirst().flatMap { UInt16($0) }
        case "-u", "--url": path = rest.popFirst() ?? "/"
        case "-S", "--use-ssl": secure = true
        case "-V", "--virtualhost": virtualHost = rest.popFirst()
        default:
            guard word.hasPrefix("http://") || word.hasPrefix("https://") else {
                printError("vigil genhash: unknown argument \(word); usage: vigil genhash URL")
                return 1
            }
            secure = word.hasPrefix("https://")
            let rest = word.dropFirst(secure ? 8 : 7)
            let authority = rest.prefix { $0 != "/" }
            path = rest.count > authority.count ? String(rest.dropFirst(authority.count)) : "/"
            if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
                server = String(authority[authority.index(after: authority.startIndex)..<close])
                let after = authority[authority.index(after: close)...]
                if after.hasPrefix(":") { port = UInt16(after.dropFirst()) }
            } else if let colon = authority.lastIndex(of: ":") {
                server = String(authority[..<colon])
                port = UInt16(authority[authority.index(after: colon)...])
            } else {
                server = String(authority)
            }
            if let server, IPAddress(server) == nil { virtualHost = virtualHost ?? server }
        }
    }
    guard let server else {
        printError("usage: vigil genhash URL   or   vigil genhash -s SERVER [-p PORT] -u PATH [-S] [-V VHOST]")
        return 1
    }
    guard let address = resolve(server) else {
        printError("vigil genhash: cannot resolve \(server)")
        return 1
    }
    let finalPort = port ?? (secure ? 443 : 80)
    let defaultPort: UInt16 = secure ? 443 : 80
    let host =
        virtualHost ?? (address.family == .ipv6 ? "[\(address)]" : "\(address)")
        + (finalPort == defaultPort ? "" : ":\(finalPort)")
    let loop: EventLoop
    do {
        loop = try EventLoop()
    } catch {
        printError("vigil genhash: \(error)")
        return 1
    }
    let tls = secure ? TLSContext(certificateAuthority: nil, certificate: nil, key: nil) : nil
    if secure && tls == nil {
        printError("vigil genhash: libssl (libssl3) cannot be loaded")
        return 1
    }
    nonisolated(unsafe) var outcome: CheckResult?
    let probe = HTTPProbe.start(
        CheckTarget(address: address, port: finalPort, timeout: .seconds(10)),
        request: HTTPProbe.Request(path: path, host: host, statusCodes: [], digest: ""), tls: tls,
        serverName: secure ? virtualHost : nil, loop: loop
    ) { result in
        outcome = result
        loop.stop()
    }
    do {
        try loop.run()
    } catch {
        printError("vigil genhash: \(error)")
        return 1
    }
    _ = probe
    guard let outcome, let digest = outcome.digest else {
        printError("vigil genhash: \(outcome?.detail ?? "no answer")")
        return 1
    }
    print("HTTP status code: \(outcome.status.map(String.init) ?? "?")")
    print("MD5SUM = \(digest)")
    print("digest \(digest)")
    return 0
}

func resolve(_ host: String) -> IPAddress? {
    if let address = IPAddress(host) { return address }
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
    defer { freeaddrinfo(list) }
    guard let raw = first.pointee.ai_addr else { return nil }
    if first.pointee.ai_family == AF_INET {
        return raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
            withUnsafeBytes(of: $0.pointee.sin_addr) { IPAddress(bytes: Array($0)) }
        }
    }
    return raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
        withUnsafeBytes(of: $0.pointee.sin6_addr) { IPAddress(bytes: Array($0)) }
    }
}

import VigilConfig

/// libFuzzer target: any bytes as keepalived.conf, through the preprocessor, parser, builder and validator. Includes
/// resolve in a small in-memory tree, so an input can reach `include` without touching the machine's files.
struct FuzzFileSystem: ConfigFileSystem {
    static let files: [String: [UInt8]] = [
        "/etc/keepalived/a.conf": Array("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n}\n".utf8),
        "/etc/keepalived/b.conf": Array("include a.conf\n$X=1\n@lb01 global_defs {\n router_id $X\n}\n".utf8),
    ]

    func contents(of path: String) throws(ConfigFileError) -> [UInt8] {
        guard let bytes = Self.files[path] else { throw .notFound }
        return bytes
    }

    func glob(_ pattern: String) -> [String] {
        Self.files.keys.filter { $0 == pattern || pattern.hasSuffix("*") && $0.hasPrefix(pattern.dropLast()) }.sorted()
    }

    func canonicalPath(_ path: String) -> String? { Self.files[path] != nil ? path : nil }
    func currentDirectory() -> String { "/etc/keepalived" }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = pointer else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let options = ConfigLoader.Options(configID: "lb01", fileSystem: FuzzFileSystem())
    let result = ConfigLoader.load(text: text, name: "/etc/keepalived/keepalived.conf", options: options)
    // Every diagnostic has a place in a file that was read.
    for diagnostic in result.diagnostics where diagnostic.location.line < 0 { fatalError("negative line") }
    _ = result.configTestExitCode
    return 0
}

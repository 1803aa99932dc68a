/// HMAC-MD5 (RFC 2104) with a fixed key: the inner and outer pads are hashed once, so each message costs the
/// message's blocks and one more. VRRP's AH authentication sends the first 12 bytes (HMAC-MD5-96, RFC 2403).
public struct HMACMD5: Sendable {
    private let inner: MD5
    private let outer: MD5

    public init(key: [UInt8]) {
        var block = key.count > 64 ? MD5.digest(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = MD5()
        inner.update(block.map { $0 ^ 0x36 })
        var outer = MD5()
        outer.update(block.map { $0 ^ 0x5c })
        self.inner = inner
        self.outer = outer
    }

    /// The 16-byte authentication code of the concatenated parts.
    public func code(_ parts: [UInt8]...) -> [UInt8] {
        var inner = self.inner
        for part in parts { inner.update(part) }
        var outer = self.outer
        outer.update(inner.finalize())
        return outer.finalize()
    }
}

/// MD5 (RFC 1321), incremental: HTTP_GET's `digest` is the MD5 of a response body, which is hashed as it arrives
/// and never held whole; VRRP's AH authentication is HMAC-MD5 (`HMACMD5`).
public struct MD5: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476)
    /// The bytes of a block not yet complete (at most 63 of the 64 are used).
    private var buffer = [UInt8](repeating: 0, count: 64)
    private var buffered = 0
    private var length: UInt64 = 0

    public init() {}

    /// Per-round shift amounts and the sine-derived constants of RFC 1321 section 3.4.
    private static let shifts: [UInt32] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ]
    private static let constants: [UInt32] = (0..<64).map { index in
        UInt32(truncatingIfNeeded: Int64((abs(sin(Double(index + 1))) * 4_294_967_296).rounded(.down)))
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            buffer[buffered] = byte
            buffered += 1
            length &+= 1
            if buffered == 64 {
                process()
                buffered = 0
            }
        }
    }

    /// The 16 bytes of the digest.
    public mutating func finalize() -> [UInt8] {
        let bits = length &* 8
        var padding: [UInt8] = [0x80]
        let afterMarker = (buffered + 1) % 64
        padding += [UInt8](repeating: 0, count: afterMarker <= 56 ? 56 - afterMarker : 120 - afterMarker)
        for shift in stride(from: 0, to: 64, by: 8) { padding.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        for byte in padding {
            buffer[buffered] = byte
            buffered += 1
            if buffered == 64 {
                process()
                buffered = 0
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(16)
        for word in [state.0, state.1, state.2, state.3] {
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) }
        }
        return out
    }

    /// The digest, as 32 lower-case hex digits (keepalived's `digest` form).
    public mutating func finish() -> String {
        var out = ""
        for byte in finalize() { out += String(byte >> 4, radix: 16) + String(byte & 0x0f, radix: 16) }
        return out
    }

    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var md5 = MD5()
        md5.update(bytes)
        return md5.finish()
    }

    public static func digest(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var md5 = MD5()
        md5.update(bytes)
        return md5.finalize()
    }

    private mutating func process() {
        var words = (
            UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0),
            UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0)
        )
        buffer.withUnsafeBufferPointer { block in
            withUnsafeMutableBytes(of: &words) { raw in
                let out = raw.bindMemory(to: UInt32.self)
                for index in 0..<16 {
                    out[index] =
                        UInt32(block[index * 4]) | UInt32(block[index * 4 + 1]) << 8
                        | UInt32(block[index * 4 + 2]) << 16 | UInt32(block[index * 4 + 3]) << 24
                }
            }
        }
        var (a, b, c, d) = state
        withUnsafeBytes(of: &words) { raw in
            let word = raw.bindMemory(to: UInt32.self)
            Self.constants.withUnsafeBufferPointer { constants in
                Self.shifts.withUnsafeBufferPointer { shifts in
                    for index in 0..<64 {
                        var f: UInt32
                        let g: Int
                        switch index {
                        case 0..<16:
                            f = (b & c) | (~b & d)
                            g = index
                        case 16..<32:
                            f = (d & b) | (~d & c)
                            g = (5 &* index &+ 1) & 15
                        case 32..<48:
                            f = b ^ c ^ d
                            g = (3 &* index &+ 5) & 15
                        default:
                            f = c ^ (b | ~d)
                            g = (7 &* index) & 15
                        }
                        f = f &+ a &+ constants[index] &+ word[g]
                        a = d
                        d = c
                        c = b
                        b = b &+ ((f << shifts[index]) | (f >> (32 &- shifts[index])))
                    }
                }
            }
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }
}

#if canImport(Glibc)
    import Glibc
#endif

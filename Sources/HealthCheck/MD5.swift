/// MD5 (RFC 1321), incremental: HTTP_GET's `digest` is the MD5 of a response body, which is hashed as it arrives
/// and never held whole.
public struct MD5: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476)
    private var buffer = [UInt8]()
    private var length: UInt64 = 0

    public init() { buffer.reserveCapacity(64) }

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
            buffer.append(byte)
            length &+= 1
            if buffer.count == 64 {
                process(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
    }

    /// The digest, as 32 lower-case hex digits (keepalived's `digest` form).
    public mutating func finish() -> String {
        let bits = length &* 8
        update([0x80])
        while buffer.count != 56 { update([0]) }
        var tail = [UInt8]()
        for shift in stride(from: 0, to: 64, by: 8) { tail.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        for byte in tail {
            buffer.append(byte)
        }
        process(buffer)
        buffer.removeAll()
        var out = ""
        for word in [state.0, state.1, state.2, state.3] {
            for shift in stride(from: 0, to: 32, by: 8) {
                let byte = UInt8(truncatingIfNeeded: word >> UInt32(shift))
                out += String(byte >> 4, radix: 16) + String(byte & 0x0f, radix: 16)
            }
        }
        return out
    }

    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var md5 = MD5()
        md5.update(bytes)
        return md5.finish()
    }

    private mutating func process(_ block: [UInt8]) {
        var words = [UInt32](repeating: 0, count: 16)
        for index in 0..<16 {
            words[index] =
                UInt32(block[index * 4]) | UInt32(block[index * 4 + 1]) << 8 | UInt32(block[index * 4 + 2]) << 16
                | UInt32(block[index * 4 + 3]) << 24
        }
        var (a, b, c, d) = state
        for index in 0..<64 {
            var f: UInt32
            let g: Int
            switch index {
            case 0..<16:
                f = (b & c) | (~b & d)
                g = index
            case 16..<32:
                f = (d & b) | (~d & c)
                g = (5 * index + 1) % 16
            case 32..<48:
                f = b ^ c ^ d
                g = (3 * index + 5) % 16
            default:
                f = c ^ (b | ~d)
                g = (7 * index) % 16
            }
            f = f &+ a &+ Self.constants[index] &+ words[g]
            a = d
            d = c
            c = b
            b = b &+ ((f << Self.shifts[index]) | (f >> (32 - Self.shifts[index])))
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }
}

#if canImport(Glibc)
    import Glibc
#endif

import Checksums
import Testing

@Suite("Checksums: the Internet checksum, MD5, HMAC-MD5")
struct ChecksumsTests {
    @Test("MD5 of RFC 1321's test suite, whole and byte by byte")
    func md5() {
        #expect(MD5.hex(Array("".utf8)) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(MD5.hex(Array("abc".utf8)) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(MD5.hex(Array("message digest".utf8)) == "f96b697d7cb7938d525a2f31aaf161d0")
        let digits = "12345678901234567890123456789012345678901234567890123456789012345678901234567890"
        #expect(MD5.hex(Array(digits.utf8)) == "57edf4a22be3c955ac49da2e2107b67a")
        var pieces = MD5()
        for byte in digits.utf8 { pieces.update([byte]) }
        #expect(pieces.finish() == "57edf4a22be3c955ac49da2e2107b67a")
        // Lengths around the padding boundary (55, 56, 63, 64 bytes), against digests from coreutils' md5sum.
        #expect(MD5.hex([UInt8](repeating: 0x61, count: 55)) == "ef1772b6dff9a122358552954ad0df65")
        #expect(MD5.hex([UInt8](repeating: 0x61, count: 56)) == "3b0c8ac703f828b04c6c197006d17218")
        #expect(MD5.hex([UInt8](repeating: 0x61, count: 63)) == "b06521f39153d618550606be297466d5")
        #expect(MD5.hex([UInt8](repeating: 0x61, count: 64)) == "014842d480b571495a4a0363793f7367")
    }

    func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0 >> 4, radix: 16) + String($0 & 0x0f, radix: 16) }.joined()
    }

    @Test("HMAC-MD5 of RFC 2202's test cases")
    func hmac() {
        #expect(
            hex(HMACMD5(key: [UInt8](repeating: 0x0b, count: 16)).code(Array("Hi There".utf8)))
                == "9294727a3638bb1c13f48ef8158bfc9d")
        #expect(
            hex(HMACMD5(key: Array("Jefe".utf8)).code(Array("what do ya want ".utf8), Array("for nothing?".utf8)))
                == "750c783e6ab0b503eaa86e310a5db738")
        #expect(
            hex(HMACMD5(key: [UInt8](repeating: 0xaa, count: 16)).code([UInt8](repeating: 0xdd, count: 50)))
                == "56be34521d144c88dbb8c733f0e8b3f6")
        // A key longer than the block is hashed first.
        #expect(
            hex(
                HMACMD5(key: [UInt8](repeating: 0xaa, count: 80)).code(
                    Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd")
    }

    @Test("the Internet checksum of RFC 1071's example, in odd pieces")
    func internetChecksum() {
        let bytes: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        #expect(InternetChecksum.of(bytes) == ~UInt16(0xddf2))
        var pieces = InternetChecksum()
        pieces.add(bytes[0..<3])
        pieces.add(bytes[3..<8])
        #expect(pieces.value == ~UInt16(0xddf2))
        var words = InternetChecksum()
        words.add([0x00])
        words.add(word: 0x01f2)
        words.add(bytes[3..<8])
        #expect(words.value == ~UInt16(0xddf2))
    }
}

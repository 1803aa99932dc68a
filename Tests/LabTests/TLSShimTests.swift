import Foundation
import Testing
import VigilTestSupport

/// The TLS shim (CLinux/shim.c) loads libssl at run time, so it types OpenSSL's prototypes and constants by hand
/// (no OpenSSL headers are needed to build Vigil). Here they are checked against the headers of libssl-dev, which
/// the test command installs: a wrong constant or signature fails to compile.
@Suite("TLS shim against OpenSSL's headers", .enabled(if: TestLab.shouldRun))
struct TLSShimTests {
    static let checks = #"""
        #include <openssl/ssl.h>
        #include <openssl/err.h>
        _Static_assert(SSL_CTRL_SET_TLSEXT_HOSTNAME == 55, "SSL_set_tlsext_host_name's control");
        _Static_assert(TLSEXT_NAMETYPE_host_name == 0, "host name type");
        _Static_assert(SSL_ERROR_WANT_READ == 2, "want read");
        _Static_assert(SSL_ERROR_WANT_WRITE == 3, "want write");
        _Static_assert(SSL_ERROR_ZERO_RETURN == 6, "zero return");
        _Static_assert(SSL_VERIFY_PEER == 1, "verify peer");
        _Static_assert(SSL_FILETYPE_PEM == 1, "PEM files");
        #define SAME(function, type) _Static_assert(__builtin_types_compatible_p(__typeof__(&function), type), #function)
        SAME(TLS_client_method, const SSL_METHOD *(*)(void));
        SAME(SSL_CTX_new, SSL_CTX *(*)(const SSL_METHOD *));
        SAME(SSL_CTX_set_verify, void (*)(SSL_CTX *, int, SSL_verify_cb));
        SAME(SSL_CTX_load_verify_locations, int (*)(SSL_CTX *, const char *, const char *));
        SAME(SSL_CTX_use_certificate_file, int (*)(SSL_CTX *, const char *, int));
        SAME(SSL_CTX_use_PrivateKey_file, int (*)(SSL_CTX *, const char *, int));
        SAME(SSL_CTX_free, void (*)(SSL_CTX *));
        SAME(SSL_new, SSL *(*)(SSL_CTX *));
        SAME(SSL_set_fd, int (*)(SSL *, int));
        SAME(SSL_ctrl, long (*)(SSL *, int, long, void *));
        SAME(SSL_connect, int (*)(SSL *));
        SAME(SSL_read, int (*)(SSL *, void *, int));
        SAME(SSL_write, int (*)(SSL *, const void *, int));
        SAME(SSL_get_error, int (*)(const SSL *, int));
        SAME(SSL_free, void (*)(SSL *));
        SAME(ERR_clear_error, void (*)(void));
        """#

    @Test("every prototype and constant the shim types by hand is OpenSSL's")
    func prototypesAndConstants() throws {
        let file = NSTemporaryDirectory() + "vigil-tls-shim-\(getpid()).c"
        try Self.checks.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try Command.run(["cc", "-fsyntax-only", file], check: false)
        #expect(result.status == 0, "\(result)")
    }
}

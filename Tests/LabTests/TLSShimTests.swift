import Foundation
import Testing
import VigilConfig
import VigilTestSupport

/// The shims (CLinux/shim.c) load libssl and libpcre2-8 at run time, so they type the libraries' prototypes and
/// constants by hand (no headers are needed to build Vigil). Here they are checked against the headers of
/// libssl-dev and libpcre2-dev, which the test command installs: a wrong constant or signature fails to compile.
@Suite("Run-time library shims against the libraries' headers", .enabled(if: TestLab.shouldRun))
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
        SAME(SSL_CTX_set_default_passwd_cb_userdata, void (*)(SSL_CTX *, void *));
        """#

    static let pcre2Checks = #"""
        #define PCRE2_CODE_UNIT_WIDTH 8
        #include <pcre2.h>
        _Static_assert(PCRE2_PARTIAL_HARD == 0x20, "partial hard");
        _Static_assert(PCRE2_ERROR_NOMATCH == -1, "no match");
        _Static_assert(PCRE2_ERROR_PARTIAL == -2, "partial");
        _Static_assert(PCRE2_INFO_MAXLOOKBEHIND == 15, "max lookbehind");
        #define SAME(function, type) _Static_assert(__builtin_types_compatible_p(__typeof__(&function), type), #function)
        SAME(pcre2_compile_8, pcre2_code_8 *(*)(PCRE2_SPTR8, PCRE2_SIZE, uint32_t, int *, PCRE2_SIZE *, pcre2_compile_context_8 *));
        SAME(pcre2_match_data_create_from_pattern_8, pcre2_match_data_8 *(*)(const pcre2_code_8 *, pcre2_general_context_8 *));
        SAME(pcre2_match_8, int (*)(const pcre2_code_8 *, PCRE2_SPTR8, PCRE2_SIZE, PCRE2_SIZE, uint32_t, pcre2_match_data_8 *, pcre2_match_context_8 *));
        SAME(pcre2_get_ovector_pointer_8, PCRE2_SIZE *(*)(pcre2_match_data_8 *));
        SAME(pcre2_get_error_message_8, int (*)(int, PCRE2_UCHAR8 *, PCRE2_SIZE));
        SAME(pcre2_pattern_info_8, int (*)(const pcre2_code_8 *, uint32_t, void *));
        SAME(pcre2_code_free_8, void (*)(pcre2_code_8 *));
        SAME(pcre2_match_data_free_8, void (*)(pcre2_match_data_8 *));
        _Static_assert(sizeof(PCRE2_SIZE) == sizeof(size_t), "PCRE2_SIZE is size_t");
        """#

    /// keepalived's `regex_options`, by name, as Vigil's table gives their bits (VigilConfig), checked against PCRE2's.
    static let optionNames = [
        "allow_empty_class", "alt_bsux", "auto_callout", "caseless", "dollar_endonly", "dotall", "dupnames",
        "extended", "firstline", "match_unset_backref", "multiline", "never_ucp", "never_utf", "no_auto_capture",
        "no_auto_possess", "no_dotstar_anchor", "no_start_optimize", "ucp", "ungreedy", "utf", "never_backslash_c",
        "alt_circumflex", "alt_verbnames", "use_offset_limit",
    ]

    @Test("every prototype and constant the shim types by hand is OpenSSL's")
    func prototypesAndConstants() throws {
        let file = NSTemporaryDirectory() + "vigil-tls-shim-\(getpid()).c"
        try Self.checks.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try Command.run(["cc", "-fsyntax-only", file], check: false)
        #expect(result.status == 0, "\(result)")
    }

    @Test("every PCRE2 prototype, constant and regex option bit the shim and the configuration use is PCRE2's")
    func pcre2() throws {
        let file = NSTemporaryDirectory() + "vigil-pcre2-shim-\(getpid()).c"
        let table = HTTPCheck.URLCheck.regexOptionTable
        #expect(table.map(\.name) == Self.optionNames, "keepalived 2.2.7's option names, in its order")
        let options = table.map { "_Static_assert(PCRE2_\($0.name.uppercased()) == \($0.bit)u, \"\($0.name)\");" }
        try (Self.pcre2Checks + "\n" + options.joined(separator: "\n") + "\n").write(
            toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try Command.run(["cc", "-fsyntax-only", file], check: false)
        #expect(result.status == 0, "\(result)")
    }
}

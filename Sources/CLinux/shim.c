// Functions glibc declares only under _GNU_SOURCE, wrapped so that Swift can call them.
#define _GNU_SOURCE
#include <linux/filter.h>
#include <fcntl.h>
#include <unistd.h>

#include "CLinux.h"

int vigil_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

#include <grp.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/syscall.h>

int vigil_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

pid_t vigil_spawn(const char *path, char *const argv[], char *const envp[], int uid, int gid, int output_fd) {
    pid_t pid = fork();
    if (pid != 0) return pid < 0 ? -errno : pid;
    // The child: only async-signal-safe calls until execve.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    // Ignored signals would stay ignored across execve (a script with SIGPIPE ignored never dies of a closed pipe).
    for (int sig = 1; sig < 32; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
    }
    setpgid(0, 0);
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) dup2(null_fd, 0);
    int out = output_fd >= 0 ? output_fd : null_fd;
    if (out >= 0) {
        dup2(out, 1);
        dup2(out, 2);
    }
    if (gid >= 0) {
        if (setgroups(0, NULL) != 0 || setgid((gid_t)gid) != 0) _exit(126);
    }
    if (uid >= 0) {
        if (setuid((uid_t)uid) != 0) _exit(126);
    }
    // If Vigil dies, its scripts get SIGTERM (set after the user change, which clears it).
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    execve(path, argv, envp);
    _exit(127);
}

#include <sys/socket.h>

int vigil_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }

int vigil_peer_uid(int fd, uid_t *uid) {
    struct ucred credentials;
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *uid = credentials.uid;
    return 0;
}

/// Sends `count` copies of one frame on a bound packet socket with sendmmsg, in batches of up to 64; returns how
/// many went out (stops at the first error).
int vigil_drop_all_input(int fd) {
    struct sock_filter code[] = {{BPF_RET | BPF_K, 0, 0, 0}};
    struct sock_fprog program = {.len = 1, .filter = code};
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof(program));
}

int vigil_send_copies(int fd, const void *frame, size_t length, unsigned count) {
    struct iovec vector = {(void *)frame, length};
    struct mmsghdr messages[64];
    memset(messages, 0, sizeof(messages));
    for (int i = 0; i < 64; i++) {
        messages[i].msg_hdr.msg_iov = &vector;
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    unsigned sent = 0;
    while (sent < count) {
        unsigned batch = count - sent < 64 ? count - sent : 64;
        int result = sendmmsg(fd, messages, batch, 0);
        if (result <= 0) break;
        sent += (unsigned)result;
    }
    return (int)sent;
}

// MARK: TLS through the system's libssl, loaded at run time (SSL_GET checks): no OpenSSL headers or library are
// needed to build Vigil, and a machine without libssl only loses SSL_GET.

#include <dlfcn.h>
#include <stdio.h>

static void *tls_library;
static const void *(*tls_client_method)(void);
static void *(*tls_ctx_new)(const void *);
static void (*tls_ctx_set_verify)(void *, int, void *);
static int (*tls_ctx_load_verify_locations)(void *, const char *, const char *);
static int (*tls_ctx_use_certificate_file)(void *, const char *, int);
static int (*tls_ctx_use_private_key_file)(void *, const char *, int);
static void (*tls_ctx_free)(void *);
static void *(*tls_new)(void *);
static int (*tls_set_fd)(void *, int);
static long (*tls_ctrl)(void *, int, long, void *);
static int (*tls_connect)(void *);
static int (*tls_read)(void *, void *, int);
static int (*tls_write)(void *, const void *, int);
static int (*tls_get_error)(const void *, int);
static void (*tls_free)(void *);
static void (*tls_clear_errors)(void);
static void (*tls_ctx_set_password)(void *, void *);

int vigil_tls_available(void) {
    if (tls_library) return 1;
    void *library = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!library) library = dlopen("libssl.so", RTLD_NOW | RTLD_LOCAL);
    if (!library) return 0;
#define LOAD(pointer, name)                                 \
    do {                                                    \
        *(void **)(&pointer) = dlsym(library, name);        \
        if (!pointer) { dlclose(library); return 0; }       \
    } while (0)
    LOAD(tls_client_method, "TLS_client_method");
    LOAD(tls_ctx_new, "SSL_CTX_new");
    LOAD(tls_ctx_set_verify, "SSL_CTX_set_verify");
    LOAD(tls_ctx_load_verify_locations, "SSL_CTX_load_verify_locations");
    LOAD(tls_ctx_use_certificate_file, "SSL_CTX_use_certificate_file");
    LOAD(tls_ctx_use_private_key_file, "SSL_CTX_use_PrivateKey_file");
    LOAD(tls_ctx_free, "SSL_CTX_free");
    LOAD(tls_new, "SSL_new");
    LOAD(tls_set_fd, "SSL_set_fd");
    LOAD(tls_ctrl, "SSL_ctrl");
    LOAD(tls_connect, "SSL_connect");
    LOAD(tls_read, "SSL_read");
    LOAD(tls_write, "SSL_write");
    LOAD(tls_get_error, "SSL_get_error");
    LOAD(tls_free, "SSL_free");
    // From libcrypto, which libssl loads: dlsym searches a handle's dependencies too.
    LOAD(tls_clear_errors, "ERR_clear_error");
    LOAD(tls_ctx_set_password, "SSL_CTX_set_default_passwd_cb_userdata");
#undef LOAD
    tls_library = library;
    return 1;
}

void *vigil_tls_context(const char *ca_file, const char *certificate, const char *key, const char *password) {
    if (!vigil_tls_available()) return NULL;
    void *context = tls_ctx_new(tls_client_method());
    if (!context) return NULL;
    // OpenSSL's default password callback answers with this data when it is set: the key's password, without a
    // prompt. The context keeps the pointer, so it is kept for the process's life (one per SSL block read).
    if (password) tls_ctx_set_password(context, strdup(password));
    // As keepalived: the real server's certificate is verified only when a CA is given.
    tls_ctx_set_verify(context, ca_file ? 1 : 0, NULL);
    if (ca_file && tls_ctx_load_verify_locations(context, ca_file, NULL) != 1) goto fail;
    if (certificate && tls_ctx_use_certificate_file(context, certificate, 1) != 1) goto fail;
    if (key && tls_ctx_use_private_key_file(context, key, 1) != 1) goto fail;
    return context;
fail:
    tls_ctx_free(context);
    return NULL;
}

void vigil_tls_context_free(void *context) {
    if (context) tls_ctx_free(context);
}

void *vigil_tls_session(void *context, int fd, const char *server_name) {
    void *session = tls_new(context);
    if (!session) return NULL;
    tls_set_fd(session, fd);
    // SSL_set_tlsext_host_name: SSL_ctrl(s, SSL_CTRL_SET_TLSEXT_HOSTNAME (55), TLSEXT_NAMETYPE_host_name (0), name)
    if (server_name) tls_ctrl(session, 55, 0, (void *)server_name);
    return session;
}

void vigil_tls_session_free(void *session) {
    if (session) tls_free(session);
}

// 1 done (or bytes for read/write), 0 closed, -2 wants to read, -3 wants to write, -1 failed.
static int tls_outcome(void *session, int result) {
    if (result > 0) return result;
    switch (tls_get_error(session, result)) {
    case 2: return -2;  // SSL_ERROR_WANT_READ
    case 3: return -3;  // SSL_ERROR_WANT_WRITE
    case 6: return 0;   // SSL_ERROR_ZERO_RETURN
    default: return -1;
    }
}

// OpenSSL's error queue is per thread, and every probe runs on the checker's one thread: it must be empty before
// each call whose result is read with SSL_get_error, or one server's verification failure left in the queue reads
// as the next call's failure, on another server's session (SSL_get_error(3)).
int vigil_tls_handshake(void *session) {
    tls_clear_errors();
    return tls_outcome(session, tls_connect(session));
}
int vigil_tls_read(void *session, void *buffer, int length) {
    tls_clear_errors();
    return tls_outcome(session, tls_read(session, buffer, length));
}
int vigil_tls_write(void *session, const void *buffer, int length) {
    tls_clear_errors();
    return tls_outcome(session, tls_write(session, buffer, length));
}

// PCRE2 (libpcre2-8), loaded when an HTTP check has a `regex`: every Debian system has the library (grep needs it),
// and a daemon without regex checks does not load it.
static void *regex_library;
static void *(*re_compile)(const unsigned char *, size_t, uint32_t, int *, size_t *, void *);
static void *(*re_match_data_create)(const void *, void *);
static int (*re_match)(const void *, const unsigned char *, size_t, size_t, uint32_t, void *, void *);
static size_t *(*re_ovector)(void *);
static int (*re_error_message)(int, unsigned char *, size_t);
static int (*re_pattern_info)(const void *, uint32_t, void *);
static void (*re_code_free)(void *);
static void (*re_match_data_free)(void *);

int vigil_regex_available(void) {
    if (regex_library) return 1;
    void *library = dlopen("libpcre2-8.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!library) return 0;
#define LOAD(pointer, name)                                 \
    do {                                                    \
        *(void **)(&pointer) = dlsym(library, name);        \
        if (!pointer) { dlclose(library); return 0; }       \
    } while (0)
    LOAD(re_compile, "pcre2_compile_8");
    LOAD(re_match_data_create, "pcre2_match_data_create_from_pattern_8");
    LOAD(re_match, "pcre2_match_8");
    LOAD(re_ovector, "pcre2_get_ovector_pointer_8");
    LOAD(re_error_message, "pcre2_get_error_message_8");
    LOAD(re_pattern_info, "pcre2_pattern_info_8");
    LOAD(re_code_free, "pcre2_code_free_8");
    LOAD(re_match_data_free, "pcre2_match_data_free_8");
#undef LOAD
    regex_library = library;
    return 1;
}

void *vigil_regex_compile(const char *pattern, size_t length, uint32_t options, char *error, size_t error_size,
                          size_t *error_offset) {
    if (!vigil_regex_available()) {
        snprintf(error, error_size, "libpcre2-8.so.0 cannot be loaded");
        *error_offset = 0;
        return NULL;
    }
    int code = 0;
    void *compiled = re_compile((const unsigned char *)pattern, length, options, &code, error_offset, NULL);
    if (!compiled) re_error_message(code, (unsigned char *)error, error_size);
    return compiled;
}

uint32_t vigil_regex_max_lookbehind(void *compiled) {
    uint32_t value = 0;
    re_pattern_info(compiled, 15 /* PCRE2_INFO_MAXLOOKBEHIND */, &value);
    return value;
}

void *vigil_regex_match_data(void *compiled) { return re_match_data_create(compiled, NULL); }

// 1 matched, 0 no match, 2 partial match (more input could complete it), -1 an error; *start: where the (partial)
// match starts.
int vigil_regex_match(void *compiled, void *match_data, const unsigned char *subject, size_t length, size_t offset,
                      int partial, size_t *start) {
    uint32_t options = partial ? 0x20 /* PCRE2_PARTIAL_HARD */ : 0;
    int result = re_match(compiled, subject, length, offset, options, match_data, NULL);
    if (result == -1 /* PCRE2_ERROR_NOMATCH */) return 0;
    if (result == -2 /* PCRE2_ERROR_PARTIAL */) {
        *start = re_ovector(match_data)[0];
        return 2;
    }
    if (result < 0) return -1;
    *start = re_ovector(match_data)[0];
    return 1;
}

void vigil_regex_free(void *compiled, void *match_data) {
    if (match_data) re_match_data_free(match_data);
    if (compiled) re_code_free(compiled);
}

int vigil_sched_setaffinity(int tid, size_t size, const unsigned char *mask) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (size_t cpu = 0; cpu < size * 8 && cpu < CPU_SETSIZE; cpu++) {
        if (mask[cpu / 8] & (1u << (cpu % 8))) CPU_SET(cpu, &set);
    }
    return sched_setaffinity(tid, sizeof set, &set);
}

// Kernel and libc declarations Swift's Glibc module lacks: netlink, rtnetlink, packet sockets, ARP, ICMPv6,
// timerfd, epoll, signalfd; and static inline wrappers for the NLMSG_*, RTA_*, IFA_*, IFLA_* and CMSG_* macros,
// which Swift cannot import.
#ifndef VIGIL_CLINUX_H
#define VIGIL_CLINUX_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <syslog.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#ifndef IFA_PROTO
#define IFA_PROTO 11
#endif

// The IPv6 packet-info control message, which glibc declares only under _GNU_SOURCE.
struct vigil_in6_pktinfo {
    struct in6_addr ipi6_addr;
    unsigned int ipi6_ifindex;
};

#ifndef IPV6_RECVPKTINFO
#define IPV6_RECVPKTINFO 49
#endif
#ifndef IPV6_PKTINFO
#define IPV6_PKTINFO 50
#endif
#ifndef IPV6_RECVHOPLIMIT
#define IPV6_RECVHOPLIMIT 51
#endif
#ifndef IPV6_HOPLIMIT
#define IPV6_HOPLIMIT 52
#endif
#ifndef IPV6_TCLASS
#define IPV6_TCLASS 67
#endif

// The IPv4 multicast request with an interface index, declared by glibc only under _GNU_SOURCE/__USE_MISC.
struct vigil_ip_mreqn {
    struct in_addr imr_multiaddr;
    struct in_addr imr_address;
    int imr_ifindex;
};

// posix_spawn in a new session (a GNU extension of glibc).
#ifndef POSIX_SPAWN_SETSID
#define POSIX_SPAWN_SETSID 0x80
#endif

// MARK: netlink messages

static inline uint32_t vigil_nlmsg_align(uint32_t length) { return NLMSG_ALIGN(length); }
static inline uint32_t vigil_nlmsg_hdrlen(void) { return NLMSG_HDRLEN; }
static inline uint32_t vigil_nlmsg_length(uint32_t payload) { return NLMSG_LENGTH(payload); }
static inline uint32_t vigil_rta_align(uint32_t length) { return RTA_ALIGN(length); }
static inline uint32_t vigil_rta_length(uint32_t payload) { return RTA_LENGTH(payload); }

// MARK: control messages

static inline size_t vigil_cmsg_space(size_t length) { return CMSG_SPACE(length); }
static inline size_t vigil_cmsg_len(size_t length) { return CMSG_LEN(length); }
static inline struct cmsghdr *vigil_cmsg_firsthdr(struct msghdr *message) { return CMSG_FIRSTHDR(message); }
static inline struct cmsghdr *vigil_cmsg_nxthdr(struct msghdr *message, struct cmsghdr *header) {
    return CMSG_NXTHDR(message, header);
}
static inline unsigned char *vigil_cmsg_data(struct cmsghdr *header) { return CMSG_DATA(header); }

// MARK: namespaces

// setns(2), which glibc declares only under _GNU_SOURCE.
extern int setns(int fd, int nstype);
#ifndef CLONE_NEWNET
#define CLONE_NEWNET 0x40000000
#endif
static inline int vigil_clone_newnet(void) { return CLONE_NEWNET; }

// MARK: scheduling

// sched_setaffinity(2) for thread `tid` (0: the caller), the mask as bytes; glibc declares it only under _GNU_SOURCE.
int vigil_sched_setaffinity(int tid, size_t size, const unsigned char *mask);

// MARK: signals

static inline int vigil_sigaddset(sigset_t *set, int signal) { return sigaddset(set, signal); }
static inline int vigil_sigemptyset(sigset_t *set) { return sigemptyset(set); }
// SIGRTMIN and SIGRTMAX are function calls in glibc, not constants.
static inline int vigil_sigrtmin(void) { return SIGRTMIN; }
static inline int vigil_sigrtmax(void) { return SIGRTMAX; }

// MARK: wait status

static inline int vigil_wifexited(int status) { return WIFEXITED(status); }
static inline int vigil_wexitstatus(int status) { return WEXITSTATUS(status); }
static inline int vigil_wifsignaled(int status) { return WIFSIGNALED(status); }
static inline int vigil_wtermsig(int status) { return WTERMSIG(status); }

// MARK: syslog (variadic in C, so Swift cannot call it directly)

static inline void vigil_syslog(int priority, const char *message) { syslog(priority, "%s", message); }

// MARK: GNU extensions (implemented in shim.c)

int vigil_pipe_cloexec(int fds[2]);
int vigil_pidfd_open(pid_t pid);
/// accept4 without the peer's address.
int vigil_accept4(int fd, int flags);
/// Sends `count` copies of a frame with sendmmsg; returns how many were sent.
int vigil_send_copies(int fd, const void *frame, size_t length, unsigned count);
/// Attaches a classic BPF program that drops every packet: a socket that only sends never queues input.
int vigil_drop_all_input(int fd);
/// TLS through the system's libssl, loaded at run time: whether it could be loaded; a client context (CA file,
/// client certificate and key optional); a session on a connected socket with SNI; the handshake, reads and writes
/// (bytes or 1 on success, 0 closed, -2 wants to read, -3 wants to write, -1 failed).
int vigil_tls_available(void);
void *vigil_tls_context(const char *ca_file, const char *certificate, const char *key, const char *password);
void vigil_tls_context_free(void *context);
void *vigil_tls_session(void *context, int fd, const char *server_name);
void vigil_tls_session_free(void *session);
int vigil_tls_handshake(void *session);
int vigil_tls_read(void *session, void *buffer, int length);
int vigil_tls_write(void *session, const void *buffer, int length);

int vigil_regex_available(void);
void *vigil_regex_compile(const char *pattern, size_t length, uint32_t options, char *error, size_t error_size,
                          size_t *error_offset);
uint32_t vigil_regex_max_lookbehind(void *compiled);
void *vigil_regex_match_data(void *compiled);
int vigil_regex_match(void *compiled, void *match_data, const unsigned char *subject, size_t length, size_t offset,
                      int partial, size_t *start);
void vigil_regex_free(void *compiled, void *match_data);
/// The uid of a Unix socket's peer (SO_PEERCRED); 0 on success.
int vigil_peer_uid(int fd, uid_t *uid);
/// fork + (new process group, signals unblocked, stdio on /dev/null or output_fd, optionally setgid/setuid) +
/// execve; returns the child's pid or -errno. uid or gid -1: unchanged.
pid_t vigil_spawn(const char *path, char *const argv[], char *const envp[], int uid, int gid, int output_fd);

// MARK: errno (a thread-local the Swift importer hides behind a function)

static inline int vigil_errno(void) { return errno; }

#endif

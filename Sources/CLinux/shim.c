// Functions glibc declares only under _GNU_SOURCE, wrapped so that Swift can call them.
#define _GNU_SOURCE
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

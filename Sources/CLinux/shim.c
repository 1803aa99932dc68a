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

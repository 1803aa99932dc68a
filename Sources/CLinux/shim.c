// Functions glibc declares only under _GNU_SOURCE, wrapped so that Swift can call them.
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "CLinux.h"

int vigil_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

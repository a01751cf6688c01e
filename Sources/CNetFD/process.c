/*
 * process.c - fork, pidfds and pipes (syscalls: clone (by glibc's fork, then
 * set_robust_list in the child), pidfd_open, pidfd_getfd (tests only), pipe2).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sched.h>
#include <sys/syscall.h>
#include "netfd_shim.h"

/* glibc 2.36's _Fork (sysdeps/unix/sysv/linux/arch-fork.h): clone with these
 * flags, no new stack; the child then registers its robust futex list. */
const unsigned long netfd_FORK_CLONE_FLAGS = CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD;

int netfd_fork(void)
{
    /* glibc's fork, not a raw clone: it keeps the C library's own state
     * (thread id, locks, atfork handlers) right in the child. */
    pid_t pid = fork();

    return pid < 0 ? -errno : (int)pid;
}

int netfd_pidfd_open(int pid)
{
    long fd = syscall(SYS_pidfd_open, (pid_t)pid, 0);

    return fd < 0 ? -errno : (int)fd;
}

int netfd_pidfd_getfd(int pidfd, int fd)
{
    long copy = syscall(SYS_pidfd_getfd, pidfd, fd, 0);

    return copy < 0 ? -errno : (int)copy;
}

int netfd_pipe(int fds[2])
{
    return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0;
}

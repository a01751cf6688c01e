/* descriptors.c - closing inherited descriptors, entering namespaces, random bytes (syscalls: close_range, setns, getrandom) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include "netfd_shim.h"

const int netfd_CLONE_NEWNET = CLONE_NEWNET;

int netfd_errno(void)
{
    return errno;
}

int netfd_open(const char *path, int flags, unsigned int mode)
{
    return open(path, flags, (mode_t)mode);
}

int netfd_descriptor_flags(int fd)
{
    return fcntl(fd, F_GETFD);
}

int netfd_close_range(unsigned int first, unsigned int last)
{
    return syscall(SYS_close_range, first, last, 0) < 0 ? -errno : 0;
}

int netfd_setns(int fd, int nstype)
{
    return setns(fd, nstype) < 0 ? -errno : 0;
}

int netfd_random_bytes(void *buffer, size_t length)
{
    ssize_t n = getrandom(buffer, length, 0);

    if (n < 0)
        return -errno;
    return n == (ssize_t)length ? 0 : -EIO;
}

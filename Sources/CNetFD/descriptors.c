/* descriptors.c - closing inherited descriptors, entering namespaces (syscalls: close_range, setns) */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "netfd_shim.h"

const int netfd_CLONE_NEWNET = CLONE_NEWNET;

int netfd_close_range(unsigned int first, unsigned int last)
{
    return syscall(SYS_close_range, first, last, 0) < 0 ? -errno : 0;
}

int netfd_setns(int fd, int nstype)
{
    return setns(fd, nstype) < 0 ? -errno : 0;
}

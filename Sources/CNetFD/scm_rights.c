/* scm_rights.c - one descriptor over a unix socket (syscalls: sendmsg, recvmsg, close) */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "netfd_shim.h"

int netfd_send_fd(int sock, int fd, unsigned char byte)
{
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = control.buf, .msg_controllen = sizeof(control.buf) };
    struct cmsghdr *cmsg;
    ssize_t sent;

    memset(&control, 0, sizeof(control));
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));

    sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (sent < 0)
        return -errno;
    return sent == 1 ? 0 : -EIO;
}

int netfd_recv_fd(int sock, int *fd_out, unsigned char *byte_out)
{
    /* Room for several descriptors so that extras can be found and closed. */
    union { char buf[CMSG_SPACE(sizeof(int) * 8)]; struct cmsghdr align; } control;
    struct iovec iov = { .iov_base = byte_out, .iov_len = 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = control.buf, .msg_controllen = sizeof(control.buf) };
    struct cmsghdr *cmsg;
    int received = -1, extra = 0;
    ssize_t n;

    *fd_out = -1;
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0)
        return -errno;
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        size_t i, count;
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
            continue;
        count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            if (received < 0) {
                received = fd;
            } else {
                close(fd);
                extra = 1;
            }
        }
    }
    if (extra || (msg.msg_flags & MSG_CTRUNC)) {
        if (received >= 0)
            close(received);
        return -EBADMSG;
    }
    *fd_out = received;
    return (int)n;
}

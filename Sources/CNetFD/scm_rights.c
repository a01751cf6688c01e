/*
 * scm_rights.c - descriptors over a unix socket: exactly one with one byte (the
 * QEMU bridge-helper contract), or up to SCM_MAX_FD with a message of up to a
 * page, each in one sendmsg/recvmsg (syscalls: sendmsg, recvmsg, close).
 */
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

/* Room for the most descriptors one message can carry, so that a receiver
 * expecting fewer still gets (and closes) every one that came. */
#define NETFD_SCM_CONTROL_SIZE CMSG_SPACE(sizeof(int) * NETFD_SCM_MAX_FD)

int netfd_send_fds(int sock, const int *fds, size_t count, const void *data, size_t length)
{
    union { char buf[NETFD_SCM_CONTROL_SIZE]; struct cmsghdr align; } control;
    struct iovec iov = { .iov_base = (void *)data, .iov_len = length };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    ssize_t sent;

    /* A stream socket drops descriptors sent without data: at least one byte. */
    if (count > NETFD_SCM_MAX_FD || length == 0 || length > NETFD_MESSAGE_MAX || data == NULL
        || (count > 0 && fds == NULL))
        return -EINVAL;
    if (count > 0) {
        struct cmsghdr *cmsg;

        memset(&control, 0, sizeof(control));
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * count);
    }
    sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (sent < 0)
        return -errno;
    /* A short send would leave the rest to another call, which the receiver
     * could read without the descriptors: report it rather than retry. */
    return (size_t)sent == length ? 0 : -EIO;
}

int netfd_recv_fds(int sock, int *fds_out, size_t max_fds, size_t *count_out, void *data, size_t capacity)
{
    union { char buf[NETFD_SCM_CONTROL_SIZE]; struct cmsghdr align; } control;
    struct iovec iov = { .iov_base = data, .iov_len = capacity };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = control.buf, .msg_controllen = sizeof(control.buf) };
    int received[NETFD_SCM_MAX_FD];
    size_t count = 0, i;
    struct cmsghdr *cmsg;
    int overflow = 0;
    ssize_t n;

    *count_out = 0;
    if (max_fds > NETFD_SCM_MAX_FD || (max_fds > 0 && fds_out == NULL) || (capacity > 0 && data == NULL))
        return -EINVAL;
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0)
        return -errno;
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        size_t fds_here;

        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
            continue;
        fds_here = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < fds_here; i++) {
            int fd;

            memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            if (count < NETFD_SCM_MAX_FD)
                received[count++] = fd;
            else
                close(fd), overflow = 1;   /* cannot happen: the kernel caps at SCM_MAX_FD */
        }
    }
    if (overflow || count > max_fds || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
        for (i = 0; i < count; i++)
            close(received[i]);
        return -EBADMSG;
    }
    if (count > 0)
        memcpy(fds_out, received, sizeof(int) * count);
    *count_out = count;
    return (int)n;
}

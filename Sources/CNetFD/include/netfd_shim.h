/*
 * netfd_shim.h - the few things Swift cannot call directly.
 *
 * Variadic ioctl() and prctl(), the CMSG_* macros, the libcap-ng macros and
 * seccomp(2) are wrapped here. Every function returns 0 (or a count)
 * on success and -errno on failure; none retries on EINTR (the Swift layer
 * does that once, in one place).
 *
 * Kernel uapi headers are deliberately NOT included here: they clash with
 * Glibc's struct ifreq in Swift's module. Values Swift needs are mirrored
 * below and checked against the uapi headers with _Static_assert in the .c
 * files.
 */
#ifndef NETFD_SHIM_H
#define NETFD_SHIM_H

#include <stdint.h>
#include <sys/types.h>

/* --- tun/tap (linux/if_tun.h) ------------------------------------------ */
enum {
    NETFD_IFNAMSIZ = 16,
    NETFD_IFF_TUN = 0x0001,
    NETFD_IFF_TAP = 0x0002,
    NETFD_IFF_MULTI_QUEUE = 0x0100,
    NETFD_IFF_NO_PI = 0x1000,
    NETFD_IFF_VNET_HDR = 0x4000,
};

/** TUNGETFEATURES: stores the IFF_* flags the tun driver supports. */
int netfd_tun_get_features(int fd, unsigned int *features);
/**
 * TUNSETIFF: turns an open /dev/net/tun into a device. `name_template` may
 * hold "%d" for the kernel to choose a number; the kernel's chosen name is
 * copied to `name_out` (NETFD_IFNAMSIZ bytes, NUL-terminated).
 */
int netfd_tun_set_iff(int fd, const char *name_template, int flags, char *name_out);
/** TUNGETIFF: the device's name and IFF_* flags. */
int netfd_tun_get_iff(int fd, char *name_out, int *flags);
/** TUNSETOWNER / TUNSETGROUP: only this uid / gid may attach to the device. */
int netfd_tun_set_owner(int fd, uid_t uid);
int netfd_tun_set_group(int fd, gid_t gid);

/* --- links, by interface ioctls on any socket (link.c) -------------------- */
/*
 * Each takes the link's exact name and returns -ENAMETOOLONG for one that does
 * not fit IFNAMSIZ (never truncated), or the ioctl's -errno (-ENODEV: no such
 * link).
 */
/** SIOCGIFINDEX: the link's index. */
int netfd_interface_index(int socket_fd, const char *name);
/** SIOCGIFMTU: the link's MTU. */
int netfd_link_mtu(int socket_fd, const char *name);
/** SIOCSIFMTU. */
int netfd_link_set_mtu(int socket_fd, const char *name, int mtu);
/** SIOCSIFHWADDR with an Ethernet address of 6 bytes. */
int netfd_link_set_ethernet_address(int socket_fd, const char *name, const unsigned char address[6]);
/** SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP added. */
int netfd_link_set_up(int socket_fd, const char *name);
/**
 * SIOCBRADDIF: makes the link with index `port_index` a port of `bridge`.
 * -EOPNOTSUPP when `bridge` exists but is not a bridge.
 */
int netfd_bridge_add_port(int socket_fd, const char *bridge, int port_index);
/**
 * Whether `name` is a bridge, without changing anything: SIOCBRADDIF with port
 * index 0, which a bridge refuses with EINVAL (no such port). Returns 0 for a
 * bridge, -EOPNOTSUPP for another kind of link, -ENODEV when there is none.
 */
int netfd_bridge_probe(int socket_fd, const char *name);

/* --- SCM_RIGHTS (sys/socket.h CMSG_* macros) ------------------------------ */
/**
 * Sends exactly one data byte and exactly one descriptor in one sendmsg().
 * Returns 0 once the kernel took the whole message.
 */
int netfd_send_fd(int sock, int fd, unsigned char byte);
/**
 * Receives one data byte and at most one descriptor (MSG_CMSG_CLOEXEC).
 * Returns the number of data bytes (0 at end of stream) and stores the
 * descriptor in *fd_out (-1 when none came). Extra descriptors are closed
 * and reported as -EBADMSG, as is a truncated control message.
 */
int netfd_recv_fd(int sock, int *fd_out, unsigned char *byte_out);

/* --- SCM_RIGHTS with many descriptors (scm_rights.c) --------------------- */
enum {
    /** SCM_MAX_FD (include/net/scm.h, not uapi): the most descriptors one sendmsg may carry. */
    NETFD_SCM_MAX_FD = 253,
    /** The largest message netfd sends beside descriptors (its own limit, one page). */
    NETFD_MESSAGE_MAX = 4096,
};
/**
 * Sends `length` bytes of `data` (1..NETFD_MESSAGE_MAX) and `count` descriptors
 * (0..NETFD_SCM_MAX_FD) in ONE sendmsg(MSG_NOSIGNAL): on a stream socket the
 * descriptors arrive with the first byte and nothing is split across calls.
 * Returns 0 once the kernel took every byte, -EIO on a short send, -EINVAL for
 * a count or length out of range (before any syscall), or sendmsg's -errno.
 */
int netfd_send_fds(int sock, const int *fds, size_t count, const void *data, size_t length);
/**
 * ONE recvmsg(MSG_CMSG_CLOEXEC) of at most `capacity` bytes into `data` and at
 * most `max_fds` (<= NETFD_SCM_MAX_FD) descriptors into `fds_out`; their count
 * goes to *count_out. Returns the number of bytes (0 at end of stream). When the
 * control data was truncated (MSG_CTRUNC), datagram data was cut (MSG_TRUNC) or
 * more than `max_fds` descriptors came, every descriptor received is closed and
 * the result is -EBADMSG (*count_out 0).
 */
int netfd_recv_fds(int sock, int *fds_out, size_t max_fds, size_t *count_out, void *data, size_t capacity);

/* --- processes (process.c) ---------------------------------------------- */
/** fork(): the child's pid in the parent, 0 in the child, or -errno. */
int netfd_fork(void);
/** pidfd_open(pid, 0): a descriptor of the process (close-on-exec by the kernel), or -errno. */
int netfd_pidfd_open(int pid);
/**
 * pidfd_getfd(pidfd, fd, 0): a close-on-exec duplicate of descriptor `fd` of the
 * process `pidfd` refers to (needs ptrace rights over it). Tests only: netfd
 * itself never takes descriptors from another process.
 */
int netfd_pidfd_getfd(int pidfd, int fd);
/** pipe2(fds, O_CLOEXEC): fds[0] reads, fds[1] writes. 0 or -errno. */
int netfd_pipe(int fds[2]);

/* --- devices (devices.c) -------------------------------------------------- */
/** makedev(major, minor): the dev_t that st_rdev holds for that device number. */
uint64_t netfd_make_device(unsigned int major, unsigned int minor);

/* --- AF_PACKET (packet.c) ------------------------------------------------- */
/**
 * An AF_PACKET SOCK_RAW socket (close-on-exec) bound to the link `ifindex` for
 * Ethernet protocol `protocol` (host order; 0x0003 = ETH_P_ALL). The socket is
 * made with protocol 0, which receives nothing, and gets its protocol by bind()
 * together with the link: no frame of another link is ever queued on it.
 * PACKET_VNET_HDR when `vnet_hdr`, then bind, then a PACKET_MR_PROMISC
 * membership (dropped by the kernel when the socket closes) when `promiscuous`.
 * Returns the descriptor, or -errno with nothing left open.
 */
int netfd_packet_socket_open(int ifindex, uint16_t protocol, int vnet_hdr, int promiscuous);

/* --- rtnetlink notifications (netlink.c) ---------------------------------- */
enum {
    /** RTMGRP_LINK (linux/rtnetlink.h): the bind() group mask of RTNLGRP_LINK, link notifications. */
    NETFD_RTMGRP_LINK = 1,
};
/**
 * bind() of a netlink socket to `groups` (a mask of RTMGRP_*), with a port id the
 * kernel picks. 0 or -errno.
 */
int netfd_netlink_bind_groups(int fd, uint32_t groups);

/* --- process confinement ------------------------------------------------ */
/** prctl(PR_SET_NO_NEW_PRIVS, 1) */
int netfd_set_no_new_privs(void);
/** prctl(PR_GET_NO_NEW_PRIVS): 1 or 0, or -errno. */
int netfd_get_no_new_privs(void);

enum {
    NETFD_CAP_DAC_OVERRIDE = 1,
    NETFD_CAP_SETPCAP = 8,
    NETFD_CAP_NET_ADMIN = 12,
    NETFD_CAP_NET_RAW = 13,
};
/**
 * Keeps only those capabilities of the mask `keep` (bit N = capability N) that
 * are permitted now in the permitted set, only those of them also in
 * `keep_effective` in the effective set, and empties every other set, bounding
 * set included (libcap-ng, one apply). Stores what stays permitted in *kept.
 * Returns 0 when confined, 1 when the process held no capabilities at all
 * (nothing to drop; *kept is 0), -EPERM when the kernel still reports a
 * non-empty bounding set (libcap-ng reports success without CAP_SETPCAP; this
 * checks).
 */
int netfd_caps_limit(uint64_t keep, uint64_t keep_effective, uint64_t *kept);
/**
 * capset(2), version 3, without libcap-ng: exactly `effective` and `permitted`
 * (bit N = capability N) and an empty inheritable set. It can only lower: the
 * kernel refuses with -EPERM a permitted capability not permitted now, or an
 * effective one outside `permitted`. The bounding and ambient sets are untouched.
 */
int netfd_caps_set(uint64_t effective, uint64_t permitted);
/** capget(2), version 3: the effective and permitted sets as bit masks. 0 or -errno. */
int netfd_caps_get(uint64_t *effective, uint64_t *permitted);
/** 1 if the kernel reports an empty bounding set, 0 if not, -errno. */
int netfd_caps_bounding_set_is_empty(void);
/** 1 if `cap` is in the effective set, 0 if not, -errno. */
int netfd_caps_have_effective(int cap);

/** struct sock_filter: one classic-BPF instruction, in host byte order. */
struct netfd_bpf_insn {
    uint16_t code;
    uint8_t jt;
    uint8_t jf;
    uint32_t k;
};
enum {
    /** BPF_MAXINSNS: the most instructions the kernel accepts in one filter. */
    NETFD_BPF_MAXINSNS = 4096,
    /** Hex digits per instruction in a program's text: code (4), jt (2), jf (2), k (8). */
    NETFD_BPF_HEX_DIGITS = 16,
};
/**
 * Decodes a seccomp program's text, as netfd-seccomp-compile generates it at
 * build time: `length` lowercase hex digits (no terminator needed), 16 per
 * instruction, each the big-endian fields code (4 digits), jt (2), jf (2),
 * k (8). Stores the instructions in `program` and returns their count, or
 * -EINVAL when the text is empty, not a multiple of 16 digits long, holds
 * anything but 0-9a-f, or has more than NETFD_BPF_MAXINSNS or `capacity`
 * instructions. No syscalls.
 */
int netfd_seccomp_decode_program(const char *hex, size_t length,
                                 struct netfd_bpf_insn *program, size_t capacity);
/**
 * Decodes the program text (as netfd_seccomp_decode_program) and loads it as
 * this thread's seccomp filter with one seccomp(SECCOMP_SET_MODE_FILTER, 0)
 * call (no flags). Needs no_new_privs set (or CAP_SYS_ADMIN). Returns 0,
 * -EINVAL for malformed text (before any syscall), or seccomp(2)'s -errno.
 */
int netfd_seccomp_load_program(const char *hex, size_t length);

/* ioctl request numbers and socket constants a seccomp rule filters on. */
extern const unsigned long netfd_ioctl_TUNSETIFF;
extern const unsigned long netfd_ioctl_TUNGETIFF;
extern const unsigned long netfd_ioctl_TUNGETFEATURES;
extern const unsigned long netfd_ioctl_TUNSETOWNER;
extern const unsigned long netfd_ioctl_TUNSETGROUP;
extern const unsigned long netfd_ioctl_FIONREAD;
extern const unsigned long netfd_ioctl_SIOCGIFINDEX;
extern const unsigned long netfd_ioctl_SIOCGIFMTU;
extern const unsigned long netfd_ioctl_SIOCSIFMTU;
extern const unsigned long netfd_ioctl_SIOCSIFHWADDR;
extern const unsigned long netfd_ioctl_SIOCGIFFLAGS;
extern const unsigned long netfd_ioctl_SIOCSIFFLAGS;
extern const unsigned long netfd_ioctl_SIOCBRADDIF;
extern const int netfd_AF_NETLINK;
extern const int netfd_NETLINK_ROUTE;
extern const int netfd_SOCK_TYPE_MASK;
extern const int netfd_AF_PACKET;
extern const int netfd_SOL_PACKET;
extern const int netfd_PACKET_VNET_HDR;
extern const int netfd_PACKET_ADD_MEMBERSHIP;
extern const int netfd_PACKET_MR_PROMISC;
/** The flags glibc's fork() passes to clone(2) (clone's first argument, for a seccomp rule). */
extern const unsigned long netfd_FORK_CLONE_FLAGS;

/* --- descriptors and namespaces ----------------------------------------- */
/** The calling thread's errno (a macro in C; the embedded build has no Glibc overlay for it). */
int netfd_errno(void);
/** open(path, flags, mode): -1 with errno set on failure, like open(2) (open is variadic in C,
 * which Swift imports only through the Glibc overlay). */
int netfd_open(const char *path, int flags, unsigned int mode);
/** fcntl(fd, F_GETFD): the descriptor flags, or -1 with errno set (EBADF: not open). */
int netfd_descriptor_flags(int fd);
/** close_range(first, last, 0): closes every descriptor in [first, last]. */
int netfd_close_range(unsigned int first, unsigned int last);
/** setns(fd, nstype) for tests that work inside a network namespace. */
int netfd_setns(int fd, int nstype);
/** getrandom(2) filling all `length` bytes of `buffer`: 0, -EIO on a short read, or -errno. */
int netfd_random_bytes(void *buffer, size_t length);
/** CLONE_NEWNET */
extern const int netfd_CLONE_NEWNET;

#endif

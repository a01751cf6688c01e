/*
 * confinement.c - capabilities (libcap-ng), no_new_privs (prctl) and the
 * seccomp filter (a classic-BPF program generated at build time).
 * syscalls: capget, capset, prctl, seccomp (all before the filter is loaded)
 */
#include <errno.h>
#include <stddef.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sys/socket.h>
#include <cap-ng.h>
#include "netfd_shim.h"

_Static_assert(NETFD_CAP_DAC_OVERRIDE == CAP_DAC_OVERRIDE, "CAP_DAC_OVERRIDE");
_Static_assert(NETFD_CAP_SETPCAP == CAP_SETPCAP, "CAP_SETPCAP");
_Static_assert(NETFD_CAP_NET_ADMIN == CAP_NET_ADMIN, "CAP_NET_ADMIN");
_Static_assert(NETFD_CAP_NET_RAW == CAP_NET_RAW, "CAP_NET_RAW");

const int netfd_AF_NETLINK = AF_NETLINK;
const int netfd_NETLINK_ROUTE = NETLINK_ROUTE;
const int netfd_SOCK_TYPE_MASK = 0xf;   /* strips SOCK_CLOEXEC/SOCK_NONBLOCK */

int netfd_set_no_new_privs(void)
{
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
}

int netfd_get_no_new_privs(void)
{
    int r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    return r < 0 ? -errno : r;
}

int netfd_caps_limit(uint64_t keep, uint64_t keep_effective, uint64_t *kept)
{
    /* capget(2) for what the kernel granted: libcap-ng's capng_get_caps_process()
     * would also parse /proc/self/status through stdio, which capng_apply()
     * below does anyway for the bounding set. */
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    uint64_t effective, permitted;
    unsigned cap;
    int r;

    if (syscall(SYS_capget, &header, data) < 0)
        return -errno;
    effective = data[0].effective | (uint64_t)data[1].effective << 32;
    permitted = data[0].permitted | (uint64_t)data[1].permitted << 32;
    *kept = 0;
    if (effective == 0)
        return 1;   /* an unprivileged run: nothing to drop */
    capng_clear(CAPNG_SELECT_ALL);
    for (cap = 0; cap < 64; cap++) {
        if (!((keep & permitted) >> cap & 1))
            continue;
        if (capng_update(CAPNG_ADD, (keep_effective >> cap & 1) ? CAPNG_EFFECTIVE | CAPNG_PERMITTED : CAPNG_PERMITTED, cap) < 0)
            return -EINVAL;
    }
    *kept = keep & permitted;
    /* Bounding set first (needs CAP_SETPCAP, still held), then the capability sets. */
    r = capng_apply(CAPNG_SELECT_ALL);
    if (r < 0)
        return -EPERM;
    /* capng_apply() "succeeds" without touching the bounding set when
     * CAP_SETPCAP is missing: ask the kernel what really happened. */
    r = netfd_caps_bounding_set_is_empty();
    if (r < 0)
        return r;
    return r == 1 ? 0 : -EPERM;
}

int netfd_caps_set(uint64_t effective, uint64_t permitted)
{
    /* Raw capset(2): libcap-ng would read /proc/self/status first and could
     * only do what this does. The kernel checks that `permitted` is within
     * the current permitted set and `effective` within `permitted`. */
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    data[0].effective = (uint32_t)effective;
    data[1].effective = (uint32_t)(effective >> 32);
    data[0].permitted = (uint32_t)permitted;
    data[1].permitted = (uint32_t)(permitted >> 32);
    data[0].inheritable = 0;
    data[1].inheritable = 0;
    return syscall(SYS_capset, &header, data) < 0 ? -errno : 0;
}

int netfd_caps_get(uint64_t *effective, uint64_t *permitted)
{
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    if (syscall(SYS_capget, &header, data) < 0)
        return -errno;
    *effective = data[0].effective | (uint64_t)data[1].effective << 32;
    *permitted = data[0].permitted | (uint64_t)data[1].permitted << 32;
    return 0;
}

int netfd_caps_bounding_set_is_empty(void)
{
    unsigned int cap;

    for (cap = 0; cap <= CAP_LAST_CAP; cap++) {
        int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (r < 0)
            return errno == EINVAL ? 1 : -errno;   /* EINVAL: past the kernel's last cap */
        if (r == 1)
            return 0;
    }
    return 1;
}

int netfd_caps_have_effective(int cap)
{
    /* capget(2) itself: libcap-ng would re-read /proc/self/status twice for the same answer. */
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    if (cap < 0 || cap >= 32 * _LINUX_CAPABILITY_U32S_3)
        return 0;
    if (syscall(SYS_capget, &header, data) < 0)
        return -errno;
    return (data[cap / 32].effective >> (cap % 32)) & 1;
}

_Static_assert(sizeof(struct netfd_bpf_insn) == sizeof(struct sock_filter), "struct sock_filter");
_Static_assert(offsetof(struct netfd_bpf_insn, code) == offsetof(struct sock_filter, code), "sock_filter.code");
_Static_assert(offsetof(struct netfd_bpf_insn, jt) == offsetof(struct sock_filter, jt), "sock_filter.jt");
_Static_assert(offsetof(struct netfd_bpf_insn, jf) == offsetof(struct sock_filter, jf), "sock_filter.jf");
_Static_assert(offsetof(struct netfd_bpf_insn, k) == offsetof(struct sock_filter, k), "sock_filter.k");
_Static_assert(NETFD_BPF_MAXINSNS == BPF_MAXINSNS, "BPF_MAXINSNS");

/** The value of one lowercase hex digit, or -1 for any other character. */
static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int netfd_seccomp_decode_program(const char *hex, size_t length,
                                 struct netfd_bpf_insn *program, size_t capacity)
{
    size_t count, i, j;

    if (hex == NULL || length == 0 || length % NETFD_BPF_HEX_DIGITS != 0)
        return -EINVAL;
    count = length / NETFD_BPF_HEX_DIGITS;
    if (count > NETFD_BPF_MAXINSNS || count > capacity)
        return -EINVAL;
    for (i = 0; i < count; i++) {
        uint64_t word = 0;

        for (j = 0; j < NETFD_BPF_HEX_DIGITS; j++) {
            int digit = hex_digit(hex[i * NETFD_BPF_HEX_DIGITS + j]);
            if (digit < 0)
                return -EINVAL;
            word = word << 4 | (uint64_t)digit;
        }
        program[i].code = (uint16_t)(word >> 48);
        program[i].jt = (uint8_t)(word >> 40);
        program[i].jf = (uint8_t)(word >> 32);
        program[i].k = (uint32_t)word;
    }
    return (int)count;
}

int netfd_seccomp_load_program(const char *hex, size_t length)
{
    /* Static, not on the stack: up to 32 KiB, of which only the pages written are touched. */
    static struct netfd_bpf_insn program[NETFD_BPF_MAXINSNS];
    struct sock_fprog prog;
    int count = netfd_seccomp_decode_program(hex, length, program, NETFD_BPF_MAXINSNS);

    if (count < 0)
        return count;
    prog.len = (unsigned short)count;
    prog.filter = (struct sock_filter *)program;
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 ? -errno : 0;
}

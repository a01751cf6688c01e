/*
 * confinement.c - capabilities (libcap-ng), no_new_privs (prctl) and the
 * seccomp filter (libseccomp).
 * syscalls: capget, capset, prctl, seccomp (all before the filter is loaded)
 */
#include <errno.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <cap-ng.h>
#include <seccomp.h>
#include "netfd_shim.h"

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

int netfd_caps_limit(const int *caps, int count)
{
    int held[count > 0 ? count : 1];
    int i, r;

    capng_get_caps_process();
    if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
        return 1;   /* an unprivileged run: nothing to drop */
    for (i = 0; i < count; i++)
        held[i] = capng_have_capability(CAPNG_PERMITTED, (unsigned)caps[i]);
    capng_clear(CAPNG_SELECT_ALL);
    for (i = 0; i < count; i++) {
        if (held[i] && capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, (unsigned)caps[i]) < 0)
            return -EINVAL;
    }
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

static enum scmp_compare compare_op(int op)
{
    return op == NETFD_CMP_MASKED_EQ ? SCMP_CMP_MASKED_EQ : SCMP_CMP_EQ;
}

int netfd_seccomp_install(const struct netfd_syscall_rule *rules, int count, int *bad_rule)
{
    scmp_filter_ctx ctx;
    int i, r = 0;

    *bad_rule = -1;
    ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx)
        return -ENOMEM;
    for (i = 0; i < count && r == 0; i++) {
        const struct netfd_syscall_rule *rule = &rules[i];
        struct scmp_arg_cmp cmp[2];
        int nr = seccomp_syscall_resolve_name(rule->name), j;

        if (nr == __NR_SCMP_ERROR || rule->cmp_count < 0 || rule->cmp_count > 2) {
            *bad_rule = i;
            r = -ENOSYS;
            break;
        }
        for (j = 0; j < rule->cmp_count; j++) {
            const struct netfd_arg_cmp *c = &rule->cmp[j];
            cmp[j] = (struct scmp_arg_cmp){
                .arg = (unsigned)c->arg, .op = compare_op(c->op),
                .datum_a = c->op == NETFD_CMP_MASKED_EQ ? c->mask : c->value,
                .datum_b = c->op == NETFD_CMP_MASKED_EQ ? c->value : 0,
            };
        }
        r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, (unsigned)rule->cmp_count, cmp);
        if (r < 0)
            *bad_rule = i;
    }
    if (r == 0)
        r = seccomp_load(ctx);
    seccomp_release(ctx);
    return r;
}

int netfd_seccomp_syscall_number(const char *name)
{
    int nr = seccomp_syscall_resolve_name(name);
    return nr == __NR_SCMP_ERROR ? -ENOSYS : nr;
}

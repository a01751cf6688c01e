/*
 * seccomp_compiler.c - build time only: the syscall allow-list compiled to
 * classic BPF by libseccomp and exported through a memfd.
 * syscalls: memfd_create, write (by libseccomp), pread64, lseek, close
 * (libseccomp itself may probe seccomp(2) for the actions it supports)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/filter.h>
#include <seccomp.h>
#include "netfd_seccomp_compiler.h"

_Static_assert(NETFD_BPF_INSTRUCTION_SIZE == sizeof(struct sock_filter), "struct sock_filter");
_Static_assert(NETFD_BPF_MAX_INSTRUCTIONS == BPF_MAXINSNS, "BPF_MAXINSNS");

/** The libseccomp comparison for a NETFD_CMP_* operator (anything else compares equal). */
static enum scmp_compare compare_op(int op)
{
    return op == NETFD_CMP_MASKED_EQ ? SCMP_CMP_MASKED_EQ : SCMP_CMP_EQ;
}

/**
 * Adds `rules` to `ctx` as SCMP_ACT_ALLOW rules. Returns 0, or -errno with
 * the failing rule's index in *bad_rule.
 */
static int add_rules(scmp_filter_ctx ctx, const struct netfd_syscall_rule *rules, int count, int *bad_rule)
{
    int i;

    for (i = 0; i < count; i++) {
        const struct netfd_syscall_rule *rule = &rules[i];
        struct scmp_arg_cmp cmp[3];
        int nr, j, r;

        *bad_rule = i;
        if (rule->name == NULL || (nr = seccomp_syscall_resolve_name(rule->name)) == __NR_SCMP_ERROR)
            return -ENOSYS;
        if (rule->cmp_count < 0 || rule->cmp_count > 3)
            return -E2BIG;
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
            return r;
    }
    *bad_rule = -1;
    return 0;
}

/**
 * Writes ctx's BPF program to a memfd with seccomp_export_bpf() and reads it
 * back into `program`. Returns its size in bytes, or -errno (-ENOSPC when it
 * exceeds `capacity`).
 */
static int export_program(scmp_filter_ctx ctx, void *program, size_t capacity)
{
    int fd = memfd_create("netfd-seccomp-bpf", MFD_CLOEXEC);
    off_t size;
    size_t done = 0;
    int r = 0;

    if (fd < 0)
        return -errno;
    r = seccomp_export_bpf(ctx, fd);
    if (r == 0 && (size = lseek(fd, 0, SEEK_END)) < 0)
        r = -errno;
    if (r == 0 && (size == 0 || size % NETFD_BPF_INSTRUCTION_SIZE != 0))
        r = -EIO;
    if (r == 0 && (size_t)size > capacity)
        r = -ENOSPC;
    while (r == 0 && done < (size_t)size) {
        ssize_t n = pread(fd, (char *)program + done, (size_t)size - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            r = n < 0 ? -errno : -EIO;
        else
            done += (size_t)n;
    }
    close(fd);
    return r < 0 ? r : (int)done;
}

int netfd_seccomp_compile(const struct netfd_syscall_rule *rules, int count,
                          void *program, size_t capacity, int *bad_rule)
{
    scmp_filter_ctx ctx;
    int r;

    *bad_rule = -1;
    if (count < 0)
        return -EINVAL;
    ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx)
        return -ENOMEM;
    /* A binary tree of syscall numbers instead of a linear list: each syscall's path is about
     * log2(rules) comparisons, and the kernel emulates the filter for every syscall number when
     * it attaches it (to cache the always-allowed ones), so the helper's one seccomp(2) call
     * does a fraction of the work. The decisions are the same; NetFDCoreTests checks them by
     * running the program through a BPF interpreter. */
    r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (r == 0)
        r = add_rules(ctx, rules, count, bad_rule);
    if (r == 0)
        r = export_program(ctx, program, capacity);
    seccomp_release(ctx);
    return r;
}

int netfd_seccomp_syscall_number(const char *name)
{
    int nr = seccomp_syscall_resolve_name(name);
    return nr == __NR_SCMP_ERROR ? -ENOSYS : nr;
}

void netfd_seccomp_library_version(unsigned int *major, unsigned int *minor, unsigned int *micro)
{
    const struct scmp_version *v = seccomp_version();

    *major = v->major;
    *minor = v->minor;
    *micro = v->micro;
}

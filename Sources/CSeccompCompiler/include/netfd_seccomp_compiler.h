/*
 * netfd_seccomp_compiler.h - build time only: libseccomp compiles the
 * syscall allow-list to a classic-BPF program. Linked into the generator
 * (netfd-seccomp-compile) and the tests, never into netfd-helper, which only
 * loads the finished program (netfd_seccomp_load_program in netfd_shim.h).
 *
 * Every function returns 0 (or a count) on success and -errno on failure.
 * Kernel uapi headers are deliberately NOT included here (they clash with
 * Glibc's struct ifreq in Swift's module); the values below are checked
 * against them with _Static_assert in the .c file.
 */
#ifndef NETFD_SECCOMP_COMPILER_H
#define NETFD_SECCOMP_COMPILER_H

#include <stddef.h>
#include <stdint.h>

/** One comparison of a syscall argument; op is one of NETFD_CMP_*. */
enum { NETFD_CMP_EQ = 1, NETFD_CMP_MASKED_EQ = 2 };
struct netfd_arg_cmp {
    int arg;            /* 0..5 */
    int op;
    uint64_t mask;      /* for NETFD_CMP_MASKED_EQ */
    uint64_t value;
};
/** Allows `name` when all `cmp_count` (0..3) comparisons hold. */
struct netfd_syscall_rule {
    const char *name;
    int cmp_count;
    struct netfd_arg_cmp cmp[3];
};

enum {
    /** sizeof(struct sock_filter): u16 code, u8 jt, u8 jf, u32 k, in host byte order. */
    NETFD_BPF_INSTRUCTION_SIZE = 8,
    /** BPF_MAXINSNS: the most instructions the kernel accepts in one filter. */
    NETFD_BPF_MAX_INSTRUCTIONS = 4096,
};

/**
 * Compiles a filter that allows exactly `rules` and kills the process
 * (SECCOMP_RET_KILL_PROCESS) on anything else, for this architecture, with
 * libseccomp's default attributes: seccomp_init(SCMP_ACT_KILL_PROCESS), one
 * seccomp_rule_add_array(SCMP_ACT_ALLOW, ...) per rule, then
 * seccomp_export_bpf() into a memfd that is read back into `program`.
 * Loads nothing into the calling process.
 * Returns the program's size in bytes (a multiple of
 * NETFD_BPF_INSTRUCTION_SIZE: the raw struct sock_filter array); -ENOSYS
 * when libseccomp cannot resolve a rule's syscall name, -E2BIG when a rule has
 * more than 3 comparisons, or libseccomp's error for a rule it refuses (in
 * these three cases the index of the rule is stored in *bad_rule, else -1);
 * -ENOSPC when the program does not fit in `capacity` bytes.
 */
int netfd_seccomp_compile(const struct netfd_syscall_rule *rules, int count,
                          void *program, size_t capacity, int *bad_rule);

/** The syscall number libseccomp knows for `name` on this architecture, or -ENOSYS. */
int netfd_seccomp_syscall_number(const char *name);

/** The version of the libseccomp in use (seccomp_version()). */
void netfd_seccomp_library_version(unsigned int *major, unsigned int *minor, unsigned int *micro);

#endif

// trace_code.c - netfd_bench_trace_code: which code one exec'd program runs, in first-run order.
// syscalls: fork, ptrace (PTRACE_SINGLESTEP, PTRACE_GETREGS), execv, wait4
#define _GNU_SOURCE
#include "netfd_bench.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

int netfd_bench_trace_code(const char *path, char *const argv[], const char *out_path, long *steps, int *wait_status) {
    FILE *out = fopen(out_path, "we");
    if (!out) return -errno;
    // An open-addressing set of 16-byte code granules already written.
    const size_t capacity = 1 << 22;
    uint64_t *seen = calloc(capacity, sizeof *seen);
    if (!seen) { fclose(out); return -ENOMEM; }
    pid_t pid = fork();
    if (pid < 0) { free(seen); fclose(out); return -errno; }
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        execv(path, argv);                   // stops with SIGTRAP once the new image is loaded
        _exit(127);
    }
    int status, result = 0;
    *steps = 0;
    if (waitpid(pid, &status, 0) < 0) { result = -errno; goto done; }
    ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)PTRACE_O_EXITKILL);
    for (;;) {
        struct user_regs_struct regs;
        if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) == 0) {
            uint64_t granule = (regs.rip >> 4) + 1;
            size_t slot = (size_t)((granule * 0x9E3779B97F4A7C15ull) & (capacity - 1));
            while (seen[slot] && seen[slot] != granule) slot = (slot + 1) & (capacity - 1);
            if (!seen[slot]) {
                seen[slot] = granule;
                fprintf(out, "%llu\n", (unsigned long long)(regs.rip & ~(uint64_t)15));
            }
        }
        // A signal stop other than the single-step trap passes its signal on.
        int signal = WIFSTOPPED(status) && WSTOPSIG(status) != SIGTRAP ? WSTOPSIG(status) : 0;
        if (ptrace(PTRACE_SINGLESTEP, pid, NULL, (void *)(long)signal) < 0) { result = -errno; break; }
        if (waitpid(pid, &status, 0) < 0) { result = -errno; break; }
        if (WIFEXITED(status) || WIFSIGNALED(status)) break;
        ++*steps;
    }
done:
    *wait_status = status;
    free(seen);
    if (fclose(out) != 0 && result == 0) result = -errno;
    return result;
}

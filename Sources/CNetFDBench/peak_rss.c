// peak_rss.c - netfd_bench_peak_rss: the peak RSS of one exec'd program, read at its exit stop.
// syscalls: fork, ptrace, execv, wait4, open/read (/proc/PID/status), kill
#define _GNU_SOURCE
#include "netfd_bench.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/// Reads the VmHWM line of /proc/PID/status in KiB; -1 if it cannot.
static long read_vm_hwm(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *status = fopen(path, "re");
    if (!status) return -1;
    long kib = -1;
    while (fgets(line, sizeof line, status))
        if (strncmp(line, "VmHWM:", 6) == 0) { kib = strtol(line + 6, NULL, 10); break; }
    fclose(status);
    return kib;
}

/// With NETFD_BENCH_SMAPS=FILE, appends /proc/PID/smaps to FILE: where the resident pages are.
static void copy_smaps(pid_t pid) {
    const char *target = getenv("NETFD_BENCH_SMAPS");
    if (!target) return;
    char path[64], buffer[4096];
    snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
    FILE *in = fopen(path, "re"), *out = fopen(target, "ae");
    size_t count;
    while (in && out && (count = fread(buffer, 1, sizeof buffer, in)) > 0) fwrite(buffer, 1, count, out);
    if (in) fclose(in);
    if (out) fclose(out);
}

int netfd_bench_peak_rss(const char *path, char *const argv[], long *peak_kib, int *wait_status) {
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        raise(SIGSTOP);                      // let the parent set options before exec
        execv(path, argv);
        _exit(127);
    }
    int status;
    *peak_kib = -1;
    if (waitpid(pid, &status, 0) < 0) return -errno;
    ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL));
    ptrace(PTRACE_CONT, pid, NULL, NULL);
    for (;;) {
        if (waitpid(pid, &status, 0) < 0) return -errno;
        if (WIFEXITED(status) || WIFSIGNALED(status)) break;
        if (!WIFSTOPPED(status)) continue;
        int event = status >> 16, signal = WSTOPSIG(status);
        if (event == PTRACE_EVENT_EXIT) {
            *peak_kib = read_vm_hwm(pid);
            copy_smaps(pid);
        }
        // Event and syscall stops resume without a signal; signal stops pass theirs on.
        ptrace(PTRACE_CONT, pid, NULL, (void *)(long)((event || signal == SIGTRAP) ? 0 : signal));
    }
    *wait_status = status;
    return 0;
}

// netfd_bench.h - what the benchmark needs from C: a ptrace-observed run, which Swift cannot
// express (ptrace is variadic). Benchmark-only: never linked into netfd-helper.
#ifndef NETFD_BENCH_H
#define NETFD_BENCH_H

/// Runs `path` with `argv` (NULL-terminated) as a traced child that inherits the caller's
/// descriptors, stops it at its exit (PTRACE_O_TRACEEXIT) and reads its peak resident set
/// (VmHWM, KiB) from /proc/PID/status before letting it exit, so the figure is the exec'd
/// program's own: wait4's ru_maxrss also counts the spawning parent's memory, which a
/// vfork/fork child carries until exec.
/// With NETFD_BENCH_SMAPS=FILE set, also appends the child's /proc/PID/smaps at that stop to FILE.
/// Returns 0 with *peak_kib and *wait_status set, or -errno.
int netfd_bench_peak_rss(const char *path, char *const argv[], long *peak_kib, int *wait_status);

#endif

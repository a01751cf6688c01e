// netfd_bench.h - what the benchmark needs from C: ptrace-observed runs, which Swift cannot
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

/// Runs `path` with `argv` (NULL-terminated) as a traced child that inherits the caller's
/// descriptors and single-steps it from exec to exit, writing to `out_path` the address of every
/// 16-byte code granule it executes, in decimal, once, in the order first executed (the
/// input of scripts/link-order). Slow: about 10 µs per instruction.
/// Returns 0 with *steps (instructions stepped) and *wait_status set, or -errno.
int netfd_bench_trace_code(const char *path, char *const argv[], const char *out_path, long *steps, int *wait_status);

#endif

/*
 * startup.c - keeps two of the Swift runtime's start-up costs out of the
 * privileged helper's static executable, without changing what Swift code
 * sees.
 *
 * 1. CommandLine. libswiftCore.a's CommandLine.cpp.o defines
 *    _swift_stdlib_getUnsafeArgvArgc (CommandLine.unsafeArgv/argc), and its
 *    global constructor finds argv in a static executable by reading
 *    /proc/self/maps through stdio and walking the stack down from environ:
 *    an open, an fstat, two reads, a close and the page faults of sscanf, on
 *    every call. The C library already hands argc and argv to every
 *    .init_array function, so one here records them and the definition below
 *    returns them; the linker then never extracts CommandLine.cpp.o.
 *
 * 2. The backtracer. swiftrt.o references _swift_backtrace_isThunkFunction
 *    for the sole purpose of pulling Backtrace.cpp.o (and the crash handler)
 *    into a static executable, and Backtrace.cpp.o's global constructor then
 *    reads SWIFT_BACKTRACE (from the caller's environment, before main can
 *    clear it), readlinks /proc/self/exe, stats about nine paths looking for
 *    swift-backtrace and queries the terminal twice. A privileged helper
 *    that exits on every failure with a one-line reason has no use for
 *    crash reports from an out-of-process symbolicator, so the two symbols
 *    that pull the member in are defined here: the thunk query (never
 *    called) and the settings that swift_reportError consults.
 *
 * Were the runtime ever to need another symbol from either member, the link
 * fails with a duplicate definition instead of silently running both.
 *
 * The recorded argv is also the helper's own view of its command line
 * (netfd_startup_arguments): the embedded build (scripts/build-helper) has no
 * CommandLine and no runtime, so there the other definitions are unused.
 */
#include <stddef.h>
#include "netfd_startup.h"

/* What the constructor below recorded; argv stays NULL until it has run. */
static char **recorded_argv;
static int recorded_argc;

/**
 * Run by the C library before main, with the program's own argc and argv
 * (glibc passes argc, argv and envp to every .init_array function, static
 * executables included). Records them; touches nothing else. Priority 101,
 * the first a program may use: even a constructor that read CommandLine
 * would find the arguments.
 */
__attribute__((constructor(101)))
static void record_arguments(int argc, char **argv, char **envp)
{
    (void)envp;
    recorded_argc = argc;
    recorded_argv = argv;
}

char **_swift_stdlib_getUnsafeArgvArgc(int *argc)
{
    /* Same contract as the runtime's: an empty, NULL-terminated argv with
     * argc 0 when nothing was recorded. */
    static char *empty_argv[] = { NULL };

    if (recorded_argv == NULL) {
        *argc = 0;
        return empty_argv;
    }
    *argc = recorded_argc;
    return recorded_argv;
}

char *_Nullable *_Nonnull netfd_startup_arguments(int *_Nonnull argc)
{
    return _swift_stdlib_getUnsafeArgvArgc(argc);
}

bool _swift_backtrace_isThunkFunction(const char *mangled_name)
{
    (void)mangled_name;
    return false;
}

/*
 * The runtime's BacktraceSettings (swift/Runtime/Backtrace.h; 88 bytes in
 * Swift 6.3). Outside Backtrace.cpp.o only swift_reportError reads it, for
 * `enabled` (the int at offset 4): when it is On (1), a fatal error leaves
 * the stack trace to the backtracer. Off (0) is what the runtime itself
 * settles on when it cannot find swift-backtrace: a fatal error then prints
 * its message as usual. Nothing reads past `enabled`; the rest only keeps
 * the symbol the size of the real one.
 */
struct netfd_backtrace_settings {
    int algorithm;          /* UnwindAlgorithm: Auto */
    int enabled;            /* OnOffTty: Off */
    unsigned char rest[80];
};
struct netfd_backtrace_settings _swift_backtraceSettings = { 0, 0, { 0 } };

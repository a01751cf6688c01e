/*
 * netfd_startup.h - the helper's replacements for two parts of the Swift
 * runtime's start-up in a static executable (startup.c says why).
 *
 * Linked only into netfd-helper and netfd-helper-testhooks: both are static,
 * so these definitions keep libswiftCore.a's CommandLine.cpp.o and
 * Backtrace.cpp.o out of the link. Any other program must not link this
 * target (in a dynamic link the definitions would interpose on
 * libswiftCore.so's own).
 */
#ifndef NETFD_STARTUP_H
#define NETFD_STARTUP_H

#include <stdbool.h>

/**
 * The process's argv and argc as the C library passed them to the program's
 * constructors (argv[argc] == NULL); CommandLine.unsafeArgv and
 * CommandLine.argc read them through this. Never NULL: before the
 * constructors ran, an empty argv with *argc = 0.
 */
char *_Nullable *_Nonnull _swift_stdlib_getUnsafeArgvArgc(int *_Nonnull argc);

/** The argc and argv the C library passed to the program (recorded before main): the helper's
 * own view of its command line, in the normal build and in the embedded one, which has no
 * CommandLine. Same contract as above. */
char *_Nullable *_Nonnull netfd_startup_arguments(int *_Nonnull argc);

/**
 * The runtime's backtracer asks whether a symbol is a thunk to hide it from
 * a crash report; swiftrt.o takes its address only to force the backtracer
 * into every static executable. Here there is no backtracer: always false.
 */
bool _swift_backtrace_isThunkFunction(const char *_Nullable mangled_name);

#endif

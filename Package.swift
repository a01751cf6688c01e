// swift-tools-version:5.9
// netfd: a setuid-free helper that creates network file descriptors by policy.
import PackageDescription

/// For the helper's own code (not the library products, which must stay free of unsafe flags):
/// reach generic type metadata through accessors instead of mangled names, so the privileged
/// start-up never runs the demangler or scans every protocol conformance in the static binary;
/// and one section per function, so the linker can lay them out by link-order.txt.
/// These build the helper as an ordinary Swift executable (`swift build`, `swift run`, the
/// test-only twin with hooks); the helper as installed and benchmarked is the Embedded Swift
/// build of the same sources that scripts/build-helper makes (README, Performance).
let leanStartup: [SwiftSetting] = [.unsafeFlags([
    "-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors", "-Xfrontend", "-function-sections",
])]

/// The helper's link: static (C-like start-up: no loader, no relocations), with lld placing the
/// functions one request runs side by side, and the .data/.bss sections it touches likewise
/// (Sources/netfd-helper/link-order.txt, made by scripts/link-order from the embedded build; the
/// C library's names in it apply here too), so a call touches few 64 KiB windows of the binary
/// and few pages of its writable data.
let helperLink: [LinkerSetting] = [.unsafeFlags([
    "-static-executable", "-use-ld=lld",
    "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Sources/netfd-helper/link-order.txt",
    "-Xlinker", "--no-warn-symbol-ordering",
])]

let package = Package(
    name: "netfd",
    products: [
        .executable(name: "netfd-helper", targets: ["netfd-helper"]),
        .executable(name: "netfd-policy", targets: ["netfd-policy"]),
        .executable(name: "netfd-demo", targets: ["netfd-demo"]),
        .executable(name: "netfd-client", targets: ["netfd-client"]),
        .library(name: "NetFDClient", targets: ["NetFDClient"]),
        .library(name: "NetFDPolicy", targets: ["NetFDPolicy"]),
    ],
    targets: [
        // System libraries (Debian: libcap-ng-dev, libseccomp-dev). libseccomp is used at build
        // time only (CSeccompCompiler); the helper does not link it.
        .systemLibrary(name: "CCapNG", path: "Sources/CCapNG", providers: [.apt(["libcap-ng-dev"])]),
        .systemLibrary(name: "CSeccomp", path: "Sources/CSeccomp", providers: [.apt(["libseccomp-dev"])]),
        // What Swift cannot call: ioctl numbers, prctl, CMSG, capng macros, seccomp(2). Returns -errno.
        .target(
            name: "CNetFD",
            dependencies: ["CCapNG"],
            linkerSettings: [.linkedLibrary("cap-ng")]
        ),
        // Linked into the two helper executables only (static links): argv from the C library
        // instead of the runtime's /proc/self/maps scan, and no crash backtracer (startup.c).
        .target(name: "CNetFDStartup"),
        // Build time only: libseccomp compiles syscall rules to a classic-BPF program (exported
        // through a memfd). Used by netfd-seccomp-compile and the tests, never by the helper.
        .target(
            name: "CSeccompCompiler",
            dependencies: ["CSeccomp"],
            linkerSettings: [.linkedLibrary("seccomp")]
        ),
        // Build time only: the Swift side of CSeccompCompiler (rules in, instructions and hex out).
        .target(name: "NetFDSeccompCompiler", dependencies: ["CSeccompCompiler", "NetFDSystem"]),
        // Build time only: compiles SyscallAllowList.helper into CompiledSyscallFilter.swift.
        .executableTarget(name: "netfd-seccomp-compile", dependencies: ["NetFDCore", "NetFDSeccompCompiler"]),
        // Runs netfd-seccomp-compile for the helper targets, so they load a finished BPF program
        // with one seccomp(2) call instead of running libseccomp on every invocation.
        .plugin(
            name: "SyscallFilterPlugin",
            capability: .buildTool(),
            dependencies: ["netfd-seccomp-compile"],
            path: "Sources/SyscallFilterPlugin"
        ),
        // Pure Swift: the policy language (parse, resolve, decide, explain). No syscalls.
        .target(name: "NetFDPolicy"),
        // Thin typed layer over the syscalls netfd uses; EINTR handled once.
        .target(name: "NetFDSystem", dependencies: ["CNetFD"]),
        // Requests, the kernel protocol (real and fake-able), argument parsing, the tap flow.
        .target(name: "NetFDCore", dependencies: ["NetFDPolicy", "NetFDSystem"], swiftSettings: leanStartup),
        // The privileged helper. No Foundation, statically linked for C-like start-up.
        .executableTarget(
            name: "netfd-helper",
            dependencies: ["NetFDCore", "CNetFDStartup"],
            exclude: ["link-order.txt"],
            swiftSettings: leanStartup,
            linkerSettings: helperLink,
            plugins: ["SyscallFilterPlugin"]
        ),
        // Test-only twin of netfd-helper (same main.swift, a symlink) built with NETFD_TEST_HOOKS:
        // pauses, kills and an unlisted syscall at named steps, for the fault-injection and
        // confinement tests. Never installed; the shipped helper contains none of it.
        .executableTarget(
            name: "netfd-helper-testhooks",
            dependencies: ["NetFDCore", "CNetFDStartup"],
            swiftSettings: leanStartup + [.define("NETFD_TEST_HOOKS")],
            linkerSettings: helperLink,
            plugins: ["SyscallFilterPlugin"]
        ),
        // Policy administration (`netfd-policy compile`), run by root; never given capabilities.
        .executableTarget(name: "netfd-policy", dependencies: ["NetFDCore"]),
        // The emulator's side: spawn the helper, receive descriptors.
        .target(name: "NetFDClient", dependencies: ["NetFDSystem"]),
        // The emulator's launcher for native requests: request, then exec a command with the fds.
        .executableTarget(name: "netfd-client", dependencies: ["NetFDClient"]),
        // The unprivileged half of the demo (scripts/demo).
        .executableTarget(name: "netfd-demo", dependencies: ["NetFDClient"]),
        // The benchmark driver (scripts/bench): spawns helpers as QEMU does, times them, reads
        // their peak RSS under ptrace. Never installed.
        .target(name: "CNetFDBench"),
        .executableTarget(name: "netfd-bench", dependencies: ["CNetFDBench", "NetFDSystem"]),
        .testTarget(name: "NetFDPolicyTests", dependencies: ["NetFDPolicy"]),
        // The plugin compiles the allow-list into the tests too, to check what it generates.
        .testTarget(
            name: "NetFDCoreTests",
            dependencies: ["NetFDCore", "NetFDClient", "NetFDSeccompCompiler"],
            plugins: ["SyscallFilterPlugin"]
        ),
        .testTarget(name: "NetFDIntegrationTests", dependencies: ["NetFDClient", "NetFDSystem"]),
    ]
)

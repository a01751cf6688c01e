// swift-tools-version:5.9
// netfd: a setuid-free helper that creates network file descriptors by policy.
import PackageDescription

/// For the helper's own code (not the library products, which must stay free of unsafe flags):
/// reach generic type metadata through accessors instead of mangled names, so the privileged
/// start-up never runs the demangler or scans every protocol conformance in the static binary.
let leanStartup: [SwiftSetting] = [.unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"])]

let package = Package(
    name: "netfd",
    products: [
        .executable(name: "netfd-helper", targets: ["netfd-helper"]),
        .executable(name: "netfd-demo", targets: ["netfd-demo"]),
        .library(name: "NetFDClient", targets: ["NetFDClient"]),
        .library(name: "NetFDPolicy", targets: ["NetFDPolicy"]),
    ],
    targets: [
        // System libraries (Debian: libcap-ng-dev, libseccomp-dev).
        .systemLibrary(name: "CCapNG", path: "Sources/CCapNG", providers: [.apt(["libcap-ng-dev"])]),
        .systemLibrary(name: "CSeccomp", path: "Sources/CSeccomp", providers: [.apt(["libseccomp-dev"])]),
        // What Swift cannot call: ioctl numbers, prctl, CMSG, capng and seccomp macros. Returns -errno.
        .target(
            name: "CNetFD",
            dependencies: ["CCapNG", "CSeccomp"],
            linkerSettings: [.linkedLibrary("cap-ng"), .linkedLibrary("seccomp")]
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
            dependencies: ["NetFDCore"],
            swiftSettings: leanStartup,
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        // Test-only twin of netfd-helper (same main.swift, a symlink) built with NETFD_TEST_HOOKS:
        // pauses, kills and an unlisted syscall at named steps, for the fault-injection and
        // confinement tests. Never installed; the shipped helper contains none of it.
        .executableTarget(
            name: "netfd-helper-testhooks",
            dependencies: ["NetFDCore"],
            swiftSettings: leanStartup + [.define("NETFD_TEST_HOOKS")],
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        // The emulator's side: spawn the helper, receive descriptors.
        .target(name: "NetFDClient", dependencies: ["NetFDSystem"]),
        // The unprivileged half of the demo (scripts/demo).
        .executableTarget(name: "netfd-demo", dependencies: ["NetFDClient"]),
        // The benchmark driver (scripts/bench): spawns helpers as QEMU does, times them, reads
        // their peak RSS under ptrace. Never installed.
        .target(name: "CNetFDBench"),
        .executableTarget(name: "netfd-bench", dependencies: ["CNetFDBench", "NetFDSystem"]),
        .testTarget(name: "NetFDPolicyTests", dependencies: ["NetFDPolicy"]),
        .testTarget(name: "NetFDCoreTests", dependencies: ["NetFDCore", "NetFDClient"]),
        .testTarget(name: "NetFDIntegrationTests", dependencies: ["NetFDClient", "NetFDSystem"]),
    ]
)

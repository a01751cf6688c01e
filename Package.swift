// swift-tools-version:5.9
// netfd: a setuid-free helper that creates network file descriptors by policy.
import PackageDescription

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
        .target(name: "NetFDCore", dependencies: ["NetFDPolicy", "NetFDSystem"]),
        // The privileged helper. No Foundation, statically linked for C-like start-up.
        .executableTarget(
            name: "netfd-helper",
            dependencies: ["NetFDCore"],
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        // The emulator's side: spawn the helper, receive descriptors.
        .target(name: "NetFDClient", dependencies: ["NetFDSystem"]),
        // The unprivileged half of the demo (scripts/demo).
        .executableTarget(name: "netfd-demo", dependencies: ["NetFDClient"]),
        .testTarget(name: "NetFDPolicyTests", dependencies: ["NetFDPolicy"]),
        .testTarget(name: "NetFDCoreTests", dependencies: ["NetFDCore", "NetFDClient"]),
        .testTarget(name: "NetFDIntegrationTests", dependencies: ["NetFDClient", "NetFDSystem"]),
    ]
)

// Confinement.swift - capabilities, no_new_privs and the seccomp filter.
// syscalls (before the filter exists): capget, capset, prctl, seccomp
import CNetFD
import Glibc

/// A Linux capability netfd may keep.
public enum Capability: Int32, Sendable, CaseIterable {
    case netAdmin = 12   // CAP_NET_ADMIN: create taps, configure links
    case netRaw = 13     // CAP_NET_RAW: packet sockets (later request kinds)

    public var name: String { self == .netAdmin ? "CAP_NET_ADMIN" : "CAP_NET_RAW" }
}

/// One allowed syscall, optionally only for given argument values.
public struct SyscallRule: Sendable {
    public var name: String
    /// (argument index, value) pairs that must all hold; empty allows any arguments.
    public var arguments: [(index: Int32, value: UInt64)]
    /// Why netfd needs it (documentation; shown in netfd-helper(8)).
    public var reason: String

    public init(_ name: String, _ arguments: [(index: Int32, value: UInt64)] = [], reason: String) {
        self.name = name
        self.arguments = arguments
        self.reason = reason
    }
}

/// What the process may still do; each step only ever removes rights.
public enum Confinement {
    /// Keeps only those of `capabilities` the process holds (effective and permitted) and empties
    /// every other set, the bounding set included.
    /// - Returns: false when the process held no capabilities at all (nothing to drop).
    /// - Throws: EPERM when the kernel still reports a non-empty bounding set afterwards
    ///   (libcap-ng reports success without CAP_SETPCAP).
    @discardableResult
    public static func limitCapabilities(to capabilities: [Capability]) throws(Errno) -> Bool {
        let caps = capabilities.map(\.rawValue)
        return try shimCall { caps.withUnsafeBufferPointer { netfd_caps_limit($0.baseAddress, Int32($0.count)) } } == 0
    }

    /// Whether `capability` is effective now.
    public static func has(_ capability: Capability) -> Bool {
        netfd_caps_have_effective(capability.rawValue) == 1
    }

    /// Whether the kernel reports an empty bounding set.
    public static var boundingSetIsEmpty: Bool { netfd_caps_bounding_set_is_empty() == 1 }

    /// prctl(PR_SET_NO_NEW_PRIVS): execve can never grant privileges again.
    public static func forbidNewPrivileges() throws(Errno) {
        _ = try shimCall { netfd_set_no_new_privs() }
    }

    /// Loads a seccomp filter that allows exactly `rules` and kills the process on any other syscall.
    /// - Throws: `.unknownSyscall` naming a rule libseccomp cannot resolve, or `.kernel` with the errno.
    public static func installSyscallFilter(_ rules: [SyscallRule]) throws(SyscallFilterError) {
        // strdup'd names stay valid for the whole call; freed after it.
        let names = rules.map { strdup($0.name)! }
        defer { names.forEach { free($0) } }
        var cRules: [netfd_syscall_rule] = []
        cRules.reserveCapacity(rules.count)
        for (rule, name) in zip(rules, names) {
            var c = netfd_syscall_rule()
            c.name = UnsafePointer(name)
            c.cmp_count = Int32(min(rule.arguments.count, 2))
            withUnsafeMutableBytes(of: &c.cmp) { raw in
                let slots = raw.bindMemory(to: netfd_arg_cmp.self)
                for (i, arg) in rule.arguments.prefix(2).enumerated() {
                    slots[i] = netfd_arg_cmp(arg: arg.index, op: Int32(NETFD_CMP_EQ), mask: 0, value: arg.value)
                }
            }
            cRules.append(c)
        }
        var bad: Int32 = -1
        let result = netfd_seccomp_install(cRules, Int32(cRules.count), &bad)
        if result == 0 { return }
        if bad >= 0 && result == -ENOSYS { throw .unknownSyscall(rules[Int(bad)].name) }
        throw .kernel(Errno(-result))
    }

    /// The syscall number libseccomp resolves `name` to on this architecture, if any.
    public static func syscallNumber(_ name: String) -> Int32? {
        let nr = netfd_seccomp_syscall_number(name)
        return nr >= 0 ? nr : nil
    }
}

/// Why a syscall filter could not be installed.
public enum SyscallFilterError: Error, Equatable, CustomStringConvertible {
    case unknownSyscall(String)
    case kernel(Errno)

    public var description: String {
        switch self {
        case .unknownSyscall(let name): return "syscall \(name) is unknown to libseccomp"
        case .kernel(let errno): return errno.description
        }
    }
}

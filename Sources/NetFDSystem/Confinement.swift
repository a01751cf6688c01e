// Confinement.swift - capabilities, no_new_privs and the seccomp filter.
// syscalls (before the filter exists): capget, capset, prctl, seccomp
import CNetFD
import Glibc

/// A Linux capability netfd may keep.
public enum Capability: Int32, Sendable, CaseIterable {
    case dacOverride = 1   // CAP_DAC_OVERRIDE: open /dev/tapN, which udev leaves root-only
    case netAdmin = 12     // CAP_NET_ADMIN: create taps, configure links
    case netRaw = 13       // CAP_NET_RAW: packet sockets

    /// The kernel's name, e.g. "CAP_NET_ADMIN".
    public var name: String {
        switch self {
        case .dacOverride: return "CAP_DAC_OVERRIDE"
        case .netAdmin: return "CAP_NET_ADMIN"
        case .netRaw: return "CAP_NET_RAW"
        }
    }
}

/// A set of capabilities as the kernel's bit mask (bit N is capability N): no array, so the
/// privileged start-up instantiates no generic metadata for it.
public struct CapabilitySet: OptionSet, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ capability: Capability) { rawValue = 1 << UInt64(capability.rawValue) }
    public static var dacOverride: CapabilitySet { CapabilitySet(.dacOverride) }
    public static var netAdmin: CapabilitySet { CapabilitySet(.netAdmin) }
    public static var netRaw: CapabilitySet { CapabilitySet(.netRaw) }
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
    /// Keeps only those of `capabilities` the process holds, permitted, with only those also in
    /// `effective` effective, and empties every other set, the bounding set included: one
    /// libcap-ng apply, no second capset.
    /// - Returns: what stays permitted; empty when the process held no capabilities at all
    ///   (nothing to drop).
    /// - Throws: EPERM when the kernel still reports a non-empty bounding set afterwards
    ///   (libcap-ng reports success without CAP_SETPCAP).
    @discardableResult
    public static func limitCapabilities(to capabilities: CapabilitySet, effective: CapabilitySet) throws(Errno) -> CapabilitySet {
        var kept: UInt64 = 0
        _ = try shimCall { netfd_caps_limit(capabilities.rawValue, effective.rawValue, &kept) }
        return CapabilitySet(rawValue: kept)
    }

    /// Keeps only those of `capabilities` the process holds, effective and permitted (see
    /// `limitCapabilities(to:effective:)`).
    /// - Returns: false when the process held no capabilities at all (nothing to drop).
    @discardableResult
    public static func limitCapabilities(to capabilities: CapabilitySet) throws(Errno) -> Bool {
        try !limitCapabilities(to: capabilities, effective: capabilities).isEmpty
    }

    /// Sets the effective and permitted sets to exactly `effective` and `permitted` and empties
    /// the inheritable set, with one raw capset(2) (version 3; no libcap-ng, nothing read from
    /// /proc). It can only lower: the kernel refuses with EPERM a `permitted` that holds a
    /// capability not permitted now, or an `effective` not within `permitted`, and then nothing
    /// changed. The bounding and ambient sets are left as they are (`limitCapabilities` empties
    /// the bounding set; the ambient set follows permitted and inheritable, so it is empty after).
    public static func setCapabilities(effective: CapabilitySet, permitted: CapabilitySet) throws(Errno) {
        _ = try shimCall { netfd_caps_set(effective.rawValue, permitted.rawValue) }
    }

    /// The effective and permitted sets now (capget(2), version 3).
    public static func currentCapabilities() throws(Errno) -> (effective: CapabilitySet, permitted: CapabilitySet) {
        var effective: UInt64 = 0, permitted: UInt64 = 0
        _ = try shimCall { netfd_caps_get(&effective, &permitted) }
        return (CapabilitySet(rawValue: effective), CapabilitySet(rawValue: permitted))
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

    /// Loads the seccomp filter `program` with one seccomp(SECCOMP_SET_MODE_FILTER) call: the
    /// classic-BPF program netfd-seccomp-compile generated from `SyscallAllowList.helper` at build
    /// time (`CompiledSyscallFilter.program`, 16 lowercase hex digits per instruction). The filter
    /// kills the process on any syscall it does not allow. Needs no_new_privs set first.
    /// - Throws: `.kernel` with seccomp(2)'s errno, or EINVAL (before any syscall) when `program`
    ///   is not well-formed.
    public static func installSyscallFilter(program: StaticString) throws(SyscallFilterError) {
        let result = program.withUTF8Buffer { text in
            netfd_seccomp_load_program(UnsafeRawPointer(text.baseAddress)?.assumingMemoryBound(to: CChar.self), text.count)
        }
        if result < 0 { throw .kernel(Errno(-result)) }
    }
}

/// Why the syscall filter could not be loaded. (A rule libseccomp cannot resolve is a build-time
/// error of netfd-seccomp-compile; the helper only ever loads a finished program.)
public enum SyscallFilterError: Error, Equatable, CustomStringConvertible {
    /// seccomp(2) refused the program, or (EINVAL) the program text was malformed.
    case kernel(Errno)

    public var description: String {
        switch self {
        case .kernel(let errno): return errno.description
        }
    }
}

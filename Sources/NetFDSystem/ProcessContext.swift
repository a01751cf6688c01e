// ProcessContext.swift - who called us (as the kernel says) and what we inherited.
// syscalls: getuid, getgid, getgroups, close_range
import CNetFD
import Glibc

/// The calling user's credentials as the kernel reports them: real uid/gid and supplementary
/// groups. With file capabilities (never setuid) these are the emulator's own.
public struct ProcessCredentials: Equatable, Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var supplementaryGroups: [UInt32]

    /// Reads the credentials of this process.
    public static func current() throws(Errno) -> ProcessCredentials {
        let count = try systemCall { getgroups(0, nil) }
        var groups = [gid_t](repeating: 0, count: Int(count))
        let filled = try systemCall { getgroups(count, &groups) }
        return ProcessCredentials(uid: getuid(), gid: getgid(), supplementaryGroups: Array(groups.prefix(Int(filled))))
    }
}

/// Process-wide hygiene for a privileged helper.
public enum ProcessHygiene {
    /// Empties the environment: nothing the caller set may steer the helper.
    public static func clearEnvironment() {
        _ = clearenv()
    }

    /// Closes every descriptor except 0, 1, 2 and `keep` (close_range, two calls around `keep`).
    public static func closeInheritedDescriptors(keeping keep: FileDescriptor?) throws(Errno) {
        guard let keep, keep.rawValue > 2 else {
            _ = try shimCall { netfd_close_range(3, UInt32.max) }
            return
        }
        let k = UInt32(keep.rawValue)
        if k > 3 { _ = try shimCall { netfd_close_range(3, k - 1) } }
        _ = try shimCall { netfd_close_range(k + 1, UInt32.max) }
    }
}

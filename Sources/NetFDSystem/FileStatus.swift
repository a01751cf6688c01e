// FileStatus.swift - what stat() says about a file.
// syscalls: newfstatat (lstat), fstat
import Glibc

/// The subset of `struct stat` netfd decides on.
public struct FileStatus: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case regular, directory, symlink, characterDevice, socket, other }
    public var kind: Kind
    public var owner: UInt32
    public var group: UInt32
    /// Permission bits including setuid/setgid/sticky (mode & 07777).
    public var permissions: UInt32
    public var device: UInt64
    public var inode: UInt64
    /// The device number a character device stands for (st_rdev).
    public var representedDevice: UInt64
    /// st_size.
    public var size: UInt64
    /// st_mtim: seconds and nanoseconds.
    public var modified: (seconds: Int64, nanoseconds: UInt32)
    /// st_ctim: seconds and nanoseconds.
    public var changed: (seconds: Int64, nanoseconds: UInt32)

    init(_ st: stat) {
        switch st.st_mode & mode_t(S_IFMT) {   // mode_t(): S_IF* are Int32 where the Glibc overlay is absent
        case mode_t(S_IFREG): kind = .regular
        case mode_t(S_IFDIR): kind = .directory
        case mode_t(S_IFLNK): kind = .symlink
        case mode_t(S_IFCHR): kind = .characterDevice
        case mode_t(S_IFSOCK): kind = .socket
        default: kind = .other
        }
        owner = st.st_uid
        group = st.st_gid
        permissions = UInt32(st.st_mode & 0o7777)
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        representedDevice = UInt64(st.st_rdev)
        size = UInt64(max(0, st.st_size))
        modified = (Int64(st.st_mtim.tv_sec), UInt32(truncatingIfNeeded: st.st_mtim.tv_nsec))
        changed = (Int64(st.st_ctim.tv_sec), UInt32(truncatingIfNeeded: st.st_ctim.tv_nsec))
    }

    public static func == (lhs: FileStatus, rhs: FileStatus) -> Bool {
        lhs.kind == rhs.kind && lhs.owner == rhs.owner && lhs.group == rhs.group && lhs.permissions == rhs.permissions
            && lhs.device == rhs.device && lhs.inode == rhs.inode && lhs.representedDevice == rhs.representedDevice
            && lhs.size == rhs.size && lhs.modified == rhs.modified && lhs.changed == rhs.changed
    }

    /// lstat(): the status of `path` itself, not of what a symlink points to.
    public static func ofLink(atPath path: String) throws(Errno) -> FileStatus {
        var st = stat()
        _ = try systemCall { lstat(path, &st) }
        return FileStatus(st)
    }
}

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

    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        case S_IFCHR: kind = .characterDevice
        case S_IFSOCK: kind = .socket
        default: kind = .other
        }
        owner = st.st_uid
        group = st.st_gid
        permissions = UInt32(st.st_mode & 0o7777)
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        representedDevice = UInt64(st.st_rdev)
    }

    /// lstat(): the status of `path` itself, not of what a symlink points to.
    public static func ofLink(atPath path: String) throws(Errno) -> FileStatus {
        var st = stat()
        _ = try systemCall { lstat(path, &st) }
        return FileStatus(st)
    }
}

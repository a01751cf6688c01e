// VhostDevice.swift - a vhost-net character device, opened once per queue beside a tap or macvtap.
// syscalls: openat(O_RDWR|O_CLOEXEC), fstat, close (when it is not a character device)
import Glibc

/// The vhost-net device (or the policy's `set vhost-device PATH`).
public enum VhostDevice {
    /// The usual path.
    public static let defaultPath = "/dev/vhost-net"

    /// Opens `path` O_RDWR, close-on-exec, with the caller's own file permissions, and checks that
    /// what was opened is a character device (fstat of the open file, so no swap in between counts).
    /// - Returns: the descriptor; the caller owns it.
    /// - Throws: ENODEV ("No such device") when `path` is something else than a character device
    ///   (a regular file, a FIFO, a socket), after closing it; open's errno otherwise (ENOENT: no
    ///   such file, e.g. vhost_net not loaded; ENXIO: a node without a driver; EACCES: the caller may
    ///   not open it; EISDIR: a directory).
    public static func open(path: String) throws(Errno) -> FileDescriptor {
        let device = try FileDescriptor.open(path, O_RDWR)
        do throws(Errno) {
            guard try device.status().kind == .characterDevice else { throw Errno.noDevice }
            return device
        } catch {
            device.close()
            throw error
        }
    }
}

// Errno.swift - a typed errno value.
import Glibc

/// An error number reported by the kernel (or by the C shim as -errno).
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// strerror() text, e.g. "No such device".
    public var description: String { String(cString: strerror(rawValue)) }

    public static let interrupted = Errno(EINTR)
    public static let notFound = Errno(ENOENT)
    public static let noDevice = Errno(ENODEV)
    public static let permissionDenied = Errno(EACCES)
    public static let notPermitted = Errno(EPERM)
    public static let badDescriptor = Errno(EBADF)
    public static let invalidArgument = Errno(EINVAL)
    public static let badMessage = Errno(EBADMSG)
    public static let notSupported = Errno(EOPNOTSUPP)
    public static let ioError = Errno(EIO)
    /// ENOBUFS: on a netlink socket, the kernel dropped messages it could not queue.
    public static let noBufferSpace = Errno(ENOBUFS)
    public static let tryAgain = Errno(EAGAIN)
    public static let messageTooLong = Errno(EMSGSIZE)
}

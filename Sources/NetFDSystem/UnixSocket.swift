// UnixSocket.swift - the AF_UNIX stream socket a descriptor is handed over on.
// syscalls: socketpair, getsockopt, sendmsg, recvmsg
import CNetFD
import Glibc

/// Operations on a connected AF_UNIX stream socket.
public struct UnixSocket: Sendable {
    public let descriptor: FileDescriptor
    public init(_ descriptor: FileDescriptor) { self.descriptor = descriptor }

    /// A connected pair, as QEMU makes before spawning the helper. Both ends are close-on-exec.
    public static func pair() throws(Errno) -> (UnixSocket, UnixSocket) {
        var fds: [Int32] = [-1, -1]
        _ = try systemCall { socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) }
        return (UnixSocket(FileDescriptor(rawValue: fds[0])), UnixSocket(FileDescriptor(rawValue: fds[1])))
    }

    /// Whether `descriptor` is an open AF_UNIX SOCK_STREAM socket (asked of the kernel, not assumed).
    public static func isUnixStream(_ descriptor: FileDescriptor) -> Bool {
        func option(_ name: Int32) -> Int32? {
            var value: Int32 = -1
            var length = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(descriptor.rawValue, SOL_SOCKET, name, &value, &length) == 0 ? value : nil
        }
        return option(SO_DOMAIN) == AF_UNIX && option(SO_TYPE) == Int32(SOCK_STREAM.rawValue)
    }

    /// Whether the stream socket `descriptor` has a peer to send to: it is not listening
    /// (SO_ACCEPTCONN) and was connected (SO_PEERCRED names a peer process; pid 0 means never).
    public static func isConnected(_ descriptor: FileDescriptor) -> Bool {
        var listening: Int32 = 1
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor.rawValue, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0, listening == 0 else {
            return false
        }
        var peer: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)   // struct ucred
        length = socklen_t(MemoryLayout.size(ofValue: peer))
        return getsockopt(descriptor.rawValue, SOL_SOCKET, SO_PEERCRED, &peer, &length) == 0 && peer.pid != 0
    }

    /// Sends exactly one data byte and `passing` in one sendmsg() (the QEMU helper contract).
    public func send(_ passing: FileDescriptor, byte: UInt8 = 0) throws(Errno) {
        _ = try shimCall { netfd_send_fd(descriptor.rawValue, passing.rawValue, byte) }
    }

    /// Receives one data byte and at most one descriptor.
    /// - Returns: nil at end of stream; otherwise the byte and the descriptor, if one came.
    public func receive() throws(Errno) -> (byte: UInt8, descriptor: FileDescriptor?)? {
        var fd: Int32 = -1
        var byte: UInt8 = 0
        let count = try shimCall { netfd_recv_fd(descriptor.rawValue, &fd, &byte) }
        if count == 0 && fd < 0 { return nil }
        return (byte, fd >= 0 ? FileDescriptor(rawValue: fd) : nil)
    }

    public func close() { descriptor.close() }
}

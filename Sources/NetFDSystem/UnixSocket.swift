// UnixSocket.swift - the AF_UNIX stream socket descriptors are handed over on: one with one byte
// (the QEMU bridge-helper contract), or many with a message (the native reply), each in one call.
// syscalls: socketpair, getsockopt(SO_DOMAIN, SO_TYPE, SO_ACCEPTCONN, SO_PEERCRED), sendmsg,
//           recvmsg, close (descriptors refused on receipt)
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

    /// The most descriptors one `send(_:message:)` carries (SCM_MAX_FD).
    public static let maximumDescriptors = Int(NETFD_SCM_MAX_FD)
    /// The longest message `send(_:message:)` carries.
    public static let maximumMessageLength = Int(NETFD_MESSAGE_MAX)

    /// Sends all of `message` (1...4096 bytes) and all `descriptors` (0...253) in ONE sendmsg()
    /// with MSG_NOSIGNAL: the descriptors travel with the message's first byte, so a receiver
    /// that reads the message gets them with it (see `receiveMessage`).
    /// - Throws: EINVAL for an empty or over-long message or too many descriptors (before any
    ///   syscall); EIO when the kernel took only part of the message (nothing is retried: the rest
    ///   would arrive without the descriptors); otherwise sendmsg's errno (EPIPE: the peer closed).
    public func send(_ descriptors: [FileDescriptor], message: [UInt8]) throws(Errno) {
        var numbers = [Int32]()
        numbers.reserveCapacity(descriptors.count)
        for passing in descriptors { numbers.append(passing.rawValue) }
        _ = try shimCall {
            numbers.withUnsafeBufferPointer { fds in
                message.withUnsafeBytes { bytes in
                    netfd_send_fds(descriptor.rawValue, fds.baseAddress, fds.count, bytes.baseAddress, bytes.count)
                }
            }
        }
    }

    /// Receives with ONE recvmsg(MSG_CMSG_CLOEXEC) at most `maxBytes` bytes and at most
    /// `maxDescriptors` (0...253) descriptors, all close-on-exec. On a stream socket the kernel
    /// ends a read after the bytes that carried descriptors, so one call returns one
    /// `send(_:message:)` whole when `maxBytes` covers it (bytes sent before it may come first).
    /// - Returns: the bytes (empty at end of stream) and the descriptors; the caller owns them.
    /// - Throws: EBADMSG, with every descriptor that came already closed, when more than
    ///   `maxDescriptors` came or the kernel truncated the control data (MSG_CTRUNC) or a
    ///   datagram (MSG_TRUNC); EINVAL for limits out of range; otherwise recvmsg's errno.
    public func receiveMessage(maxDescriptors: Int, maxBytes: Int) throws(Errno) -> (bytes: [UInt8], descriptors: [FileDescriptor]) {
        guard (0...Self.maximumDescriptors).contains(maxDescriptors), (0...Int(Int32.max)).contains(maxBytes) else {
            throw Errno.invalidArgument
        }
        var numbers = [Int32](repeating: -1, count: maxDescriptors)
        var count = 0
        var failure: Errno?
        let bytes = [UInt8](unsafeUninitializedCapacity: maxBytes) { buffer, initialized in
            initialized = 0
            do throws(Errno) {
                initialized = Int(try shimCall {
                    numbers.withUnsafeMutableBufferPointer { fds in
                        netfd_recv_fds(descriptor.rawValue, fds.baseAddress, fds.count, &count, buffer.baseAddress, buffer.count)
                    }
                })
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        var descriptors = [FileDescriptor]()
        descriptors.reserveCapacity(count)
        for number in numbers.prefix(count) { descriptors.append(FileDescriptor(rawValue: number)) }
        return (bytes, descriptors)
    }

    /// The peer's credentials as the kernel recorded them when the connection was made (or the
    /// pair created): SO_PEERCRED, in the caller's pid and user namespaces. A never-connected
    /// socket reports pid 0 and uid/gid -1.
    public func peerCredentials() throws(Errno) -> (pid: Int32, uid: UInt32, gid: UInt32) {
        var peer: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)   // struct ucred
        var length = socklen_t(MemoryLayout.size(ofValue: peer))
        _ = try systemCall { getsockopt(descriptor.rawValue, SOL_SOCKET, SO_PEERCRED, &peer, &length) }
        guard Int(length) == MemoryLayout.size(ofValue: peer) else { throw Errno.badMessage }
        return peer
    }

    public func close() { descriptor.close() }
}

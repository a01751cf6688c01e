// RouteNetlink.swift - a NETLINK_ROUTE socket: look up links, one request at a time.
// syscalls: socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), sendto, recvfrom
import CNetFD
import Glibc

/// An rtnetlink socket. Each request waits for its own reply before returning.
public final class RouteNetlink {
    /// Also the handle for the interface ioctls (LinkIoctls.swift).
    let descriptor: FileDescriptor
    private var sequence: UInt32 = 0

    /// Opens a NETLINK_ROUTE socket in the caller's network namespace.
    public init() throws(Errno) {
        descriptor = FileDescriptor(rawValue: try systemCall {
            socket(netfd_AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netfd_NETLINK_ROUTE)
        })
    }

    deinit { descriptor.close() }

    /// RTM_GETLINK by exact name, without statistics. Returns nil when no such link exists (ENODEV).
    public func link(named name: String) throws(Errno) -> LinkMessage? {
        var message = start(Netlink.RTM_GETLINK, flags: Netlink.NLM_F_REQUEST)
        message.appendInterfaceInfo(index: 0)
        message.appendAttribute(Netlink.IFLA_IFNAME, string: name)
        message.appendAttribute(Netlink.IFLA_EXT_MASK, uint32: Netlink.RTEXT_FILTER_SKIP_STATS)
        return try fetchLink(message)
    }

    private func start(_ type: UInt16, flags: UInt16) -> NetlinkMessageBuilder {
        sequence &+= 1
        return NetlinkMessageBuilder(type: type, flags: flags, sequence: sequence)
    }

    private func fetchLink(_ message: NetlinkMessageBuilder) throws(Errno) -> LinkMessage? {
        let reply: NetlinkMessage?
        do { reply = try exchange(message) } catch .noDevice { return nil }
        guard let reply else { throw Errno.badMessage }
        do { return try LinkMessage(decoding: reply) } catch { throw Errno.badMessage }
    }

    /// Sends `message` and reads until its reply arrives.
    /// - Returns: the data message, or nil for an acknowledgement; throws the kernel's errno.
    private func exchange(_ message: NetlinkMessageBuilder) throws(Errno) -> NetlinkMessage? {
        let bytes = message.finish()
        let sent = try systemCall { bytes.withUnsafeBytes { Glibc.send(descriptor.rawValue, $0.baseAddress, $0.count, 0) } }
        guard sent == bytes.count else { throw Errno.ioError }
        while true {
            // Not zero-filled: the kernel writes what it sends, and only those pages are touched.
            var received = 0
            var failure: Errno?
            let datagram = [UInt8](unsafeUninitializedCapacity: Self.receiveBufferSize) { buffer, count in
                do throws(Errno) {
                    received = try systemCall { Glibc.recv(descriptor.rawValue, buffer.baseAddress, buffer.count, 0) }
                } catch {
                    failure = error
                }
                count = received
            }
            if let failure { throw failure }
            // Plain variables, not a Result: each generic type costs the helper a metadata instantiation.
            var answered = false, errorNumber: Int32 = 0, data: NetlinkMessage?
            do {
                try forEachNetlinkMessage(in: datagram[...]) { reply in
                    guard reply.sequence == sequence else { return true }
                    if let code = reply.errorNumber {
                        answered = true
                        errorNumber = code
                        return false
                    }
                    if reply.type == Netlink.NLMSG_DONE { return true }
                    answered = true
                    data = reply
                    return false
                }
            } catch {
                throw Errno.badMessage
            }
            if answered {
                if errorNumber != 0 { throw Errno(errorNumber) }
                return data
            }
        }
    }

    /// Large enough for any single RTM_NEWLINK reply (the kernel sizes them below 32 KiB).
    private static let receiveBufferSize = 32768
}

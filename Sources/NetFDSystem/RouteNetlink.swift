// RouteNetlink.swift - a NETLINK_ROUTE socket: look up, dump, create (macvtap), change and
// delete links, one request at a time, each waiting for its own reply.
// syscalls: socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE), sendto, recvfrom
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

    // MARK: Requests with an acknowledgement, and dumps

    /// RTM_GETLINK for the link with `index`, without statistics. Returns nil when there is none.
    public func link(index: Int32) throws(Errno) -> LinkMessage? {
        var found: LinkMessage?
        do {
            try transact(LinkRequest.getLink(index: index, sequence: nextSequence())) { (reply) throws(Errno) in
                guard found == nil, reply.type == Netlink.RTM_NEWLINK else { return }
                found = try Self.decode(reply)
            }
        } catch .noDevice {
            return nil
        }
        return found
    }

    /// Every link of the namespace (RTM_GETLINK dump without statistics), in the kernel's order
    /// (by index). The dump may span many datagrams; when the kernel flags it inconsistent
    /// (NLM_F_DUMP_INTR: links changed while it was made) it is read to its end and made again.
    /// - Throws: EAGAIN when `dumpAttempts` dumps in a row were inconsistent; EBADMSG for a reply
    ///   that does not decode; the kernel's errno.
    public func links() throws(Errno) -> [LinkMessage] {
        for _ in 0..<Self.dumpAttempts {
            var result: [LinkMessage] = []
            let consistent = try transact(LinkRequest.dumpLinks(sequence: nextSequence())) { (reply) throws(Errno) in
                guard reply.type == Netlink.RTM_NEWLINK else { return }
                result.append(try Self.decode(reply))
            }
            if consistent { return result }
        }
        throw Errno.tryAgain
    }

    /// How many times `links()` makes a dump the kernel flags inconsistent before giving up.
    public static let dumpAttempts = 8

    /// Creates a macvtap on the link with index `lowerIndex` with `mode` and Ethernet `address`
    /// (6 bytes), named from `nameTemplate` (e.g. "macvtap%d": the kernel picks the number; a name
    /// without "%d" fails with EEXIST when taken). The link is created down, with no alias.
    /// One RTM_NEWLINK with CREATE|EXCL|ACK|ECHO: the kernel (6.1 and later; seen on 6.18) echoes
    /// the new link to this socket, with this request's sequence number, before its ACK, which
    /// gives its index and name. Without an echo, the link is looked for by lower link and address
    /// in a dump; the kernel refuses a second macvlan with the same address on a lower link only
    /// when both are up (EADDRINUSE at IFF_UP), so more than one match is possible and refused.
    /// - Returns: the new link's index and the name the kernel gave it.
    /// - Throws: EINVAL for an address that is not 6 bytes, an empty template or one holding NUL;
    ///   ENAMETOOLONG for one longer than 15 bytes (before any syscall); the kernel's errno (EEXIST,
    ///   ENODEV: no such lower link, EINVAL: e.g. a second passthru or a multicast address, EPERM:
    ///   no CAP_NET_ADMIN). Only without an echo (kernels before 6.1): ENODEV when no link matches
    ///   (deleted at once), ENOTUNIQ when several do; the link made then stays, as it cannot be
    ///   told apart.
    public func createMacvtap(nameTemplate: String, lowerIndex: Int32, mode: MacvlanMode, address: [UInt8]) throws(Errno) -> (index: Int32, name: String) {
        guard address.count == 6 else { throw Errno.invalidArgument }
        try Self.checkName(nameTemplate)
        var created: LinkMessage?
        try transact(LinkRequest.newMacvtap(nameTemplate: nameTemplate, lowerIndex: lowerIndex, mode: mode,
                                            address: address, sequence: nextSequence())) { (reply) throws(Errno) in
            guard created == nil, reply.type == Netlink.RTM_NEWLINK else { return }
            let link = try Self.decode(reply)
            // The echo of this very request (sequence and port match); checked anyway.
            if link.kind == "macvtap", link.lowerIndex == lowerIndex, link.address == address, link.name != nil {
                created = link
            }
        }
        if let created, let name = created.name { return (created.index, name) }
        var match: (index: Int32, name: String)?
        for link in try links() where link.kind == "macvtap" && link.lowerIndex == lowerIndex && link.address == address {
            guard match == nil, let name = link.name else { throw Errno(ENOTUNIQ) }
            match = (link.index, name)
        }
        guard let match else { throw Errno.noDevice }
        return match
    }

    /// RTM_DELLINK of the link with `index`. Throws ENODEV when there is none.
    public func deleteLink(index: Int32) throws(Errno) {
        try transact(LinkRequest.deleteLink(index: index, sequence: nextSequence())) { (_) throws(Errno) in }
    }

    /// Sets the alias (IFLA_IFALIAS) of the link with `index`; an empty `alias` removes it.
    /// - Throws: EINVAL for an alias holding NUL, ERANGE for one over `maximumAliasLength` bytes
    ///   (before any syscall, as the kernel refuses it with ERANGE); ENODEV when there is no such
    ///   link.
    public func setAlias(_ alias: String, ofLinkIndex index: Int32) throws(Errno) {
        guard !alias.utf8.contains(0) else { throw Errno.invalidArgument }
        guard alias.utf8.count <= Self.maximumAliasLength else { throw Errno(ERANGE) }
        try transact(LinkRequest.setAlias(alias, index: index, sequence: nextSequence())) { (_) throws(Errno) in }
    }

    /// The longest alias this sends: IFALIASZ - 2 bytes. The kernel keeps up to IFALIASZ - 1, but
    /// counts the terminating NUL netfd sends (as for every string attribute) against that in its
    /// attribute check (Linux 6.18: 254 bytes and NUL pass, 255 and NUL get ERANGE; iproute2 sends
    /// no NUL and gets 255).
    public static let maximumAliasLength = Netlink.IFALIASZ - 2

    /// Sets IFF_UP on the link with `index` (RTM_SETLINK), keeping its other flags.
    public func setUp(linkIndex index: Int32) throws(Errno) {
        try transact(LinkRequest.setUp(index: index, sequence: nextSequence())) { (_) throws(Errno) in }
    }

    private func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    /// A link name or template as the kernel takes it: 1...15 bytes, no NUL (the builder would trap).
    private static func checkName(_ name: String) throws(Errno) {
        guard !name.isEmpty, !name.utf8.contains(0) else { throw Errno.invalidArgument }
        guard name.utf8.count < Int(NETFD_IFNAMSIZ) else { throw Errno(ENAMETOOLONG) }
    }

    private static func decode(_ reply: NetlinkMessage) throws(Errno) -> LinkMessage {
        do { return try LinkMessage(decoding: reply) } catch { throw Errno.badMessage }
    }

    /// Sends `message` and passes each reply to it (same sequence number, sent by the kernel) to
    /// `body`, until the kernel acknowledges it (NLMSG_ERROR 0), refuses it (NLMSG_ERROR), or
    /// ends its dump (NLMSG_DONE). Reads to that end even when `body` throws, so the socket is
    /// left clean for the next request, then throws what `body` threw first.
    /// - Returns: false when a reply carried NLM_F_DUMP_INTR (an inconsistent dump).
    /// - Throws: the kernel's errno (NLMSG_ERROR, or a negative NLMSG_DONE status); EBADMSG for a
    ///   datagram that does not parse; EMSGSIZE for one larger than the buffer (lost).
    @discardableResult
    private func transact(_ message: NetlinkMessageBuilder, _ body: (NetlinkMessage) throws(Errno) -> Void) throws(Errno) -> Bool {
        let bytes = message.finish()
        let sent = try systemCall { bytes.withUnsafeBytes { Glibc.send(descriptor.rawValue, $0.baseAddress, $0.count, 0) } }
        guard sent == bytes.count else { throw Errno.ioError }
        var consistent = true, finished = false, errorNumber: Int32 = 0
        var failure: Errno?
        while !finished {
            guard let datagram = try receiveFromKernel(descriptor, flags: 0) else { continue }
            do {
                try forEachNetlinkMessage(in: datagram[...]) { reply in
                    guard reply.sequence == sequence else { return true }
                    if reply.flags & Netlink.NLM_F_DUMP_INTR != 0 { consistent = false }
                    if let code = reply.errorNumber {
                        errorNumber = code
                        finished = true
                        return false
                    }
                    if reply.type == Netlink.NLMSG_DONE {
                        // The dump's status (an int) follows the header; negative is an errno.
                        if reply.payload.count >= 4 {
                            let status = reply.payload.hostOrderInteger(at: 0, as: Int32.self)
                            if status < 0 { errorNumber = 0 &- status }
                        }
                        finished = true
                        return false
                    }
                    if failure == nil {
                        do throws(Errno) { try body(reply) } catch { failure = error }
                    }
                    return true
                }
            } catch {
                throw Errno.badMessage
            }
        }
        if errorNumber != 0 { throw Errno(errorNumber) }
        if let failure { throw failure }
        return consistent
    }
}

/// Reads one datagram from the netlink socket `descriptor` (recvfrom with MSG_TRUNC, so the
/// kernel reports a datagram's whole size and a too-small buffer is noticed, not silently cut).
/// - Returns: the datagram, or nil for one that did not come from the kernel (port id 0).
///   Without CAP_NET_ADMIN no process can send to a NETLINK_ROUTE socket; with it one could, so
///   its messages are dropped rather than taken for the kernel's replies.
/// - Throws: EMSGSIZE for a datagram larger than the buffer (the rest is lost); recvfrom's errno
///   (EAGAIN with MSG_DONTWAIT and nothing queued; ENOBUFS when the kernel dropped messages).
func receiveFromKernel(_ descriptor: FileDescriptor, flags: Int32) throws(Errno) -> [UInt8]? {
    // struct sockaddr_nl: u16 family, u16 pad, u32 port id, u32 groups.
    var sender: (UInt32, UInt32, UInt32) = (0, 0, 0)
    var senderLength = socklen_t(MemoryLayout.size(ofValue: sender))
    var received = 0
    var failure: Errno?
    let capacity = netlinkReceiveBufferSize
    // Not zero-filled: the kernel writes what it sends, and only those pages are touched.
    let datagram = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
        count = 0
        do throws(Errno) {
            received = try systemCall {
                withUnsafeMutableBytes(of: &sender) { address in
                    recvfrom(descriptor.rawValue, buffer.baseAddress, buffer.count, flags | Int32(MSG_TRUNC),
                             address.baseAddress!.assumingMemoryBound(to: sockaddr.self), &senderLength)
                }
            }
            count = min(received, capacity)
        } catch {
            failure = error
        }
    }
    if let failure { throw failure }
    if received > capacity { throw Errno.messageTooLong }
    return sender.1 == 0 ? datagram : nil
}

/// Larger than any datagram the kernel sends on a netlink socket (it caps them at 32 KiB).
let netlinkReceiveBufferSize = 32768

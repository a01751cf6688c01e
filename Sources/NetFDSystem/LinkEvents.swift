// LinkEvents.swift - notifications of links created, changed and deleted in the namespace, on an
// rtnetlink socket of their own (a request socket would see them mixed into its replies).
// syscalls: socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE), bind (groups RTMGRP_LINK),
//           recvfrom(MSG_DONTWAIT|MSG_TRUNC), close
import CNetFD
import Glibc

/// One link notification.
public struct LinkEvent: Equatable, Sendable {
    /// true for RTM_DELLINK: the link is gone (deleted, or moved to another namespace); false for
    /// RTM_NEWLINK: created or changed.
    public var deleted: Bool
    public var index: Int32
    /// The link's name in the notification ("" if the kernel sent none).
    public var name: String

    public init(deleted: Bool, index: Int32, name: String) {
        self.deleted = deleted
        self.index = index
        self.name = name
    }
}

/// A NETLINK_ROUTE socket that is a member of RTNLGRP_LINK (link notifications), in the caller's network namespace.
/// Notifications queue on it from `init` on; `drain` reads them without blocking, and
/// `descriptor` can be polled (readable when one is queued).
public final class LinkEvents {
    /// The socket, to poll. Owned by this object (closed at deinit).
    public let descriptor: FileDescriptor

    /// Opens the socket and binds it to RTMGRP_LINK (the group RTNLGRP_LINK), with a port id of
    /// its own (a socket without one receives no multicast at all).
    /// - Throws: socket's or bind's errno; nothing is left open.
    public init() throws(Errno) {
        let socket = FileDescriptor(rawValue: try systemCall {
            Glibc.socket(netfd_AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netfd_NETLINK_ROUTE)
        })
        do {
            _ = try shimCall { netfd_netlink_bind_groups(socket.rawValue, UInt32(NETFD_RTMGRP_LINK)) }
        } catch {
            socket.close()
            throw error
        }
        descriptor = socket
    }

    deinit { descriptor.close() }

    /// Reads every notification queued now, without blocking, in the order the kernel sent them.
    /// Only the link's own messages count (family AF_UNSPEC): a bridge's RTM_DELLINK for a port
    /// that left it (AF_BRIDGE) does not mean the link is gone, and is skipped, as is anything not
    /// sent by the kernel.
    /// - Returns: the events; empty when none was queued.
    /// - Throws: ENOBUFS when the kernel dropped notifications because the socket's buffer was
    ///   full (or one did not fit the receive buffer): events were lost, including any read in
    ///   this call, so the caller must look at the kernel's state again; the socket stays usable
    ///   and the next `drain` reads what came after. EBADMSG for a notification that does not
    ///   parse; recvfrom's errno.
    public func drain() throws(Errno) -> [LinkEvent] {
        var events: [LinkEvent] = []
        while true {
            let datagram: [UInt8]?
            do {
                datagram = try receiveFromKernel(descriptor, flags: Int32(MSG_DONTWAIT))
            } catch .tryAgain {
                return events
            } catch .messageTooLong {
                throw Errno.noBufferSpace
            }
            guard let datagram else { continue }
            var malformed = false
            do {
                try forEachNetlinkMessage(in: datagram[...]) { message in
                    guard message.type == Netlink.RTM_NEWLINK || message.type == Netlink.RTM_DELLINK else { return true }
                    guard let link = try? LinkMessage(decoding: message) else {
                        malformed = true
                        return false
                    }
                    if link.family == Netlink.AF_UNSPEC {
                        events.append(LinkEvent(deleted: link.isDeletion, index: link.index, name: link.name ?? ""))
                    }
                    return true
                }
            } catch {
                throw Errno.badMessage
            }
            if malformed { throw Errno.badMessage }
        }
    }
}

// RawPacketSocket.swift - an AF_PACKET raw socket bound to one link: Ethernet frames in and out.
// syscalls: socket(AF_PACKET, SOCK_RAW|SOCK_CLOEXEC, 0), setsockopt(SOL_PACKET, PACKET_VNET_HDR),
//           bind, setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP), close (on failure)
import CNetFD

/// Raw packet sockets (CAP_NET_RAW).
public enum RawPacketSocket {
    /// ETH_P_ALL (linux/if_ether.h): every protocol.
    public static let allProtocols: UInt16 = 0x0003

    /// A close-on-exec AF_PACKET SOCK_RAW socket bound to the link with index `linkIndex` for
    /// `ethernetProtocol` (host byte order; `allProtocols` for every frame). It is created with
    /// protocol 0, which receives nothing, and takes protocol and link together at bind(), so no
    /// frame of another link ever waits in it. With `vnetHeader`, PACKET_VNET_HDR (set before
    /// bind): every frame read or written carries a struct virtio_net_hdr first. With
    /// `promiscuous`, a PACKET_MR_PROMISC membership, which the kernel drops when the last
    /// descriptor of the socket closes.
    /// - Returns: the socket; the caller owns it. Nothing stays open on failure.
    /// - Throws: EINVAL for index 0 or below or protocol 0 (before any syscall); EPERM without
    ///   CAP_NET_RAW; ENODEV when there is no such link (bind); the kernel's errno.
    public static func open(linkIndex: Int32, ethernetProtocol: UInt16, vnetHeader: Bool, promiscuous: Bool) throws(Errno) -> FileDescriptor {
        guard linkIndex > 0 else { throw Errno.invalidArgument }
        return FileDescriptor(rawValue: try shimCall {
            netfd_packet_socket_open(linkIndex, ethernetProtocol, vnetHeader ? 1 : 0, promiscuous ? 1 : 0)
        })
    }
}

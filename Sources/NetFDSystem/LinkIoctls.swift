// LinkIoctls.swift - links by name through the classic interface ioctls, on the rtnetlink socket.
// syscalls: ioctl(SIOCGIFINDEX, SIOCGIFMTU, SIOCSIFMTU, SIOCSIFHWADDR, SIOCGIFFLAGS, SIOCSIFFLAGS, SIOCBRADDIF)
//
// One syscall each, with no message to build and no reply to parse: the tap request's success path
// uses only these (RTM_GETLINK remains for describing a link in an error). Names are passed whole;
// a name longer than IFNAMSIZ - 1 bytes is refused with ENAMETOOLONG, never truncated.
import CNetFD

extension RouteNetlink {
    /// The index of the link named exactly `name` (a lookup under RCU, without the rtnl lock).
    /// Throws ENODEV when there is none.
    public func interfaceIndex(named name: String) throws(Errno) -> Int32 {
        try shimCall { netfd_interface_index(descriptor.rawValue, name) }
    }

    /// The MTU of the link named `name`; ENODEV when there is none.
    public func mtu(ofLinkNamed name: String) throws(Errno) -> UInt32 {
        UInt32(try shimCall { netfd_link_mtu(descriptor.rawValue, name) })
    }

    /// Sets the MTU of the link named `name`.
    public func setMTU(_ mtu: UInt32, ofLinkNamed name: String) throws(Errno) {
        guard let value = Int32(exactly: mtu) else { throw Errno.invalidArgument }
        _ = try shimCall { netfd_link_set_mtu(descriptor.rawValue, name, value) }
    }

    /// Sets the Ethernet address (6 bytes) of the link named `name`.
    public func setEthernetAddress(_ address: [UInt8], ofLinkNamed name: String) throws(Errno) {
        guard address.count == 6 else { throw Errno.invalidArgument }
        _ = try shimCall { address.withUnsafeBufferPointer { netfd_link_set_ethernet_address(descriptor.rawValue, name, $0.baseAddress) } }
    }

    /// Sets IFF_UP on the link named `name`, keeping its other flags.
    public func setUp(linkNamed name: String) throws(Errno) {
        _ = try shimCall { netfd_link_set_up(descriptor.rawValue, name) }
    }

    /// Makes the link with index `port` a port of the bridge named `bridge` (SIOCBRADDIF).
    /// Throws EOPNOTSUPP when `bridge` is not a bridge, ENODEV when it does not exist.
    public func addPort(index port: Int32, toBridgeNamed bridge: String) throws(Errno) {
        _ = try shimCall { netfd_bridge_add_port(descriptor.rawValue, bridge, port) }
    }

    /// Whether the link named `name` is a bridge, changing nothing (SIOCBRADDIF with port index 0,
    /// which bridges refuse with EINVAL and other links with EOPNOTSUPP). Throws ENODEV when there
    /// is no such link.
    public func isBridge(linkNamed name: String) throws(Errno) -> Bool {
        do {
            _ = try shimCall { netfd_bridge_probe(descriptor.rawValue, name) }
            return true
        } catch .notSupported {
            return false
        }
    }
}

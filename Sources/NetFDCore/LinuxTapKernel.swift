// LinuxTapKernel.swift - TapKernel on the real kernel: /dev/net/tun ioctls, then interface ioctls
// by name on an rtnetlink socket (as qemu-bridge-helper does), and RTM_GETLINK only to name the
// kind of a link that is not a bridge. The tap's name is the kernel's, unique in the namespace
// while the helper holds its descriptor; only a CAP_NET_ADMIN process there could rename it.
// syscalls: openat(/dev/net/tun), ioctl(TUNGETFEATURES, TUNSETIFF, TUNSETOWNER, TUNSETGROUP,
//           SIOCGIFINDEX, SIOCGIFMTU, SIOCSIFMTU, SIOCSIFHWADDR, SIOCGIFFLAGS, SIOCSIFFLAGS, SIOCBRADDIF),
//           socket(AF_NETLINK, NETLINK_ROUTE), sendto and recvfrom (errors only), getrandom, close
import CNetFD
import NetFDPolicy
import NetFDSystem

/// The real kernel, in the helper's network namespace.
public final class LinuxTapKernel: TapKernel {
    let netlink: RouteNetlink
    let clonePath: String

    /// Opens the rtnetlink socket up front (one per request).
    public init(clonePath: String = TunDevice.clonePath) throws(Errno) {
        netlink = try RouteNetlink()
        self.clonePath = clonePath
    }

    /// The bridge probe (a refused SIOCBRADDIF) and SIOCGIFMTU, the MTU the tap will take.
    public func bridge(named name: InterfaceName) throws(BridgeLookupError) -> BridgeLink {
        do throws(Errno) {
            guard try netlink.isBridge(linkNamed: name.value) else { throw .notSupported }
            return BridgeLink(name: name.value, mtu: try netlink.mtu(ofLinkNamed: name.value))
        } catch {
            throw describe(name.value, error)
        }
    }

    public func createTap(nameTemplate: String, vnetHeader: Bool) throws(Errno) -> CreatedTap {
        try createTap(nameTemplate: nameTemplate, vnetHeader: vnetHeader, multiQueue: false)
    }

    /// The tap of either request form; with IFF_MULTI_QUEUE when `multiQueue` (DeviceKernel), so
    /// that more queues can attach.
    public func createTap(nameTemplate: String, vnetHeader: Bool, multiQueue: Bool) throws(Errno) -> CreatedTap {
        let device = try TunDevice.openClone(path: clonePath)
        do throws(Errno) {
            var flags: TunFlags = multiQueue ? [.tap, .noPacketInfo, .multiQueue] : [.tap, .noPacketInfo]
            if vnetHeader, try device.supportedFlags().contains(.vnetHeader) { flags.insert(.vnetHeader) }
            let name = try device.attach(nameTemplate: nameTemplate, flags: flags)
            // The index by SIOCGIFINDEX and an address of our own: no RTM_GETLINK reply to build and parse.
            return CreatedTap(descriptor: device.descriptor, name: name, index: try netlink.interfaceIndex(named: name),
                              address: try Self.randomAddress(), vnetHeader: flags.contains(.vnetHeader))
        } catch {
            device.descriptor.close()
            throw error
        }
    }

    /// Six random bytes made a unicast, locally administered Ethernet address, like the kernel's
    /// own random tap address (TapRequestFlow.hostSideAddress then sets the first byte to 0xfe).
    static func randomAddress() throws(Errno) -> [UInt8] {
        var address = try randomBytes(6)
        address[0] = (address[0] & 0xfe) | 0x02
        return address
    }

    /// `count` bytes from getrandom(2).
    static func randomBytes(_ count: Int) throws(Errno) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        _ = try shimCall { bytes.withUnsafeMutableBytes { netfd_random_bytes($0.baseAddress, $0.count) } }
        return bytes
    }

    public func restrict(_ tap: CreatedTap, toUser uid: UInt32, group gid: UInt32) throws(Errno) {
        try TunDevice(tap.descriptor).restrict(toUser: uid, group: gid)
    }

    public func configure(_ tap: CreatedTap, mtu: UInt32, address: [UInt8]) throws(Errno) {
        try netlink.setMTU(mtu, ofLinkNamed: tap.name)
        try netlink.setEthernetAddress(address, ofLinkNamed: tap.name)
    }

    /// SIOCBRADDIF, which the kernel accepts only for a bridge (the link may have been replaced
    /// since the lookup).
    public func enslave(_ tap: CreatedTap, to bridge: BridgeLink) throws(BridgeLookupError) {
        do {
            try netlink.addPort(index: tap.index, toBridgeNamed: bridge.name)
        } catch {
            throw describe(bridge.name, error)
        }
    }

    /// What the ioctls' `error` for the link `name` means: ENODEV that it does not exist,
    /// EOPNOTSUPP that it is not a bridge, with its kind from RTM_GETLINK (the one rtnetlink
    /// request, made on this error path only).
    private func describe(_ name: String, _ error: Errno) -> BridgeLookupError {
        switch error {
        case .noDevice:
            return .notFound
        case .notSupported:
            let link: LinkMessage?
            do { link = try netlink.link(named: name) } catch { return .kernel(error) }
            // The kernel looked the name up whole; check it answered for exactly that name anyway.
            guard let link, link.name == name else { return .notFound }
            guard link.kind != "bridge" else { return .kernel(.notSupported) }   // replaced meanwhile
            return .notABridge(kind: link.kind ?? "")
        default:
            return .kernel(error)
        }
    }

    public func bringUp(_ tap: CreatedTap) throws(Errno) {
        try netlink.setUp(linkNamed: tap.name)
    }

    public func close(_ tap: CreatedTap) {
        tap.descriptor.close()
    }
}

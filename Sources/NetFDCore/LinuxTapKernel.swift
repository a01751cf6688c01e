// LinuxTapKernel.swift - TapKernel on the real kernel: /dev/net/tun ioctls and rtnetlink.
// syscalls: openat(/dev/net/tun), ioctl(TUNGETFEATURES, TUNSETIFF, TUNSETOWNER, TUNSETGROUP),
//           socket(AF_NETLINK, NETLINK_ROUTE), sendto, recvfrom, close
import NetFDPolicy
import NetFDSystem

/// The real kernel, in the helper's network namespace.
public final class LinuxTapKernel: TapKernel {
    private let netlink: RouteNetlink
    private let clonePath: String

    /// Opens the rtnetlink socket up front (one per request).
    public init(clonePath: String = TunDevice.clonePath) throws(Errno) {
        netlink = try RouteNetlink()
        self.clonePath = clonePath
    }

    public func bridge(named name: InterfaceName) throws(BridgeLookupError) -> BridgeLink {
        let link: LinkMessage?
        do { link = try netlink.link(named: name.value) } catch { throw .kernel(error) }
        // The kernel looked the name up whole; check it answered for exactly that name anyway.
        guard let link, link.name == name.value else { throw .notFound }
        guard link.kind == "bridge" else { throw .notABridge(kind: link.kind ?? "") }
        return BridgeLink(name: name.value, index: link.index, mtu: link.mtu ?? 1500)
    }

    public func createTap(nameTemplate: String, vnetHeader: Bool) throws(Errno) -> CreatedTap {
        let device = try TunDevice.openClone(path: clonePath)
        do throws(Errno) {
            var flags: TunFlags = [.tap, .noPacketInfo]
            if vnetHeader, try device.supportedFlags().contains(.vnetHeader) { flags.insert(.vnetHeader) }
            let name = try device.attach(nameTemplate: nameTemplate, flags: flags)
            guard let link = try netlink.link(named: name) else { throw Errno.noDevice }
            return CreatedTap(descriptor: device.descriptor, name: name, index: link.index,
                              address: link.address ?? [], vnetHeader: flags.contains(.vnetHeader))
        } catch {
            device.descriptor.close()
            throw error
        }
    }

    public func restrict(_ tap: CreatedTap, toUser uid: UInt32, group gid: UInt32) throws(Errno) {
        try TunDevice(tap.descriptor).restrict(toUser: uid, group: gid)
    }

    public func configure(_ tap: CreatedTap, mtu: UInt32, address: [UInt8]) throws(Errno) {
        try netlink.setLink(index: tap.index, mtu: mtu, address: address)
    }

    public func enslave(_ tap: CreatedTap, to bridge: BridgeLink) throws(Errno) {
        try netlink.setLink(index: tap.index, master: bridge.index)
    }

    public func bringUp(_ tap: CreatedTap) throws(Errno) {
        try netlink.setUp(index: tap.index, true)
    }

    public func close(_ tap: CreatedTap) {
        tap.descriptor.close()
    }
}

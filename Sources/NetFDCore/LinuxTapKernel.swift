// LinuxTapKernel.swift - TapKernel on the real kernel: /dev/net/tun ioctls and rtnetlink.
// syscalls: openat(/dev/net/tun), ioctl(TUNGETFEATURES, TUNSETIFF, TUNSETOWNER, TUNSETGROUP, SIOCGIFINDEX),
//           socket(AF_NETLINK, NETLINK_ROUTE), sendto, recvfrom, getrandom, close
import CNetFD
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
        var address = [UInt8](repeating: 0, count: 6)
        _ = try shimCall { address.withUnsafeMutableBytes { netfd_random_bytes($0.baseAddress, $0.count) } }
        address[0] = (address[0] & 0xfe) | 0x02
        return address
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

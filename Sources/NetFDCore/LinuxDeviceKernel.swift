// LinuxDeviceKernel.swift - DeviceKernel on the real kernel, in the helper's network namespace:
// multiqueue taps through /dev/net/tun, macvtaps by rtnetlink and /dev/tapINDEX (verified
// against sysfs), AF_PACKET sockets, vhost-net, the quota count from a link dump, capabilities.
// syscalls: openat(/dev/net/tun, /dev/tapN, /sys/class/net/..., vhost device), ioctl(TUNSETIFF),
//           newfstatat, fstat, read, socket(AF_PACKET), setsockopt, bind, sendto and recvfrom
//           (RTM_NEWLINK, RTM_SETLINK, RTM_DELLINK, RTM_GETLINK), capget, capset, getrandom,
//           and the guard's (MacvtapGuard.swift)
import CNetFD
import NetFDPolicy
import NetFDSystem

extension LinuxTapKernel: DeviceKernel {
    /// The kernel's name template for macvtaps (as `ip link add ... type macvtap` names them).
    static let macvtapNameTemplate = "macvtap%d"

    public func link(named name: InterfaceName) throws(LinkLookupFailure) -> ExistingLink {
        let found: LinkMessage?
        do { found = try netlink.link(named: name.value) } catch { throw .kernel(error) }
        // The kernel looked the name up whole; check it answered for exactly that name anyway.
        guard let found, found.name == name.value else { throw .notFound }
        return ExistingLink(name: name.value, index: found.index, address: found.address ?? [])
    }

    /// Another queue: the same flags, by the tap's exact name. The tap's owner is the caller, and
    /// the helper runs as the caller, so the kernel lets it attach (and nobody else).
    public func attachQueue(to tap: CreatedTap) throws(Errno) -> FileDescriptor {
        let device = try TunDevice.openClone(path: clonePath)
        do throws(Errno) {
            var flags: TunFlags = [.tap, .noPacketInfo, .multiQueue]
            if tap.vnetHeader { flags.insert(.vnetHeader) }
            let name = try device.attach(nameTemplate: tap.name, flags: flags)
            // A name without %d is taken as is; anything else would be another device.
            guard name == tap.name else { throw Errno.invalidArgument }
            return device.descriptor
        } catch {
            device.descriptor.close()
            throw error
        }
    }

    public func createMacvtap(on lower: ExistingLink, mode: MacvtapMode, address: MacAddress) throws(Errno) -> CreatedMacvtap {
        let created = try netlink.createMacvtap(nameTemplate: Self.macvtapNameTemplate, lowerIndex: lower.index,
                                                mode: Self.macvlanMode(mode), address: address.bytes)
        return CreatedMacvtap(name: created.name, index: created.index, address: address, lowerIndex: lower.index)
    }

    public func addressInUse(_ address: MacAddress, on lower: ExistingLink) throws(Errno) -> Bool {
        if lower.address == address.bytes { return true }
        for link in try netlink.links() where link.lowerIndex == lower.index && link.address == address.bytes {
            return true
        }
        return false
    }

    static func macvlanMode(_ mode: MacvtapMode) -> MacvlanMode {
        switch mode {
        case .bridge: return .bridge
        case .vepa: return .vepa
        case .private: return .private
        case .passthru: return .passthru
        }
    }

    public func markOwner(_ macvtap: CreatedMacvtap, uid: UInt32) throws(Errno) {
        try netlink.setAlias(ownerAlias(uid: uid), ofLinkIndex: macvtap.index)
    }

    public func openQueue(of macvtap: CreatedMacvtap, vnetHeader: Bool) throws(MacvtapQueueFailure) -> FileDescriptor {
        do {
            return try MacvtapDevice.openQueue(linkName: macvtap.name, index: macvtap.index, vnetHeader: vnetHeader)
        } catch {
            switch error {
            case .noDeviceNode(let path): throw .noDeviceNode(path: path)
            case .foreignDeviceNode(let path): throw .foreignDeviceNode(path: path)
            case .sysfsShowsAnotherLink: throw .sysfsShowsAnotherLink(name: macvtap.name)
            case .kernel(let step, let errno): throw .kernel(step: step, errno)
            }
        }
    }

    public func bringUp(_ macvtap: CreatedMacvtap) throws(Errno) {
        try netlink.setUp(linkNamed: macvtap.name)
    }

    public func delete(_ macvtap: CreatedMacvtap) {
        // Only if it still is the one created: same lower link and MAC.
        guard let link = try? netlink.link(index: macvtap.index), link.kind == "macvtap",
              link.lowerIndex == macvtap.lowerIndex, link.address == macvtap.address.bytes else { return }
        try? netlink.deleteLink(index: macvtap.index)
    }

    public func openPacketSocket(on link: ExistingLink, ethernetProtocol: UInt16, vnetHeader: Bool, promiscuous: Bool) throws(Errno) -> FileDescriptor {
        try RawPacketSocket.open(linkIndex: link.index, ethernetProtocol: ethernetProtocol, vnetHeader: vnetHeader, promiscuous: promiscuous)
    }

    public func openVhost(path: String) throws(Errno) -> FileDescriptor {
        try VhostDevice.open(path: path)
    }

    public func interfaceCount(heldBy uid: UInt32) throws(Errno) -> Int {
        var count = 0
        for link in try netlink.links() {
            if link.kind == "tun", link.tunOwner == uid { count += 1 }
            if link.kind == "macvtap", ownerFromAlias(link.alias) == uid { count += 1 }
        }
        return count
    }

    public func setCapabilities(effective: CapabilitySet, permitted: CapabilitySet) throws(Errno) {
        try Confinement.setCapabilities(effective: effective, permitted: permitted)
    }

    public func startGuard(emulatorSocket socket: FileDescriptor) throws(Errno) -> any LinkGuard {
        try ProcessLinkGuard(emulatorSocket: socket)
    }

    public func releasableLink(named name: InterfaceName) throws(LinkLookupFailure) -> ReleasableLink {
        let found: LinkMessage?
        do { found = try netlink.link(named: name.value) } catch { throw .kernel(error) }
        guard let found, found.name == name.value else { throw .notFound }
        return ReleasableLink(index: found.index, kind: found.kind, heldBy: ownerFromAlias(found.alias))
    }

    public func deleteLink(index: Int32) throws(Errno) {
        try netlink.deleteLink(index: index)
    }

    public func randomBytes(_ count: Int) throws(Errno) -> [UInt8] {
        try Self.randomBytes(count)
    }
}

// TapKernel.swift - the kernel operations a tap request needs, behind a protocol so that
// tests can substitute a fake that hands out socketpair ends as "devices".
import NetFDPolicy
import NetFDSystem

/// A bridge as the kernel reports it.
public struct BridgeLink: Equatable, Sendable {
    public var name: String
    public var mtu: UInt32
    public init(name: String, mtu: UInt32) { self.name = name; self.mtu = mtu }
}

/// A tap the helper created and still holds a descriptor of.
public struct CreatedTap: Equatable, Sendable {
    public var descriptor: FileDescriptor
    public var name: String
    public var index: Int32
    /// Its MAC address before configuration: random, unicast, locally administered (the Linux
    /// kernel layer draws it with getrandom instead of reading the kernel's back).
    public var address: [UInt8]
    public var vnetHeader: Bool
    public init(descriptor: FileDescriptor, name: String, index: Int32, address: [UInt8], vnetHeader: Bool) {
        self.descriptor = descriptor; self.name = name; self.index = index; self.address = address; self.vnetHeader = vnetHeader
    }
}

/// Why a bridge lookup or enslaving failed.
public enum BridgeLookupError: Error, Equatable {
    case notFound
    /// The link exists but is of another kind ("veth", or "" for a physical device).
    case notABridge(kind: String)
    case kernel(Errno)
}

/// Kernel operations for tap requests. Every method either does all of its work or none.
/// Class-bound: the helper's embedded build holds only class-bound existentials.
public protocol TapKernel: AnyObject {
    /// Looks up `name`, checks that it is a bridge, and reads its MTU.
    func bridge(named name: InterfaceName) throws(BridgeLookupError) -> BridgeLink
    /// Creates a non-persistent IFF_TAP|IFF_NO_PI device from `nameTemplate` ("tap%d"), with
    /// IFF_VNET_HDR when `vnetHeader` is true and the kernel supports it.
    func createTap(nameTemplate: String, vnetHeader: Bool) throws(Errno) -> CreatedTap
    /// TUNSETOWNER/TUNSETGROUP: only this user and group may attach to the device.
    func restrict(_ tap: CreatedTap, toUser uid: UInt32, group gid: UInt32) throws(Errno)
    /// Sets the MTU and the MAC address (before enslaving, so the bridge never adopts either).
    func configure(_ tap: CreatedTap, mtu: UInt32, address: [UInt8]) throws(Errno)
    /// Makes the tap a port of `bridge`; `.notFound` or `.notABridge` if it was replaced by
    /// something else since the lookup.
    func enslave(_ tap: CreatedTap, to bridge: BridgeLink) throws(BridgeLookupError)
    /// Sets IFF_UP.
    func bringUp(_ tap: CreatedTap) throws(Errno)
    /// Closes the helper's descriptor. The tap is not persistent: before the handoff this
    /// deletes it (the rollback); after the handoff the emulator's descriptor keeps it alive.
    func close(_ tap: CreatedTap)
}

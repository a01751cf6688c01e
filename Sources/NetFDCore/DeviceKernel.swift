// DeviceKernel.swift - the kernel operations the native request kinds need (multiqueue tap,
// macvtap, raw packet socket, vhost-net, the quota count, capability phases), behind a protocol
// so that unit tests can substitute a fake that hands out socketpair ends as devices.
import NetFDPolicy
import NetFDSystem

/// A link the helper did not create and only looks at: a macvtap's lower link, a raw socket's link.
public struct ExistingLink: Equatable, Sendable {
    public var name: String
    public var index: Int32
    /// Its Ethernet address (empty for links without one).
    public var address: [UInt8]
    public init(name: String, index: Int32, address: [UInt8]) {
        self.name = name; self.index = index; self.address = address
    }
}

/// A macvtap link the helper created. It is persistent: closing its queues does not delete it.
public struct CreatedMacvtap: Equatable, Sendable {
    public var name: String
    public var index: Int32
    public var address: MacAddress
    /// The lower link's index.
    public var lowerIndex: Int32
    public init(name: String, index: Int32, address: MacAddress, lowerIndex: Int32) {
        self.name = name; self.index = index; self.address = address; self.lowerIndex = lowerIndex
    }
}

/// Why a macvtap queue could not be opened.
public enum MacvtapQueueFailure: Error, Equatable {
    /// /dev/tapINDEX does not exist (no devtmpfs or udev node for this link).
    case noDeviceNode(path: String)
    /// /dev/tapINDEX is the node of another device: a macvtap with the same index in another
    /// network namespace got the name first (devtmpfs names are global).
    case foreignDeviceNode(path: String)
    /// /sys/class/net/NAME is not this link: /sys belongs to another network namespace.
    case sysfsShowsAnotherLink(name: String)
    /// Any other step; EACCES on the open means the helper lacks CAP_DAC_OVERRIDE.
    case kernel(step: String, Errno)
}

/// Watches one macvtap on the helper's behalf, from a separate process that outlives the helper:
/// it deletes the link when the helper dies before the handoff, or when the emulator exits after
/// it, and exits itself when the link is gone. Class-bound for the embedded build.
public protocol LinkGuard: AnyObject {
    /// The helper is about to create a macvtap on `lowerIndex` with `address` (no other link there
    /// has that address, so the guard can find it even if the helper dies before it learns the
    /// new link's index).
    func willCreate(lowerIndex: Int32, address: MacAddress) throws(Errno)
    /// The macvtap exists.
    func created(_ macvtap: CreatedMacvtap) throws(Errno)
    /// The emulator holds the queues: from now on the link lives as long as the emulator.
    func handedOver() throws(Errno)
    /// The helper deleted the link itself (rollback): the guard has nothing left to do.
    func cancel()
}

/// Kernel operations for native requests, beside the bridge-helper ones of `TapKernel`.
/// Every method either does all of its work or none.
public protocol DeviceKernel: TapKernel {
    /// Looks up a link by its exact name.
    func link(named name: InterfaceName) throws(LinkLookupFailure) -> ExistingLink
    /// Like `createTap`, with IFF_MULTI_QUEUE when `multiQueue` (so more queues can attach).
    func createTap(nameTemplate: String, vnetHeader: Bool, multiQueue: Bool) throws(Errno) -> CreatedTap
    /// One more queue of the multiqueue `tap` (TUNSETIFF by its exact name, same flags).
    func attachQueue(to tap: CreatedTap) throws(Errno) -> FileDescriptor
    /// Whether `address` is the lower link's own or that of a macvlan/macvtap on it. The kernel
    /// refuses a duplicate only when the second link goes up, and the guard finds a link it did not
    /// learn the index of by lower link and MAC, so a requested MAC is checked first.
    func addressInUse(_ address: MacAddress, on lower: ExistingLink) throws(Errno) -> Bool
    /// Creates a macvtap on `lower` (kernel-chosen name `macvtapN`) with `mode` and `address`.
    func createMacvtap(on lower: ExistingLink, mode: MacvtapMode, address: MacAddress) throws(Errno) -> CreatedMacvtap
    /// Labels the macvtap as held by `uid` (its alias `netfd uid=UID`), for quotas and release.
    func markOwner(_ macvtap: CreatedMacvtap, uid: UInt32) throws(Errno)
    /// Opens one queue of `macvtap` through /dev/tapINDEX, verified against sysfs, with
    /// IFF_VNET_HDR exactly when `vnetHeader`.
    func openQueue(of macvtap: CreatedMacvtap, vnetHeader: Bool) throws(MacvtapQueueFailure) -> FileDescriptor
    /// Sets IFF_UP on the macvtap (never on its lower link).
    func bringUp(_ macvtap: CreatedMacvtap) throws(Errno)
    /// Deletes the macvtap (rollback); errors are ignored, the guard checks again.
    func delete(_ macvtap: CreatedMacvtap)
    /// An AF_PACKET socket bound to `link`.
    func openPacketSocket(on link: ExistingLink, ethernetProtocol: UInt16, vnetHeader: Bool, promiscuous: Bool) throws(Errno) -> FileDescriptor
    /// Opens the vhost-net device at `path` with the caller's own permissions.
    func openVhost(path: String) throws(Errno) -> FileDescriptor
    /// How many interfaces `uid` holds now, from the kernel's links: taps it owns (tun owner)
    /// and macvtaps netfd created for it (their alias).
    func interfaceCount(heldBy uid: UInt32) throws(Errno) -> Int
    /// Lowers the capability sets to these (never raises beyond what is permitted).
    func setCapabilities(effective: CapabilitySet, permitted: CapabilitySet) throws(Errno)
    /// The link `name` with what `release` must know about it.
    func releasableLink(named name: InterfaceName) throws(LinkLookupFailure) -> ReleasableLink
    /// Deletes the link with `index` (`release`, after its checks).
    func deleteLink(index: Int32) throws(Errno)
    /// `count` bytes from the kernel's random source (a generated MAC address).
    func randomBytes(_ count: Int) throws(Errno) -> [UInt8]
    /// Starts the guard of a macvtap for the emulator at the other end of `socket`.
    func startGuard(emulatorSocket socket: FileDescriptor) throws(Errno) -> any LinkGuard
}

/// Why a link lookup failed.
public enum LinkLookupFailure: Error, Equatable {
    case notFound
    case kernel(Errno)
}

/// A link as `netfd-helper release` sees it.
public struct ReleasableLink: Equatable, Sendable {
    public var index: Int32
    /// The link's kind ("macvtap", "tun", ...; nil for a device without one).
    public var kind: String?
    /// The uid netfd created it for (its alias `netfd uid=UID`), or nil when netfd did not.
    public var heldBy: UInt32?
    public init(index: Int32, kind: String?, heldBy: UInt32?) { self.index = index; self.kind = kind; self.heldBy = heldBy }
}

/// The alias netfd gives a macvtap it created for `uid` (kernel state that counts quotas and
/// authorizes `release`; only a CAP_NET_ADMIN process can change it).
public func ownerAlias(uid: UInt32) -> String { "netfd uid=\(uid)" }

/// The uid in an alias `ownerAlias` made, or nil for any other alias.
public func ownerFromAlias(_ alias: String?) -> UInt32? {
    guard let alias, alias.utf8.starts(with: "netfd uid=".utf8) else { return nil }
    let digits = alias.utf8.dropFirst(10)
    guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }),
          digits.first != 48 || digits.count == 1 else { return nil }
    return UInt32(String(decoding: digits, as: UTF8.self))
}

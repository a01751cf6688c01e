// TunDevice.swift - the tun/tap character device and its ioctls.
// syscalls: openat(/dev/net/tun), ioctl(TUNGETFEATURES, TUNSETIFF, TUNGETIFF, TUNSETOWNER, TUNSETGROUP)
import CNetFD
import Glibc

/// IFF_* flags of a tun/tap device (linux/if_tun.h).
public struct TunFlags: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let tun = TunFlags(rawValue: Int32(NETFD_IFF_TUN))
    public static let tap = TunFlags(rawValue: Int32(NETFD_IFF_TAP))
    public static let noPacketInfo = TunFlags(rawValue: Int32(NETFD_IFF_NO_PI))
    public static let vnetHeader = TunFlags(rawValue: Int32(NETFD_IFF_VNET_HDR))
    public static let multiQueue = TunFlags(rawValue: Int32(NETFD_IFF_MULTI_QUEUE))
}

/// A descriptor of /dev/net/tun, before and after it was made a device.
public struct TunDevice: Sendable {
    public static let clonePath = "/dev/net/tun"
    public let descriptor: FileDescriptor

    public init(_ descriptor: FileDescriptor) { self.descriptor = descriptor }

    /// Opens the clone device; the result is not a device until `attach` is called.
    public static func openClone(path: String = clonePath) throws(Errno) -> TunDevice {
        TunDevice(try FileDescriptor.open(path, O_RDWR))
    }

    /// The IFF_* flags this kernel's tun driver supports (TUNGETFEATURES).
    public func supportedFlags() throws(Errno) -> TunFlags {
        var features: UInt32 = 0
        _ = try shimCall { netfd_tun_get_features(descriptor.rawValue, &features) }
        return TunFlags(rawValue: Int32(bitPattern: features))
    }

    /// TUNSETIFF: creates the device from `nameTemplate` (e.g. "tap%d") and returns the kernel's name.
    /// The device is not persistent: it vanishes when the last descriptor of it is closed.
    public func attach(nameTemplate: String, flags: TunFlags) throws(Errno) -> String {
        var name = [CChar](repeating: 0, count: Int(NETFD_IFNAMSIZ))
        _ = try shimCall { netfd_tun_set_iff(descriptor.rawValue, nameTemplate, flags.rawValue, &name) }
        return String(cString: name)
    }

    /// TUNGETIFF: the device's name and flags.
    public func nameAndFlags() throws(Errno) -> (name: String, flags: TunFlags) {
        var name = [CChar](repeating: 0, count: Int(NETFD_IFNAMSIZ))
        var flags: Int32 = 0
        _ = try shimCall { netfd_tun_get_iff(descriptor.rawValue, &name, &flags) }
        return (String(cString: name), TunFlags(rawValue: flags))
    }

    /// TUNSETOWNER / TUNSETGROUP: only this user or group may attach to the device afterwards.
    public func restrict(toUser uid: UInt32, group gid: UInt32) throws(Errno) {
        _ = try shimCall { netfd_tun_set_owner(descriptor.rawValue, uid) }
        _ = try shimCall { netfd_tun_set_group(descriptor.rawValue, gid) }
    }
}

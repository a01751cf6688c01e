/// A decoded RTM_NEWLINK message, as the kernel sends in reply to RTM_GETLINK: the `struct ifinfomsg` fields and
/// the attributes netfd uses. Absent attributes are nil; unknown ones are ignored.
public struct LinkMessage: Equatable, Sendable {
    public var index: Int32
    /// IFF_* flags (linux/if.h).
    public var flags: UInt32
    /// ARPHRD_* type (linux/if_arp.h).
    public var deviceType: UInt16
    /// IFLA_IFNAME.
    public var name: String?
    /// IFLA_MTU.
    public var mtu: UInt32?
    /// IFLA_MASTER: index of the bridge this link is enslaved to.
    public var master: Int32?
    /// IFLA_ADDRESS: the hardware address.
    public var address: [UInt8]?
    /// IFLA_LINKINFO/IFLA_INFO_KIND, e.g. "bridge" or "tun".
    public var kind: String?

    /// Builds a value directly, e.g. for a fake kernel.
    public init(
        index: Int32, flags: UInt32 = 0, deviceType: UInt16 = 0, name: String? = nil, mtu: UInt32? = nil,
        master: Int32? = nil, address: [UInt8]? = nil, kind: String? = nil
    ) {
        self.index = index
        self.flags = flags
        self.deviceType = deviceType
        self.name = name
        self.mtu = mtu
        self.master = master
        self.address = address
        self.kind = kind
    }

    /// Decodes `message`, which must be an RTM_NEWLINK whose payload holds at least a `struct ifinfomsg`.
    ///
    /// Throws on another message type, a short payload, malformed attributes (including inside IFLA_LINKINFO)
    /// or a u32 attribute that is not 4 bytes. Error offsets are indices of the payload.
    public init(decoding message: NetlinkMessage) throws(NetlinkDecodeError) {
        guard message.type == Netlink.RTM_NEWLINK else {
            throw NetlinkDecodeError(.unexpectedMessageType, at: 0)
        }
        let payload = message.payload[...]
        guard payload.count >= Netlink.interfaceInfoSize else {
            throw NetlinkDecodeError(.truncatedPayload, at: 0)
        }
        // struct ifinfomsg: u8 family, u8 pad, u16 type, s32 index, u32 flags, u32 change.
        self.init(
            index: payload.hostOrderInteger(at: 4),
            flags: payload.hostOrderInteger(at: 8),
            deviceType: payload.hostOrderInteger(at: 2)
        )
        try forEachNetlinkAttribute(in: payload.dropFirst(Netlink.interfaceInfoSize)) { type, value throws(NetlinkDecodeError) in
            switch type {
            case Netlink.IFLA_IFNAME: name = decodeNetlinkString(value)
            case Netlink.IFLA_MTU: mtu = try decodeNetlinkUInt32(value)
            case Netlink.IFLA_MASTER: master = Int32(bitPattern: try decodeNetlinkUInt32(value))
            case Netlink.IFLA_ADDRESS: address = Array(value)
            case Netlink.IFLA_LINKINFO:
                try forEachNetlinkAttribute(in: value) { infoType, infoValue in
                    if infoType == Netlink.IFLA_INFO_KIND { kind = decodeNetlinkString(infoValue) }
                }
            default: break   // the kernel sends dozens of attributes netfd has no use for
            }
        }
    }
}

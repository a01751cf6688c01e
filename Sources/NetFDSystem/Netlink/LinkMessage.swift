/// A decoded link message: an RTM_NEWLINK as the kernel sends in reply to RTM_GETLINK, in a dump,
/// as an echo or as a notification, or an RTM_DELLINK notification. The `struct ifinfomsg` fields
/// and the attributes netfd uses; absent attributes are nil, unknown ones are ignored.
public struct LinkMessage: Equatable, Sendable {
    public var index: Int32
    /// IFF_* flags (linux/if.h), ifi_flags.
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
    /// IFLA_LINKINFO/IFLA_INFO_KIND, e.g. "bridge", "tun", "macvtap".
    public var kind: String?
    /// ifi_family: AF_UNSPEC (0) for the link itself; bridge port notifications (RTM_NEWLINK and
    /// RTM_DELLINK with AF_BRIDGE, 7) describe the port, not the link's existence.
    public var family: UInt8
    /// IFLA_LINK: the index of the link this one is stacked on (a macvtap's lower link; a veth's
    /// peer). Indices are of the peer's own namespace when that differs.
    public var lowerIndex: Int32?
    /// IFLA_IFALIAS, when the link has one.
    public var alias: String?
    /// IFLA_INFO_DATA/IFLA_MACVLAN_MODE of a "macvlan" or "macvtap" link; nil when absent or not one
    /// of the four modes netfd knows (e.g. MACVLAN_MODE_SOURCE).
    public var macvlanMode: MacvlanMode?
    /// IFLA_INFO_DATA/IFLA_TUN_OWNER of a "tun" link: the only uid that may attach (TUNSETOWNER);
    /// nil when absent or -1 (no owner).
    public var tunOwner: UInt32?
    /// IFLA_INFO_DATA/IFLA_TUN_GROUP of a "tun" link (TUNSETGROUP); nil when absent or -1.
    public var tunGroup: UInt32?
    /// IFLA_INFO_DATA/IFLA_TUN_TYPE of a "tun" link: IFF_TUN (1) or IFF_TAP (2).
    public var tunType: UInt8?
    /// Whether the message was an RTM_DELLINK (a deletion notification) rather than an RTM_NEWLINK.
    public var isDeletion: Bool

    /// Builds a value directly, e.g. for a fake kernel.
    public init(
        index: Int32, flags: UInt32 = 0, deviceType: UInt16 = 0, name: String? = nil, mtu: UInt32? = nil,
        master: Int32? = nil, address: [UInt8]? = nil, kind: String? = nil,
        family: UInt8 = 0, lowerIndex: Int32? = nil, alias: String? = nil, macvlanMode: MacvlanMode? = nil,
        tunOwner: UInt32? = nil, tunGroup: UInt32? = nil, tunType: UInt8? = nil, isDeletion: Bool = false
    ) {
        self.index = index
        self.flags = flags
        self.deviceType = deviceType
        self.name = name
        self.mtu = mtu
        self.master = master
        self.address = address
        self.kind = kind
        self.family = family
        self.lowerIndex = lowerIndex
        self.alias = alias
        self.macvlanMode = macvlanMode
        self.tunOwner = tunOwner
        self.tunGroup = tunGroup
        self.tunType = tunType
        self.isDeletion = isDeletion
    }


    /// Decodes `message`, which must be an RTM_NEWLINK or RTM_DELLINK whose payload holds at least
    /// a `struct ifinfomsg`.
    ///
    /// Throws on another message type, a short payload, malformed attributes (including inside
    /// IFLA_LINKINFO and its IFLA_INFO_DATA) or a u32 (u8) attribute that is not 4 (1) bytes. Error
    /// offsets are indices of the payload.
    public init(decoding message: NetlinkMessage) throws(NetlinkDecodeError) {
        guard message.type == Netlink.RTM_NEWLINK || message.type == Netlink.RTM_DELLINK else {
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
            deviceType: payload.hostOrderInteger(at: 2),
            family: payload[payload.startIndex],
            isDeletion: message.type == Netlink.RTM_DELLINK
        )
        var kindData: ArraySlice<UInt8>?
        try forEachNetlinkAttribute(in: payload.dropFirst(Netlink.interfaceInfoSize)) { type, value throws(NetlinkDecodeError) in
            switch type {
            case Netlink.IFLA_IFNAME: name = decodeNetlinkString(value)
            case Netlink.IFLA_MTU: mtu = try decodeNetlinkUInt32(value)
            case Netlink.IFLA_MASTER: master = Int32(bitPattern: try decodeNetlinkUInt32(value))
            case Netlink.IFLA_ADDRESS: address = Array(value)
            case Netlink.IFLA_LINK: lowerIndex = Int32(bitPattern: try decodeNetlinkUInt32(value))
            case Netlink.IFLA_IFALIAS: alias = decodeNetlinkString(value)
            case Netlink.IFLA_LINKINFO:
                try forEachNetlinkAttribute(in: value) { infoType, infoValue in
                    if infoType == Netlink.IFLA_INFO_KIND { kind = decodeNetlinkString(infoValue) }
                    if infoType == Netlink.IFLA_INFO_DATA { kindData = infoValue }
                }
            default: break   // the kernel sends dozens of attributes netfd has no use for
            }
        }
        // After the loop: what IFLA_INFO_DATA means depends on IFLA_INFO_KIND, in whatever order they came.
        guard let kindData else { return }
        switch kind {
        case "macvlan", "macvtap":
            try forEachNetlinkAttribute(in: kindData) { type, value throws(NetlinkDecodeError) in
                if type == Netlink.IFLA_MACVLAN_MODE { macvlanMode = MacvlanMode(rawValue: try decodeNetlinkUInt32(value)) }
            }
        case "tun":
            try forEachNetlinkAttribute(in: kindData) { type, value throws(NetlinkDecodeError) in
                switch type {
                case Netlink.IFLA_TUN_OWNER: tunOwner = Self.identity(try decodeNetlinkUInt32(value))
                case Netlink.IFLA_TUN_GROUP: tunGroup = Self.identity(try decodeNetlinkUInt32(value))
                case Netlink.IFLA_TUN_TYPE: tunType = try decodeNetlinkUInt8(value)
                default: break
                }
            }
        default:
            break
        }
    }

    /// A uid or gid attribute: nil for -1, the kernel's "none".
    private static func identity(_ value: UInt32) -> UInt32? { value == UInt32.max ? nil : value }
}

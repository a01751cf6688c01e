// The netlink and rtnetlink uapi values netfd needs, under their C names so they grep against the headers.

/// Constants from the Linux netlink/rtnetlink uapi, plus the wire sizes of the structs netfd encodes.
///
/// Netlink is host-endian: every multi-byte field is in the machine's native byte order, never network order
/// (NLA_F_NET_BYTEORDER marks the rare exception, which netfd never sends).
public enum Netlink {
    // MARK: Message types and flags (linux/netlink.h)

    /// Error or acknowledgement; the payload is a `struct nlmsgerr`.
    public static let NLMSG_ERROR: UInt16 = 2
    /// End of a multipart (NLM_F_MULTI) dump.
    public static let NLMSG_DONE: UInt16 = 3

    public static let NLM_F_REQUEST: UInt16 = 0x1
    public static let NLM_F_MULTI: UInt16 = 0x2
    public static let NLM_F_ACK: UInt16 = 0x4
    /// Requests: also send the notification the change causes back to the sender (RTM_NEWLINK with
    /// the new link, before the ACK; honoured for link creation since Linux 6.1).
    public static let NLM_F_ECHO: UInt16 = 0x8
    /// Dump replies: the dump was inconsistent because the set changed while it was being made.
    public static let NLM_F_DUMP_INTR: UInt16 = 0x10
    /// GET requests: return every object (NLM_F_ROOT | NLM_F_MATCH), as a multipart reply.
    public static let NLM_F_DUMP: UInt16 = 0x300
    /// NEW requests: fail with EEXIST instead of replacing an existing object.
    public static let NLM_F_EXCL: UInt16 = 0x200
    /// NEW requests: create the object if it does not exist.
    public static let NLM_F_CREATE: UInt16 = 0x400

    /// Attribute type flags, and the mask that strips them (NLA_TYPE_MASK).
    public static let NLA_F_NESTED: UInt16 = 0x8000
    public static let NLA_F_NET_BYTEORDER: UInt16 = 0x4000
    public static let NLA_TYPE_MASK: UInt16 = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)

    // MARK: Link messages (linux/rtnetlink.h)

    public static let RTM_NEWLINK: UInt16 = 16
    public static let RTM_DELLINK: UInt16 = 17
    public static let RTM_GETLINK: UInt16 = 18
    public static let RTM_SETLINK: UInt16 = 19

    // MARK: Link attributes (linux/if_link.h)

    /// Hardware address (bytes).
    public static let IFLA_ADDRESS: UInt16 = 1
    /// Interface name (NUL-terminated string).
    public static let IFLA_IFNAME: UInt16 = 3
    /// MTU (u32).
    public static let IFLA_MTU: UInt16 = 4
    /// Index of the link this one is stacked on (u32): a macvtap's lower link, a veth's peer.
    public static let IFLA_LINK: UInt16 = 5
    /// Index of the bridge/bond this link is enslaved to (u32); 0 releases it.
    public static let IFLA_MASTER: UInt16 = 10
    /// RFC 2863 operational state (u8).
    public static let IFLA_OPERSTATE: UInt16 = 16
    /// Nested: IFLA_INFO_* attributes describing the link type.
    public static let IFLA_LINKINFO: UInt16 = 18
    /// The link's alias (string; empty removes it). See RouteNetlink.maximumAliasLength.
    public static let IFLA_IFALIAS: UInt16 = 20
    /// IFALIASZ (linux/if.h): an alias's buffer in the kernel, its NUL included.
    public static let IFALIASZ = 256
    /// Inside IFLA_LINKINFO: the link kind, e.g. "bridge", "tun" (NUL-terminated string).
    public static let IFLA_INFO_KIND: UInt16 = 1
    /// Inside IFLA_LINKINFO: nested kind-specific attributes.
    public static let IFLA_INFO_DATA: UInt16 = 2
    /// Inside IFLA_INFO_DATA of a macvlan or macvtap: its mode (u32, MACVLAN_MODE_*).
    public static let IFLA_MACVLAN_MODE: UInt16 = 1
    /// Inside IFLA_INFO_DATA of a tun/tap: the uid that may attach (u32; absent when unset).
    public static let IFLA_TUN_OWNER: UInt16 = 1
    /// Inside IFLA_INFO_DATA of a tun/tap: the gid that may attach (u32; absent when unset).
    public static let IFLA_TUN_GROUP: UInt16 = 2
    /// Inside IFLA_INFO_DATA of a tun/tap: IFF_TUN or IFF_TAP (u8).
    public static let IFLA_TUN_TYPE: UInt16 = 3
    /// GETLINK filter mask (u32, RTEXT_FILTER_* from linux/rtnetlink.h).
    public static let IFLA_EXT_MASK: UInt16 = 29
    /// RTEXT_FILTER_SKIP_STATS for IFLA_EXT_MASK: a lookup needs no counters (less for the kernel to gather).
    public static let RTEXT_FILTER_SKIP_STATS: UInt32 = 1 << 3

    // MARK: Interface flags (linux/if.h)

    public static let IFF_UP: UInt32 = 0x1
    public static let IFF_RUNNING: UInt32 = 0x40
    public static let IFF_LOWER_UP: UInt32 = 0x10000

    // MARK: Address families (linux/socket.h)

    public static let AF_UNSPEC: UInt8 = 0

    // MARK: Wire sizes

    /// NLMSG_ALIGNTO and NLA_ALIGNTO (linux/netlink.h): messages and attributes start on 4-byte boundaries.
    public static let alignment = 4
    /// sizeof(struct nlmsghdr), NLMSG_HDRLEN (linux/netlink.h).
    public static let messageHeaderSize = 16
    /// sizeof(struct ifinfomsg) (linux/rtnetlink.h).
    public static let interfaceInfoSize = 16
    /// sizeof(struct nlattr), NLA_HDRLEN (linux/netlink.h).
    public static let attributeHeaderSize = 4

    /// Rounds `length` up to the next multiple of `alignment` (NLMSG_ALIGN / NLA_ALIGN).
    static func align(_ length: Int) -> Int {
        (length + alignment - 1) & ~(alignment - 1)
    }
}

/// The rtnetlink link requests netfd sends beyond the tap path's lookup by name, built apart from
/// the socket (RouteNetlink.swift) so that tests can check their bytes. Each returns the builder;
/// `finish()` gives the message.
enum LinkRequest {
    /// RTM_GETLINK for the link with `index`, without statistics, acknowledged (REQUEST|ACK): the
    /// reply is an RTM_NEWLINK then the ACK, or ENODEV.
    static func getLink(index: Int32, sequence: UInt32) -> NetlinkMessageBuilder {
        var message = NetlinkMessageBuilder(type: Netlink.RTM_GETLINK, flags: Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK, sequence: sequence)
        message.appendInterfaceInfo(index: index)
        message.appendAttribute(Netlink.IFLA_EXT_MASK, uint32: Netlink.RTEXT_FILTER_SKIP_STATS)
        return message
    }

    /// RTM_GETLINK dump of every link of the namespace, without statistics (REQUEST|DUMP): a
    /// multipart reply ended by NLMSG_DONE.
    static func dumpLinks(sequence: UInt32) -> NetlinkMessageBuilder {
        var message = NetlinkMessageBuilder(type: Netlink.RTM_GETLINK, flags: Netlink.NLM_F_REQUEST | Netlink.NLM_F_DUMP, sequence: sequence)
        message.appendInterfaceInfo(index: 0)
        message.appendAttribute(Netlink.IFLA_EXT_MASK, uint32: Netlink.RTEXT_FILTER_SKIP_STATS)
        return message
    }

    /// RTM_NEWLINK creating a macvtap (`ip link add link LOWER name TEMPLATE address MAC type
    /// macvtap mode MODE`) that fails rather than touch an existing link (CREATE|EXCL), with the
    /// resulting RTM_NEWLINK echoed back before the ACK (ECHO). `nameTemplate` may hold "%d".
    /// Attributes in iproute2's order: IFLA_IFNAME, IFLA_LINK, IFLA_ADDRESS, then IFLA_LINKINFO
    /// {IFLA_INFO_KIND "macvtap", IFLA_INFO_DATA {IFLA_MACVLAN_MODE}}.
    static func newMacvtap(nameTemplate: String, lowerIndex: Int32, mode: MacvlanMode, address: [UInt8],
                           sequence: UInt32) -> NetlinkMessageBuilder {
        let flags = Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK | Netlink.NLM_F_ECHO | Netlink.NLM_F_EXCL | Netlink.NLM_F_CREATE
        var message = NetlinkMessageBuilder(type: Netlink.RTM_NEWLINK, flags: flags, sequence: sequence)
        message.appendInterfaceInfo(index: 0)
        message.appendAttribute(Netlink.IFLA_IFNAME, string: nameTemplate)
        message.appendAttribute(Netlink.IFLA_LINK, uint32: UInt32(bitPattern: lowerIndex))
        message.appendAttribute(Netlink.IFLA_ADDRESS, bytes: address)
        let linkInfo = message.beginNested(Netlink.IFLA_LINKINFO)
        message.appendAttribute(Netlink.IFLA_INFO_KIND, string: "macvtap")
        let data = message.beginNested(Netlink.IFLA_INFO_DATA)
        message.appendAttribute(Netlink.IFLA_MACVLAN_MODE, uint32: mode.rawValue)
        message.endNested(data)
        message.endNested(linkInfo)
        return message
    }

    /// RTM_DELLINK of the link with `index`, acknowledged.
    static func deleteLink(index: Int32, sequence: UInt32) -> NetlinkMessageBuilder {
        var message = NetlinkMessageBuilder(type: Netlink.RTM_DELLINK, flags: Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK, sequence: sequence)
        message.appendInterfaceInfo(index: index)
        return message
    }

    /// RTM_SETLINK setting the alias (IFLA_IFALIAS) of the link with `index`, acknowledged. The
    /// caller has checked `alias` holds no NUL.
    static func setAlias(_ alias: String, index: Int32, sequence: UInt32) -> NetlinkMessageBuilder {
        var message = NetlinkMessageBuilder(type: Netlink.RTM_SETLINK, flags: Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK, sequence: sequence)
        message.appendInterfaceInfo(index: index)
        message.appendAttribute(Netlink.IFLA_IFALIAS, string: alias)
        return message
    }

    /// RTM_SETLINK adding IFF_UP (ifi_change selects only that flag) to the link with `index`,
    /// acknowledged.
    static func setUp(index: Int32, sequence: UInt32) -> NetlinkMessageBuilder {
        var message = NetlinkMessageBuilder(type: Netlink.RTM_SETLINK, flags: Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK, sequence: sequence)
        message.appendInterfaceInfo(index: index, flags: Netlink.IFF_UP, change: Netlink.IFF_UP)
        return message
    }
}

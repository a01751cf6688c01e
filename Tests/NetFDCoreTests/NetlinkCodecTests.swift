// Byte literals are little-endian, i.e. host order on the x86_64 and aarch64 hosts netfd supports: netlink is
// host-endian.
import XCTest
@testable import NetFDSystem

final class NetlinkCodecTests: XCTestCase {
    // MARK: Building

    /// `ip link show dev br0` (iproute2's iplink_get): IFLA_IFNAME then IFLA_EXT_MASK = RTEXT_FILTER_VF.
    func testGetLinkByNameMatchesIproute2Layout() {
        var builder = NetlinkMessageBuilder(type: Netlink.RTM_GETLINK, flags: Netlink.NLM_F_REQUEST, sequence: 1)
        builder.appendInterfaceInfo(index: 0, family: Netlink.AF_UNSPEC)
        builder.appendAttribute(Netlink.IFLA_IFNAME, string: "br0")
        builder.appendAttribute(Netlink.IFLA_EXT_MASK, uint32: 1)
        XCTAssertEqual(builder.finish(), [
            0x30, 0x00, 0x00, 0x00, 0x12, 0x00, 0x01, 0x00,  // nlmsg_len 48, RTM_GETLINK, NLM_F_REQUEST
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // seq 1, pid 0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ifinfomsg: AF_UNSPEC, pad, type 0, index 0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //   flags 0, change 0
            0x08, 0x00, 0x03, 0x00, 0x62, 0x72, 0x30, 0x00,  // IFLA_IFNAME "br0\0"
            0x08, 0x00, 0x1d, 0x00, 0x01, 0x00, 0x00, 0x00,  // IFLA_EXT_MASK RTEXT_FILTER_VF
        ])
    }

    func testSetLinkWithMTUAndAddressPadsTheAddress() {
        let flags = Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK
        var builder = NetlinkMessageBuilder(type: Netlink.RTM_SETLINK, flags: flags, sequence: 0x0102_0304)
        builder.appendInterfaceInfo(index: 7, flags: Netlink.IFF_UP, change: Netlink.IFF_UP)
        builder.appendAttribute(Netlink.IFLA_MTU, uint32: 9000)
        builder.appendAttribute(Netlink.IFLA_ADDRESS, bytes: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
        XCTAssertEqual(builder.finish(), [
            0x34, 0x00, 0x00, 0x00, 0x13, 0x00, 0x05, 0x00,  // nlmsg_len 52, RTM_SETLINK, REQUEST|ACK
            0x04, 0x03, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00,  // seq, pid 0
            0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,  // ifinfomsg: index 7
            0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,  //   flags IFF_UP, change IFF_UP
            0x08, 0x00, 0x04, 0x00, 0x28, 0x23, 0x00, 0x00,  // IFLA_MTU 9000
            0x0a, 0x00, 0x01, 0x00, 0x52, 0x54, 0x00, 0x12,  // IFLA_ADDRESS, nla_len 10 ...
            0x34, 0x56, 0x00, 0x00,                          //   ... then 2 bytes of padding
        ])
    }

    /// `ip link add br0 type bridge`, with NLA_F_NESTED on IFLA_LINKINFO.
    func testNestedLinkInfoKindIsPaddedAndFlagged() {
        let flags = Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK | Netlink.NLM_F_EXCL | Netlink.NLM_F_CREATE
        var builder = NetlinkMessageBuilder(type: Netlink.RTM_NEWLINK, flags: flags, sequence: 2)
        builder.appendInterfaceInfo(index: 0)
        builder.appendAttribute(Netlink.IFLA_IFNAME, string: "br0")
        let linkInfo = builder.beginNested(Netlink.IFLA_LINKINFO)
        builder.appendAttribute(Netlink.IFLA_INFO_KIND, string: "bridge")
        builder.endNested(linkInfo)
        XCTAssertEqual(builder.finish(), [
            0x38, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x06,  // nlmsg_len 56, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE
            0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // seq 2, pid 0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ifinfomsg
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x08, 0x00, 0x03, 0x00, 0x62, 0x72, 0x30, 0x00,  // IFLA_IFNAME "br0\0"
            0x10, 0x00, 0x12, 0x80,                          // IFLA_LINKINFO | NLA_F_NESTED, 16 incl. inner padding
            0x0b, 0x00, 0x01, 0x00, 0x62, 0x72, 0x69, 0x64,  //   IFLA_INFO_KIND, nla_len 11: "brid
            0x67, 0x65, 0x00, 0x00,                          //   ge\0" + 1 byte padding
        ])
    }

    func testFinishFillsMessageLengthAndLeavesBuilderUsable() {
        var builder = NetlinkMessageBuilder(type: Netlink.RTM_DELLINK, flags: Netlink.NLM_F_REQUEST, sequence: 9)
        XCTAssertEqual(builder.finish(), [0x10, 0, 0, 0, 0x11, 0, 0x01, 0, 0x09, 0, 0, 0, 0, 0, 0, 0])
        builder.appendInterfaceInfo(index: 3)
        let message = builder.finish()
        XCTAssertEqual(message.count, 32)
        XCTAssertEqual(Array(message.prefix(4)), [0x20, 0, 0, 0])
        XCTAssertEqual(builder.finish(), message)
    }

    // MARK: Parsing

    /// What the kernel answers to RTM_GETLINK for a bridge: attributes netfd ignores, a u8 attribute with padding,
    /// IFLA_LINKINFO without NLA_F_NESTED (nla_nest_start_noflag) holding a kind and nested data, no IFLA_MASTER.
    static let bridgeReply: [UInt8] = [
        0x74, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,  // nlmsg_len 116, RTM_NEWLINK, flags 0
        0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // seq 42, pid 0 (kernel)
        0x00, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00,  // ifinfomsg: AF_UNSPEC, ARPHRD_ETHER, index 5
        0x43, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,  //   UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP, change 0
        0x08, 0x00, 0x03, 0x00, 0x62, 0x72, 0x30, 0x00,  // IFLA_IFNAME "br0\0"
        0x08, 0x00, 0x0d, 0x00, 0xe8, 0x03, 0x00, 0x00,  // IFLA_TXQLEN 1000
        0x05, 0x00, 0x10, 0x00, 0x06, 0x00, 0x00, 0x00,  // IFLA_OPERSTATE IF_OPER_UP + 3 bytes padding
        0x08, 0x00, 0x04, 0x00, 0xdc, 0x05, 0x00, 0x00,  // IFLA_MTU 1500
        0x1c, 0x00, 0x12, 0x00,                          // IFLA_LINKINFO, 28 bytes
        0x0b, 0x00, 0x01, 0x00, 0x62, 0x72, 0x69, 0x64,  //   IFLA_INFO_KIND "bridge\0" + padding
        0x67, 0x65, 0x00, 0x00,
        0x0c, 0x00, 0x02, 0x00,                          //   IFLA_INFO_DATA
        0x08, 0x00, 0x01, 0x00, 0xdc, 0x05, 0x00, 0x00,  //     IFLA_BR_FORWARD_DELAY (type 1, like INFO_KIND)
        0x0a, 0x00, 0x01, 0x00, 0x02, 0x42, 0xac, 0x11,  // IFLA_ADDRESS 02:42:ac:11:00:02 + padding
        0x00, 0x02, 0x00, 0x00,
        0x0a, 0x00, 0x02, 0x00, 0xff, 0xff, 0xff, 0xff,  // IFLA_BROADCAST + padding
        0xff, 0xff, 0x00, 0x00,
    ]

    func testDecodesKernelNewLinkReplyForBridge() throws {
        let messages = try parseNetlinkMessages(Self.bridgeReply)
        XCTAssertEqual(messages.count, 1)
        XCTAssertEqual(messages[0].type, Netlink.RTM_NEWLINK)
        XCTAssertEqual(messages[0].sequence, 42)
        XCTAssertEqual(messages[0].portID, 0)
        XCTAssertEqual(messages[0].payload.count, 100)
        XCTAssertNil(messages[0].errorNumber)
        let link = try LinkMessage(decoding: messages[0])
        XCTAssertEqual(link, LinkMessage(
            index: 5, flags: 0x11043, deviceType: 1, name: "br0", mtu: 1500, master: nil,
            address: [0x02, 0x42, 0xac, 0x11, 0x00, 0x02], kind: "bridge"
        ))
        XCTAssertEqual(link.flags & (Netlink.IFF_UP | Netlink.IFF_RUNNING | Netlink.IFF_LOWER_UP), 0x10041)
    }

    func testAcknowledgementHasErrorNumberZeroAndOriginalHeader() throws {
        let datagram: [UInt8] = [
            0x24, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01,  // nlmsg_len 36, NLMSG_ERROR, NLM_F_CAPPED
            0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // seq 7, pid 0
            0x00, 0x00, 0x00, 0x00,                          // error 0: ACK
            0x34, 0x00, 0x00, 0x00, 0x13, 0x00, 0x05, 0x00,  // original header: 52 bytes, RTM_SETLINK, REQUEST|ACK
            0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //   seq 7; payload capped
        ]
        let messages = try parseNetlinkMessages(datagram)
        XCTAssertEqual(messages.count, 1)
        XCTAssertEqual(messages[0].errorNumber, 0)
        XCTAssertEqual(messages[0].payload[4..<20].hostOrderInteger(at: 4, as: UInt16.self), Netlink.RTM_SETLINK)
        XCTAssertEqual(messages[0].payload[4..<20].hostOrderInteger(at: 8, as: UInt32.self), 7)
    }

    func testErrorReportsPositiveErrnoAndEmbedsOriginalRequest() throws {
        var request = NetlinkMessageBuilder(type: Netlink.RTM_GETLINK, flags: Netlink.NLM_F_REQUEST, sequence: 8)
        request.appendInterfaceInfo(index: 0)
        request.appendAttribute(Netlink.IFLA_IFNAME, string: "nope0")
        let original = request.finish()
        let datagram: [UInt8] = [
            UInt8(20 + original.count), 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,  // NLMSG_ERROR
            0x08, 0x00, 0x00, 0x00, 0x39, 0x30, 0x00, 0x00,                          // seq 8, pid 12345
            0xed, 0xff, 0xff, 0xff,                                                  // error -19 (ENODEV)
        ] + original
        let messages = try parseNetlinkMessages(datagram)
        XCTAssertEqual(messages.count, 1)
        XCTAssertEqual(messages[0].errorNumber, 19)
        XCTAssertEqual(messages[0].portID, 12345)
        let embedded = try parseNetlinkMessages(Array(messages[0].payload.dropFirst(4)))
        XCTAssertEqual(embedded.map(\.type), [Netlink.RTM_GETLINK])
        XCTAssertEqual(embedded[0].sequence, 8)
    }

    func testSplitsMultipartDumpIncludingUnalignedMessageAndDone() throws {
        var first = NetlinkMessageBuilder(type: Netlink.RTM_NEWLINK, flags: Netlink.NLM_F_MULTI, sequence: 3)
        first.appendInterfaceInfo(index: 1)
        first.appendAttribute(Netlink.IFLA_IFNAME, string: "lo")
        var second = NetlinkMessageBuilder(type: Netlink.RTM_NEWLINK, flags: Netlink.NLM_F_MULTI, sequence: 3)
        second.appendInterfaceInfo(index: 2)
        second.appendAttribute(Netlink.IFLA_IFNAME, string: "eth0")
        let unaligned: [UInt8] = [
            0x15, 0x00, 0x00, 0x00, 0x63, 0x00, 0x02, 0x00,  // nlmsg_len 21, unknown type 99, NLM_F_MULTI
            0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x00, 0x00, 0x00,  // 5 payload bytes + 3 bytes padding
        ]
        let done: [UInt8] = [
            0x14, 0x00, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00,  // nlmsg_len 20, NLMSG_DONE, NLM_F_MULTI
            0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00,                          // dump status 0
        ]
        let messages = try parseNetlinkMessages(first.finish() + unaligned + second.finish() + done)
        XCTAssertEqual(messages.map(\.type), [Netlink.RTM_NEWLINK, 99, Netlink.RTM_NEWLINK, Netlink.NLMSG_DONE])
        XCTAssertEqual(messages.map(\.sequence), [3, 3, 3, 3])
        XCTAssertEqual(messages[1].payload, [0xaa, 0xbb, 0xcc, 0xdd, 0xee])
        XCTAssertEqual(try LinkMessage(decoding: messages[0]).name, "lo")
        XCTAssertEqual(try LinkMessage(decoding: messages[2]).name, "eth0")
        XCTAssertNil(messages[3].errorNumber)
        XCTAssertEqual(try parseNetlinkMessages([]), [])
    }

    func testBuilderOutputRoundTripsThroughParser() throws {
        var builder = NetlinkMessageBuilder(type: Netlink.RTM_NEWLINK, flags: Netlink.NLM_F_REQUEST, sequence: 77)
        builder.appendInterfaceInfo(index: 12, flags: Netlink.IFF_UP, change: Netlink.IFF_UP, deviceType: 1)
        builder.appendAttribute(Netlink.IFLA_IFNAME, string: "tap-vm1")
        builder.appendAttribute(Netlink.IFLA_MTU, uint32: 1500)
        builder.appendAttribute(Netlink.IFLA_MASTER, uint32: 4)
        builder.appendAttribute(Netlink.IFLA_ADDRESS, bytes: [0x52, 0x54, 0x00, 0xab, 0xcd, 0xef])
        let linkInfo = builder.beginNested(Netlink.IFLA_LINKINFO)
        builder.appendAttribute(Netlink.IFLA_INFO_KIND, string: "tun")
        let data = builder.beginNested(Netlink.IFLA_INFO_DATA)
        builder.appendAttribute(1, uint32: 0xffff_ffff)
        builder.endNested(data)
        builder.endNested(linkInfo)
        let messages = try parseNetlinkMessages(builder.finish())
        XCTAssertEqual(messages.map(\.sequence), [77])
        XCTAssertEqual(try LinkMessage(decoding: messages[0]), LinkMessage(
            index: 12, flags: Netlink.IFF_UP, deviceType: 1, name: "tap-vm1", mtu: 1500, master: 4,
            address: [0x52, 0x54, 0x00, 0xab, 0xcd, 0xef], kind: "tun"
        ))
        let attributes = try parseNetlinkAttributes(messages[0].payload.dropFirst(Netlink.interfaceInfoSize))
        XCTAssertEqual(attributes.map(\.type), [3, 4, 10, 1, 18])
    }

    func testAttributeTypesHaveFlagsMaskedAndValuesKeepIndices() throws {
        let bytes: [UInt8] = [
            0x08, 0x00, 0x04, 0x40, 0x00, 0x00, 0x05, 0xdc,  // type 4 | NLA_F_NET_BYTEORDER
            0x04, 0x00, 0x12, 0x80,                          // type 18 | NLA_F_NESTED, empty
        ]
        let attributes = try parseNetlinkAttributes(bytes[...])
        XCTAssertEqual(attributes.map(\.type), [4, 18])
        XCTAssertEqual(attributes[0].value, bytes[4..<8])
        XCTAssertEqual(attributes[1].value.startIndex, 12)
        XCTAssertTrue(attributes[1].value.isEmpty)
    }

    func testStringsStopAtFirstNULAndDecodeInvalidUTF8Lossily() throws {
        var builder = NetlinkMessageBuilder(type: Netlink.RTM_NEWLINK, flags: 0, sequence: 0)
        builder.appendInterfaceInfo(index: 1)
        builder.appendAttribute(Netlink.IFLA_IFNAME, bytes: [0x61, 0xff, 0x62, 0x00, 0x7a, 0x00])
        builder.appendAttribute(Netlink.IFLA_ADDRESS, bytes: [])
        let link = try LinkMessage(decoding: parseNetlinkMessages(builder.finish())[0])
        XCTAssertEqual(link.name, "a\u{FFFD}b")
        XCTAssertEqual(link.address, [])
        XCTAssertNil(link.kind)
    }

    // MARK: Link requests beyond the tap path (LinkRequests.swift)

    /// `ip link add link IF2 name macvtap%d address 52:54:00:12:34:56 type macvtap mode vepa`, with ECHO.
    func testNewMacvtapRequestIsByteExact() {
        let message = LinkRequest.newMacvtap(nameTemplate: "macvtap%d", lowerIndex: 2, mode: .vepa,
                                             address: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56], sequence: 5).finish()
        XCTAssertEqual(message, [
            0x60, 0x00, 0x00, 0x00, 0x10, 0x00, 0x0d, 0x06,  // nlmsg_len 96, RTM_NEWLINK, REQUEST|ACK|ECHO|EXCL|CREATE
            0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // seq 5, pid 0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ifinfomsg: AF_UNSPEC, index 0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //   flags 0, change 0
            0x0e, 0x00, 0x03, 0x00, 0x6d, 0x61, 0x63, 0x76,  // IFLA_IFNAME, nla_len 14: "macv
            0x74, 0x61, 0x70, 0x25, 0x64, 0x00, 0x00, 0x00,  //   tap%d\0" + 2 bytes padding
            0x08, 0x00, 0x05, 0x00, 0x02, 0x00, 0x00, 0x00,  // IFLA_LINK 2
            0x0a, 0x00, 0x01, 0x00, 0x52, 0x54, 0x00, 0x12,  // IFLA_ADDRESS, nla_len 10 ...
            0x34, 0x56, 0x00, 0x00,                          //   ... + 2 bytes padding
            0x1c, 0x00, 0x12, 0x80,                          // IFLA_LINKINFO | NLA_F_NESTED, 28
            0x0c, 0x00, 0x01, 0x00, 0x6d, 0x61, 0x63, 0x76,  //   IFLA_INFO_KIND "macvtap\0"
            0x74, 0x61, 0x70, 0x00,
            0x0c, 0x00, 0x02, 0x80,                          //   IFLA_INFO_DATA | NLA_F_NESTED, 12
            0x08, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00,  //     IFLA_MACVLAN_MODE MACVLAN_MODE_VEPA
        ])
    }

    func testMacvlanModesAreTheKernelValues() {
        XCTAssertEqual(MacvlanMode.allCases.map(\.rawValue), [1, 2, 4, 8])   // MACVLAN_MODE_* (linux/if_link.h)
        XCTAssertEqual(MacvlanMode.allCases.map(\.name), ["private", "vepa", "bridge", "passthru"])
        for mode in MacvlanMode.allCases {
            let message = LinkRequest.newMacvtap(nameTemplate: "mv0", lowerIndex: 1, mode: mode, address: [2, 0, 0, 0, 0, 1],
                                                 sequence: 1).finish()
            XCTAssertEqual(message.suffix(4), [UInt8(mode.rawValue), 0, 0, 0])
        }
    }

    func testDumpLinksRequestIsByteExact() {
        XCTAssertEqual(LinkRequest.dumpLinks(sequence: 0x0a0b).finish(), [
            0x28, 0x00, 0x00, 0x00, 0x12, 0x00, 0x01, 0x03,  // nlmsg_len 40, RTM_GETLINK, REQUEST|DUMP (ROOT|MATCH)
            0x0b, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // seq, pid 0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ifinfomsg: every link
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x08, 0x00, 0x1d, 0x00, 0x08, 0x00, 0x00, 0x00,  // IFLA_EXT_MASK RTEXT_FILTER_SKIP_STATS
        ])
    }

    func testGetLinkByIndexRequestIsByteExact() {
        XCTAssertEqual(LinkRequest.getLink(index: 7, sequence: 3).finish(), [
            0x28, 0x00, 0x00, 0x00, 0x12, 0x00, 0x05, 0x00,  // nlmsg_len 40, RTM_GETLINK, REQUEST|ACK
            0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,  // ifinfomsg: index 7
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x08, 0x00, 0x1d, 0x00, 0x08, 0x00, 0x00, 0x00,  // IFLA_EXT_MASK RTEXT_FILTER_SKIP_STATS
        ])
    }

    func testDeleteLinkRequestIsByteExact() {
        XCTAssertEqual(LinkRequest.deleteLink(index: 0x0102, sequence: 9).finish(), [
            0x20, 0x00, 0x00, 0x00, 0x11, 0x00, 0x05, 0x00,  // nlmsg_len 32, RTM_DELLINK, REQUEST|ACK
            0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00,  // ifinfomsg: index 258
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ])
    }

    func testSetAliasRequestIsByteExact() {
        XCTAssertEqual(LinkRequest.setAlias("netfd uid=1000", index: 6, sequence: 4).finish(), [
            0x34, 0x00, 0x00, 0x00, 0x13, 0x00, 0x05, 0x00,  // nlmsg_len 52, RTM_SETLINK, REQUEST|ACK
            0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00,  // ifinfomsg: index 6, flags and change 0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x13, 0x00, 0x14, 0x00, 0x6e, 0x65, 0x74, 0x66,  // IFLA_IFALIAS, nla_len 19: "netf
            0x64, 0x20, 0x75, 0x69, 0x64, 0x3d, 0x31, 0x30,  //   d uid=10
            0x30, 0x30, 0x00, 0x00,                          //   00\0" + 1 byte padding
        ])
        // Empty removes the alias: just the NUL.
        XCTAssertEqual(LinkRequest.setAlias("", index: 6, sequence: 4).finish().suffix(8), [0x05, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00])
    }

    func testSetUpByIndexChangesOnlyIFFUp() {
        XCTAssertEqual(LinkRequest.setUp(index: 11, sequence: 2).finish(), [
            0x20, 0x00, 0x00, 0x00, 0x13, 0x00, 0x05, 0x00,  // nlmsg_len 32, RTM_SETLINK, REQUEST|ACK
            0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00,  // ifinfomsg: index 11
            0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,  //   flags IFF_UP, change IFF_UP only
        ])
    }

    // MARK: Dumps with kind-specific data

    /// A dump as the kernel sends it for `ip link show` in a namespace with a tap owned by uid 1000 (group
    /// unset), a macvtap in vepa mode on link 2 with an alias, and a veth: three RTM_NEWLINK with NLM_F_MULTI,
    /// IFLA_LINKINFO and IFLA_INFO_DATA without NLA_F_NESTED (nla_nest_start_noflag), then NLMSG_DONE.
    static let dump: [UInt8] = [
        // tap0, index 4: tun owner 1000, no group (absent), type IFF_TAP, multi queue
        0x64, 0x00, 0x00, 0x00, 0x10, 0x00, 0x02, 0x00,  // nlmsg_len 100, RTM_NEWLINK, NLM_F_MULTI
        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // seq 7
        0x00, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00,  // ifinfomsg: ARPHRD_ETHER, index 4
        0x02, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //   BROADCAST|MULTICAST
        0x09, 0x00, 0x03, 0x00, 0x74, 0x61, 0x70, 0x30,  // IFLA_IFNAME "tap0\0"
        0x00, 0x00, 0x00, 0x00,
        0x08, 0x00, 0x04, 0x00, 0xdc, 0x05, 0x00, 0x00,  // IFLA_MTU 1500
        0x30, 0x00, 0x12, 0x00,                          // IFLA_LINKINFO, 48
        0x08, 0x00, 0x01, 0x00, 0x74, 0x75, 0x6e, 0x00,  //   IFLA_INFO_KIND "tun"
        0x24, 0x00, 0x02, 0x00,                          //   IFLA_INFO_DATA, 36
        0x08, 0x00, 0x01, 0x00, 0xe8, 0x03, 0x00, 0x00,  //     IFLA_TUN_OWNER 1000
        0x05, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00,  //     IFLA_TUN_TYPE IFF_TAP + padding
        0x05, 0x00, 0x07, 0x00, 0x01, 0x00, 0x00, 0x00,  //     IFLA_TUN_MULTI_QUEUE 1 + padding
        0x08, 0x00, 0x08, 0x00, 0x04, 0x00, 0x00, 0x00,  //     IFLA_TUN_NUM_QUEUES 4
        // macvtap3, index 9: lower 2, vepa, alias "netfd uid=1000"
        0x74, 0x00, 0x00, 0x00, 0x10, 0x00, 0x02, 0x00,  // nlmsg_len 116, RTM_NEWLINK, NLM_F_MULTI
        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x09, 0x00, 0x00, 0x00,  // ifinfomsg: index 9
        0x43, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,  //   UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP
        0x0d, 0x00, 0x03, 0x00, 0x6d, 0x61, 0x63, 0x76,  // IFLA_IFNAME "macvtap3\0" + padding
        0x74, 0x61, 0x70, 0x33, 0x00, 0x00, 0x00, 0x00,
        0x08, 0x00, 0x05, 0x00, 0x02, 0x00, 0x00, 0x00,  // IFLA_LINK 2
        0x13, 0x00, 0x14, 0x00, 0x6e, 0x65, 0x74, 0x66,  // IFLA_IFALIAS "netfd uid=1000\0" + padding
        0x64, 0x20, 0x75, 0x69, 0x64, 0x3d, 0x31, 0x30,
        0x30, 0x30, 0x00, 0x00,
        0x0a, 0x00, 0x01, 0x00, 0x52, 0x54, 0x00, 0x12,  // IFLA_ADDRESS 52:54:00:12:34:56 + padding
        0x34, 0x56, 0x00, 0x00,
        0x1c, 0x00, 0x12, 0x00,                          // IFLA_LINKINFO, 28
        0x0c, 0x00, 0x02, 0x00,                          //   IFLA_INFO_DATA first (any order is decoded), 12
        0x08, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00,  //     IFLA_MACVLAN_MODE vepa
        0x0c, 0x00, 0x01, 0x00, 0x6d, 0x61, 0x63, 0x76,  //   IFLA_INFO_KIND "macvtap\0"
        0x74, 0x61, 0x70, 0x00,
        // v0, index 2: veth, peer 3 (IFLA_LINK), data 0x0001 that is not a macvlan mode
        0x4c, 0x00, 0x00, 0x00, 0x10, 0x00, 0x02, 0x00,  // nlmsg_len 76, RTM_NEWLINK, NLM_F_MULTI
        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00,  // ifinfomsg: index 2
        0x03, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x07, 0x00, 0x03, 0x00, 0x76, 0x30, 0x00, 0x00,  // IFLA_IFNAME "v0\0" + padding
        0x08, 0x00, 0x05, 0x00, 0x03, 0x00, 0x00, 0x00,  // IFLA_LINK 3
        0x1c, 0x00, 0x12, 0x00,                          // IFLA_LINKINFO, 28
        0x09, 0x00, 0x01, 0x00, 0x76, 0x65, 0x74, 0x68,  //   IFLA_INFO_KIND "veth\0" + padding
        0x00, 0x00, 0x00, 0x00,
        0x0c, 0x00, 0x02, 0x00,                          //   IFLA_INFO_DATA
        0x08, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00,  //     type 1 (VETH_INFO_PEER, not a mode)
        // end of the dump
        0x14, 0x00, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00,  // nlmsg_len 20, NLMSG_DONE, NLM_F_MULTI
        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,                          // status 0
    ]

    func testDecodesDumpWithTunOwnerMacvtapModeAliasAndLowerLink() throws {
        let messages = try parseNetlinkMessages(Self.dump)
        XCTAssertEqual(messages.map(\.type), [Netlink.RTM_NEWLINK, Netlink.RTM_NEWLINK, Netlink.RTM_NEWLINK, Netlink.NLMSG_DONE])
        XCTAssertEqual(messages.map(\.flags), [Netlink.NLM_F_MULTI, Netlink.NLM_F_MULTI, Netlink.NLM_F_MULTI, Netlink.NLM_F_MULTI])
        let links = try messages.dropLast().map { try LinkMessage(decoding: $0) }
        XCTAssertEqual(links[0], LinkMessage(index: 4, flags: 0x1002, deviceType: 1, name: "tap0", mtu: 1500, kind: "tun",
                                             tunOwner: 1000, tunGroup: nil, tunType: 2))
        XCTAssertEqual(links[1], LinkMessage(index: 9, flags: 0x11043, deviceType: 1, name: "macvtap3",
                                             address: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56], kind: "macvtap",
                                             lowerIndex: 2, alias: "netfd uid=1000", macvlanMode: .vepa))
        XCTAssertEqual(links[2], LinkMessage(index: 2, flags: 0x1003, deviceType: 1, name: "v0", kind: "veth", lowerIndex: 3))
        XCTAssertNil(links[2].macvlanMode, "IFLA_INFO_DATA is read by kind: a veth's type 1 is not a mode")
        XCTAssertNil(links[1].tunOwner, "and a macvtap's is not a tun owner")
        XCTAssertFalse(links.contains { $0.isDeletion })
    }

    func testTunOwnerAndGroupMinusOneMeanNone() throws {
        var builder = NetlinkMessageBuilder(type: Netlink.RTM_NEWLINK, flags: 0, sequence: 0)
        builder.appendInterfaceInfo(index: 5)
        let info = builder.beginNested(Netlink.IFLA_LINKINFO)
        builder.appendAttribute(Netlink.IFLA_INFO_KIND, string: "tun")
        let data = builder.beginNested(Netlink.IFLA_INFO_DATA)
        builder.appendAttribute(Netlink.IFLA_TUN_OWNER, uint32: UInt32.max)
        builder.appendAttribute(Netlink.IFLA_TUN_GROUP, uint32: 100)
        builder.endNested(data)
        builder.endNested(info)
        let link = try LinkMessage(decoding: parseNetlinkMessages(builder.finish())[0])
        XCTAssertNil(link.tunOwner)
        XCTAssertEqual(link.tunGroup, 100)
        XCTAssertNil(link.tunType)
    }

    func testUnknownMacvlanModeDecodesAsNil() throws {
        var builder = NetlinkMessageBuilder(type: Netlink.RTM_NEWLINK, flags: 0, sequence: 0)
        builder.appendInterfaceInfo(index: 5)
        let info = builder.beginNested(Netlink.IFLA_LINKINFO)
        builder.appendAttribute(Netlink.IFLA_INFO_KIND, string: "macvlan")
        let data = builder.beginNested(Netlink.IFLA_INFO_DATA)
        builder.appendAttribute(Netlink.IFLA_MACVLAN_MODE, uint32: 16)   // MACVLAN_MODE_SOURCE
        builder.endNested(data)
        builder.endNested(info)
        let link = try LinkMessage(decoding: parseNetlinkMessages(builder.finish())[0])
        XCTAssertEqual(link.kind, "macvlan")
        XCTAssertNil(link.macvlanMode)
    }

    func testKindDataWithWrongSizesThrows() throws {
        func link(kind: String, _ type: UInt16, _ value: [UInt8]) throws -> LinkMessage {
            var builder = NetlinkMessageBuilder(type: Netlink.RTM_NEWLINK, flags: 0, sequence: 0)
            builder.appendInterfaceInfo(index: 5)
            let info = builder.beginNested(Netlink.IFLA_LINKINFO)
            builder.appendAttribute(Netlink.IFLA_INFO_KIND, string: kind)
            let data = builder.beginNested(Netlink.IFLA_INFO_DATA)
            builder.appendAttribute(type, bytes: value)
            builder.endNested(data)
            builder.endNested(info)
            return try LinkMessage(decoding: parseNetlinkMessages(builder.finish())[0])
        }
        // payload: ifinfomsg 16, IFLA_LINKINFO header 4, "tun\0" kind 8 / "macvtap\0" 12, IFLA_INFO_DATA header 4
        assertDecodeFails(.invalidAttributeValue, at: 32) { try link(kind: "tun", Netlink.IFLA_TUN_TYPE, [2, 0, 0, 0]) }
        assertDecodeFails(.invalidAttributeValue, at: 32) { try link(kind: "tun", Netlink.IFLA_TUN_OWNER, [1, 0]) }
        assertDecodeFails(.invalidAttributeValue, at: 36) { try link(kind: "macvtap", Netlink.IFLA_MACVLAN_MODE, [4]) }
        assertDecodeFails(.invalidAttributeValue, at: 32) { try link(kind: "tun", Netlink.IFLA_TUN_TYPE, []) }
    }

    func testDeletionNotificationDecodesWithFamily() throws {
        var builder = NetlinkMessageBuilder(type: Netlink.RTM_DELLINK, flags: 0, sequence: 0)
        builder.appendInterfaceInfo(index: 12, family: 7)   // AF_BRIDGE: a port left its bridge
        builder.appendAttribute(Netlink.IFLA_IFNAME, string: "vA")
        let link = try LinkMessage(decoding: parseNetlinkMessages(builder.finish())[0])
        XCTAssertTrue(link.isDeletion)
        XCTAssertEqual(link.family, 7)
        XCTAssertEqual(link.name, "vA")
        XCTAssertEqual(link.index, 12)
        let other = NetlinkMessage(type: Netlink.RTM_SETLINK, flags: 0, sequence: 0, portID: 0, payload: [UInt8](repeating: 0, count: 16))
        assertDecodeFails(.unexpectedMessageType, at: 0) { try LinkMessage(decoding: other) }
    }

    // MARK: Hostile input

    func testTruncatedMessageHeaderThrows() {
        assertDecodeFails(.truncatedMessageHeader, at: 0) { try parseNetlinkMessages([0x10, 0, 0, 0, 0x10, 0]) }
        let valid: [UInt8] = [0x10, 0, 0, 0, 0x63, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        assertDecodeFails(.truncatedMessageHeader, at: 16) { try parseNetlinkMessages(valid + [0x10, 0, 0, 0]) }
    }

    func testMessageLengthBelowHeaderThrows() {
        assertDecodeFails(.invalidMessageLength, at: 0) { try parseNetlinkMessages([UInt8](repeating: 0, count: 16)) }
        var fifteen = [UInt8](repeating: 0, count: 32)
        fifteen[0] = 15
        assertDecodeFails(.invalidMessageLength, at: 0) { try parseNetlinkMessages(fifteen) }
    }

    func testMessageLengthBeyondBufferThrows() {
        var header = NetlinkMessageBuilder(type: Netlink.RTM_NEWLINK, flags: 0, sequence: 0).finish()
        header[0] = 0x20
        assertDecodeFails(.invalidMessageLength, at: 0) { try parseNetlinkMessages(header) }
        header.storeHostOrder(UInt32.max, at: 0)
        assertDecodeFails(.invalidMessageLength, at: 0) { try parseNetlinkMessages(header) }
    }

    func testMissingPaddingThrows() {
        var message = [UInt8](repeating: 0, count: 17)
        message[0] = 17
        assertDecodeFails(.missingPadding, at: 0) { try parseNetlinkMessages(message) }
        assertDecodeFails(.missingPadding, at: 0) { try parseNetlinkAttributes([5, 0, 3, 0, 0x61]) }
        let afterValid: [UInt8] = [8, 0, 4, 0, 0, 0, 0, 0, 6, 0, 1, 0, 0xaa, 0xbb]
        assertDecodeFails(.missingPadding, at: 8) { try parseNetlinkAttributes(afterValid[...]) }
    }

    func testAttributeLengthBelowHeaderThrows() {
        // nla_len 0 would make a naive parser spin forever on the same attribute.
        assertDecodeFails(.invalidAttributeLength, at: 0) { try parseNetlinkAttributes([0, 0, 3, 0, 0, 0, 0, 0]) }
        assertDecodeFails(.invalidAttributeLength, at: 0) { try parseNetlinkAttributes([3, 0, 3, 0]) }
        assertDecodeFails(.truncatedAttributeHeader, at: 0) { try parseNetlinkAttributes([8, 0]) }
        var link = Self.bridgeReply
        link[32] = 2   // first attribute's nla_len; payload index 16
        assertDecodeFails(.invalidAttributeLength, at: 16) {
            try LinkMessage(decoding: parseNetlinkMessages(link)[0])
        }
    }

    func testAttributeLengthBeyondPayloadThrows() {
        assertDecodeFails(.invalidAttributeLength, at: 0) {
            try parseNetlinkAttributes([0x10, 0, 3, 0, 0x61, 0x62, 0, 0])
        }
        // The nest claims more than its parent holds.
        var nested = Self.bridgeReply
        nested[64] = 0x40   // IFLA_LINKINFO's nla_len; payload index 48
        assertDecodeFails(.invalidAttributeLength, at: 48) {
            try LinkMessage(decoding: parseNetlinkMessages(nested)[0])
        }
        // A nested attribute overruns its nest.
        var inner = Self.bridgeReply
        inner[68] = 0x20    // IFLA_INFO_KIND's nla_len; payload index 52
        assertDecodeFails(.invalidAttributeLength, at: 52) {
            try LinkMessage(decoding: parseNetlinkMessages(inner)[0])
        }
    }

    func testLinkMessageRejectsWrongTypeShortPayloadAndBadU32() throws {
        let ack = NetlinkMessage(type: Netlink.NLMSG_ERROR, flags: 0, sequence: 0, portID: 0, payload: [0, 0, 0, 0])
        assertDecodeFails(.unexpectedMessageType, at: 0) { try LinkMessage(decoding: ack) }
        let short = NetlinkMessage(type: Netlink.RTM_NEWLINK, flags: 0, sequence: 0, portID: 0, payload: [0, 0, 0])
        assertDecodeFails(.truncatedPayload, at: 0) { try LinkMessage(decoding: short) }
        var builder = NetlinkMessageBuilder(type: Netlink.RTM_NEWLINK, flags: 0, sequence: 0)
        builder.appendInterfaceInfo(index: 1)
        builder.appendAttribute(Netlink.IFLA_MTU, bytes: [0xdc, 0x05])
        let badMTU = try parseNetlinkMessages(builder.finish())[0]
        assertDecodeFails(.invalidAttributeValue, at: 16) { try LinkMessage(decoding: badMTU) }
    }

    func testErrorMessageWithoutValidCodeThrows() {
        let header: [UInt8] = [0x14, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        assertDecodeFails(.invalidErrorCode, at: 0) { try parseNetlinkMessages(header + [5, 0, 0, 0]) }
        assertDecodeFails(.invalidErrorCode, at: 0) { try parseNetlinkMessages(header + [0, 0, 0, 0x80]) }
        var short = header + [0, 0, 0, 0]
        short[0] = 18
        assertDecodeFails(.truncatedPayload, at: 0) { try parseNetlinkMessages(short) }
    }

    /// Mutates valid datagrams (byte overwrites, hostile length fields, truncation, extension) from a fixed seed and
    /// decodes everything reachable. Asserts only that decoding terminates without trapping, and that the corpus
    /// exercised both outcomes.
    func testFuzzedDatagramsNeverCrashOrHang() throws {
        var request = NetlinkMessageBuilder(type: Netlink.RTM_NEWLINK, flags: Netlink.NLM_F_MULTI, sequence: 1)
        request.appendInterfaceInfo(index: 3)
        request.appendAttribute(Netlink.IFLA_IFNAME, string: "tap0")
        let nest = request.beginNested(Netlink.IFLA_LINKINFO)
        request.appendAttribute(Netlink.IFLA_INFO_KIND, string: "tun")
        request.endNested(nest)
        let error: [UInt8] = [0x24, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xed, 0xff, 0xff, 0xff]
            + [0x10, 0, 0, 0, 0x12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]
        let seeds = [Self.bridgeReply, request.finish() + Self.bridgeReply, error, []]
        let hostileLengths: [UInt32] = [0, 1, 3, 4, 5, 15, 16, 17, 0xffff, 0xffff_ffff]

        var random = XorShift64(seed: 0x6e65_7466_6400_0001)
        var decoded = 0, rejected = 0
        for _ in 0..<20_000 {
            var buffer = seeds[random.next(below: seeds.count)]
            for _ in 0...random.next(below: 4) {
                switch random.next(below: 5) {
                case 0 where !buffer.isEmpty:
                    buffer[random.next(below: buffer.count)] = UInt8(truncatingIfNeeded: random.next())
                case 1 where buffer.count >= 4:
                    let offset = random.next(below: buffer.count / 4) * 4
                    let length = hostileLengths[random.next(below: hostileLengths.count)]
                    if random.next(below: 2) == 0 {
                        buffer.storeHostOrder(length, at: offset)
                    } else {
                        buffer.storeHostOrder(UInt16(truncatingIfNeeded: length), at: offset)
                    }
                case 2:
                    buffer.removeLast(random.next(below: buffer.count + 1))
                default:
                    buffer += (0..<random.next(below: 24)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                }
            }
            do {
                for message in try parseNetlinkMessages(buffer) {
                    _ = message.errorNumber
                    _ = try? LinkMessage(decoding: message)
                    walkAttributes(message.payload.dropFirst(Netlink.interfaceInfoSize), depth: 0)
                }
                decoded += 1
            } catch {
                XCTAssertFalse(error.description.isEmpty)
                rejected += 1
            }
        }
        XCTAssertEqual(decoded + rejected, 20_000)
        XCTAssertGreaterThan(decoded, 1000)
        XCTAssertGreaterThan(rejected, 1000)
    }

    // MARK: Helpers

    /// Parses `bytes` as attributes and every value as a nest, ignoring failures, to reach nested decoding paths.
    private func walkAttributes(_ bytes: ArraySlice<UInt8>, depth: Int) {
        guard depth < 4, let attributes = try? parseNetlinkAttributes(bytes) else { return }
        for attribute in attributes {
            _ = decodeNetlinkString(attribute.value)
            walkAttributes(attribute.value, depth: depth + 1)
        }
    }

    private func assertDecodeFails<T>(
        _ kind: NetlinkDecodeError.Kind, at offset: Int, _ body: () throws -> T,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            let value = try body()
            XCTFail("decoded \(value); expected \(kind)", file: file, line: line)
        } catch {
            XCTAssertEqual(error as? NetlinkDecodeError, NetlinkDecodeError(kind, at: offset), file: file, line: line)
        }
    }
}

/// Marsaglia's xorshift64: a tiny deterministic generator, so fuzz failures reproduce.
private struct XorShift64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

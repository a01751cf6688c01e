import XCTest
@testable import NetFDPolicy

/// The macvtap and raw kinds, their `link` targets, the options of every kind and
/// `set vhost-device`: what parses, to what, and where each mistake is reported.
final class KindParserTests: XCTestCase {
    func testParsesEveryKindAndOption() throws {
        let policy = try load("""
            allow group kvm macvtap link eth0 mode=bridge,vepa queues=4 vhost=yes mac=52:54:00:*,02:AA:00:00:00:01,any quota=3
            allow any raw link glob:veth* promisc=yes vnet-hdr=no
            deny user bob macvtap link all
            deny any raw
            allow any macvtap
            allow any tap bridge br0 queues=64 vhost=yes quota=100000 vnet-hdr=yes
            allow user alice macvtap link "eth1" mode=passthru,private mac=0E:00:00:00:00:01
            allow any raw link eth0 promisc=no
            set vhost-device /dev/vhost-test
            include extra.policy
            """, others: ["/etc/netfd/extra.policy": "set vhost-device /dev/vhost-test\nallow eth0\n"])
        XCTAssertEqual(policy.vhostDevicePath, "/dev/vhost-test")
        let rules = policy.rules
        XCTAssertEqual(rules.map(\.kind), [.macvtap, .raw, .macvtap, .raw, .macvtap, .tap, .macvtap, .raw, .tap])
        XCTAssertEqual(rules[0].subject, .group(108))
        XCTAssertEqual(rules[0].target, .exact(interface("eth0")))
        XCTAssertEqual(rules[0].options, RuleOptions(vnetHeader: true, maximumQueues: 4, vhost: true, modes: [.bridge, .vepa],
                                                     macPatterns: [.prefix([0x52, 0x54, 0x00]), .exact(MacAddress(bytes: [2, 0xAA, 0, 0, 0, 1])!), .any],
                                                     promiscuous: false, quota: 3))
        XCTAssertEqual(rules[0].options.macPatterns.map(\.description), ["52:54:00:*", "02:aa:00:00:00:01", "any"])
        XCTAssertEqual(rules[1].target, .glob(try Glob("veth*")))
        XCTAssertEqual(rules[1].options, RuleOptions(vnetHeader: false, promiscuous: true))
        XCTAssertEqual(rules[2].effect, .deny)
        XCTAssertEqual(rules[2].target, .any)
        XCTAssertEqual(rules[3].target, .any)
        // Defaults: vnet-hdr yes, 1 queue, no vhost, modes bridge, vepa, private, no MAC, no promisc, no quota.
        XCTAssertEqual(rules[4].options, RuleOptions())
        XCTAssertEqual(rules[4].options.modes, [.bridge, .vepa, .private])
        XCTAssertEqual(rules[4].options.maximumQueues, 1)
        XCTAssertFalse(rules[4].options.vhost)
        XCTAssertEqual(rules[4].options.macPatterns, [])
        XCTAssertNil(rules[4].options.quota)
        XCTAssertEqual(rules[5].options, RuleOptions(maximumQueues: 64, vhost: true, quota: 100_000))
        XCTAssertEqual(rules[6].target, .exact(interface("eth1")))
        XCTAssertEqual(rules[6].options.modes, [.passthru, .private], "modes keep the order written")
        XCTAssertEqual(rules[6].options.macPatterns, [.exact(MacAddress(parsing: "0e:00:00:00:00:01")!)])
        XCTAssertEqual(rules[7].options, RuleOptions())
        // The bridge.conf form stays a tap rule even when the name looks like a link.
        XCTAssertEqual(rules[8].kind, .tap)
        XCTAssertNil(try load("allow any tap").vhostDevicePath)
    }

    /// Each line is loaded as the whole main policy and must fail with exactly this message.
    func testReportsKindAndOptionErrorsAtTheOffendingByte() {
        let P = mainPolicy
        let macSyntax = "expected a MAC address (52:54:00:12:34:56), 1 to 5 octets and \":*\" (52:54:00:*) or \"any\", found"
        let cases: [(String, String)] = [
            // Targets: the word belongs to the kind.
            ("allow any macvtap bridge br0", "\(P):1:19: macvtap rules take \"link\", not \"bridge\""),
            ("deny any raw bridge eth0", "\(P):1:14: raw rules take \"link\", not \"bridge\""),
            ("allow any tap link eth0", "\(P):1:15: tap rules take \"bridge\", not \"link\""),
            ("allow any macvtap eth0", "\(P):1:19: expected \"link\" after kind \"macvtap\", found \"eth0\""),
            ("allow any macvtap link", "\(P):1:23: expected a link name, glob:PATTERN or \"all\" after \"link\", found end of line"),
            ("allow any raw link eth0/1", "\(P):1:24: interface name \"eth0/1\" contains \"/\" at offset 5; only A-Z a-z 0-9 . _ + - are allowed"),
            ("allow any macvtap link glob:eth[", "\(P):1:32: unterminated \"[\" in glob pattern"),
            ("allow any raw link eth*", "\(P):1:20: \"eth*\" contains glob characters; write \"glob:eth*\" to match a pattern"),
            // Options on the wrong kind name the kind's valid options.
            ("allow any raw queues=2", "\(P):1:15: option \"queues\" does not apply to raw rules; valid options for raw rules: vnet-hdr, promisc"),
            ("allow any raw link eth0 vhost=yes", "\(P):1:25: option \"vhost\" does not apply to raw rules; valid options for raw rules: vnet-hdr, promisc"),
            ("allow any raw quota=1", "\(P):1:15: option \"quota\" does not apply to raw rules; valid options for raw rules: vnet-hdr, promisc"),
            ("allow any raw mode=vepa", "\(P):1:15: option \"mode\" does not apply to raw rules; valid options for raw rules: vnet-hdr, promisc"),
            ("allow any tap mode=vepa", "\(P):1:15: option \"mode\" does not apply to tap rules; valid options for tap rules: vnet-hdr, queues, vhost, quota"),
            ("allow any tap promisc=yes", "\(P):1:15: option \"promisc\" does not apply to tap rules; valid options for tap rules: vnet-hdr, queues, vhost, quota"),
            ("allow any macvtap promisc=yes",
             "\(P):1:19: option \"promisc\" does not apply to macvtap rules; valid options for macvtap rules: vnet-hdr, queues, vhost, mode, mac, quota"),
            ("allow any macvtap mtu=9000",
             "\(P):1:19: option \"mtu\" is not supported by this version of netfd (valid options for macvtap rules: vnet-hdr, queues, vhost, mode, mac, quota)"),
            ("allow any macvtap Queues=2",
             "\(P):1:19: unknown option \"Queues\"; valid options for macvtap rules: vnet-hdr, queues, vhost, mode, mac, quota"),
            ("deny any macvtap link eth0 mode=vepa", "\(P):1:28: deny rules take no options; a deny refuses the whole request"),
            ("allow any macvtap queues=2 queues=3", "\(P):1:28: option \"queues\" is given more than once"),
            ("allow any macvtap mac=any mac=any", "\(P):1:27: option \"mac\" is given more than once"),
            // Numbers: plain decimal within range, the column at the value.
            ("allow any tap queues=0", "\(P):1:22: expected a number from 1 to 64 after \"queues=\", found \"0\""),
            ("allow any tap queues=65", "\(P):1:22: expected a number from 1 to 64 after \"queues=\", found \"65\""),
            ("allow any tap queues=04", "\(P):1:22: expected a number from 1 to 64 after \"queues=\", found \"04\""),
            ("allow any tap queues=+4", "\(P):1:22: expected a number from 1 to 64 after \"queues=\", found \"+4\""),
            ("allow any tap queues=", "\(P):1:22: expected a number from 1 to 64 after \"queues=\", found \"\""),
            ("allow any tap queues=99999999999999999999", "\(P):1:22: expected a number from 1 to 64 after \"queues=\", found \"99999999999999999999\""),
            ("allow any tap quota=0", "\(P):1:21: expected a number from 1 to 100000 after \"quota=\", found \"0\""),
            ("allow any macvtap quota=100001", "\(P):1:25: expected a number from 1 to 100000 after \"quota=\", found \"100001\""),
            ("allow any tap \"queues=x\"", "\(P):1:23: expected a number from 1 to 64 after \"queues=\", found \"x\""),
            // yes/no.
            ("allow any tap vhost=1", "\(P):1:21: expected \"yes\" or \"no\" after \"vhost=\", found \"1\""),
            ("allow any raw promisc=on", "\(P):1:23: expected \"yes\" or \"no\" after \"promisc=\", found \"on\""),
            ("allow any raw vnet-hdr=YES", "\(P):1:24: expected \"yes\" or \"no\" after \"vnet-hdr=\", found \"YES\""),
            // Modes: each element located.
            ("allow any macvtap mode=bridge,bogus", "\(P):1:31: expected a mode (bridge, vepa, private or passthru), found \"bogus\""),
            ("allow any macvtap mode=vepa,,bridge", "\(P):1:29: expected a mode (bridge, vepa, private or passthru), found an empty list element"),
            ("allow any macvtap mode=", "\(P):1:24: expected a mode (bridge, vepa, private or passthru), found an empty list element"),
            ("allow any macvtap mode=vepa,", "\(P):1:29: expected a mode (bridge, vepa, private or passthru), found an empty list element"),
            ("allow any macvtap mode=Bridge", "\(P):1:24: expected a mode (bridge, vepa, private or passthru), found \"Bridge\""),
            ("allow any macvtap mode=vepa,vepa", "\(P):1:29: mode \"vepa\" is listed twice"),
            // MAC patterns: syntax at the first byte that cannot continue, multicast at the pattern.
            ("allow any macvtap mac=52:54:0g:*", "\(P):1:30: \(macSyntax) \"52:54:0g:*\""),
            ("allow any macvtap mac=52:54", "\(P):1:28: \(macSyntax) \"52:54\""),
            ("allow any macvtap mac=52:54:00:12:34:56:78", "\(P):1:40: \(macSyntax) \"52:54:00:12:34:56:78\""),
            ("allow any macvtap mac=52:54:00:12:34:56:*", "\(P):1:40: \(macSyntax) \"52:54:00:12:34:56:*\""),
            ("allow any macvtap mac=52:*:00", "\(P):1:27: \(macSyntax) \"52:*:00\""),
            ("allow any macvtap mac=*", "\(P):1:23: \(macSyntax) \"*\""),
            ("allow any macvtap mac=5:54:00:*", "\(P):1:24: \(macSyntax) \"5:54:00:*\""),
            ("allow any macvtap mac=52-54-00-12-34-56", "\(P):1:25: \(macSyntax) \"52-54-00-12-34-56\""),
            ("allow any macvtap mac=52:54:00:*,", "\(P):1:34: \(macSyntax) an empty list element"),
            ("allow any macvtap mac=ANY", "\(P):1:24: \(macSyntax) \"ANY\""),
            ("allow any macvtap mac=01:00:5e:*",
             "\(P):1:23: MAC pattern \"01:00:5e:*\" can only match multicast addresses (the first octet is odd); a guest needs a unicast address"),
            ("allow any macvtap mac=ff:ff:ff:ff:ff:ff",
             "\(P):1:23: MAC pattern \"ff:ff:ff:ff:ff:ff\" can only match multicast addresses (the first octet is odd); a guest needs a unicast address"),
            ("allow any macvtap mac=52:54:00:*,03:00:00:*",
             "\(P):1:34: MAC pattern \"03:00:00:*\" can only match multicast addresses (the first octet is odd); a guest needs a unicast address"),
            ("allow any macvtap mac=any,52:54:00:*,02:00:00:00:00:01,52:54:00:*", "\(P):1:56: MAC pattern \"52:54:00:*\" is listed twice"),
            // set vhost-device.
            ("set vhost-device dev/vhost-net", "\(P):1:18: vhost device \"dev/vhost-net\" is not an absolute path"),
            ("set vhost-device", "\(P):1:17: expected a device path after \"vhost-device\", found end of line"),
            ("set vhost-device /dev/a /dev/b", "\(P):1:25: unexpected \"/dev/b\" after the setting"),
            ("set vhost-device \"/" + String(repeating: "a", count: 4095) + "\"",
             "\(P):1:18: vhost device path is 4096 bytes long; the limit is 4095 bytes"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(loadError(text), expected, "for policy text \(quoted(text))")
        }
    }

    func testVhostDeviceMayBeSetOnlyOnce() {
        XCTAssertEqual(loadError("set vhost-device /dev/a\ninclude other.policy\n", others: ["/etc/netfd/other.policy": "# x\nset vhost-device /dev/b\n"]),
                       "/etc/netfd/other.policy:2:18: vhost-device \"/dev/b\" conflicts with vhost-device \"/dev/a\" set at /etc/netfd/netfd.policy:1:18")
        // Byte for byte: a canonically equivalent spelling is another path.
        XCTAssertEqual(loadError("set vhost-device /dev/caf\u{E9}\nset vhost-device /dev/cafe\u{301}\n"),
                       "\(mainPolicy):2:18: vhost-device \"/dev/cafe\u{301}\" conflicts with vhost-device \"/dev/caf\u{E9}\" set at \(mainPolicy):1:18")
    }

    func testOptionsRoundTripThroughTheirDescriptions() throws {
        // A rule written with its options in any case and order parses to the same options.
        let a = try load("allow any macvtap link eth0 mac=52:54:00:AB:* quota=7 mode=vepa")
        let b = try load("allow any macvtap link eth0 quota=7 mode=vepa mac=52:54:00:ab:*")
        XCTAssertEqual(a.rules[0].options, b.rules[0].options)
        XCTAssertEqual(a.rules[0].options.macPatterns.map(\.description), ["52:54:00:ab:*"])
    }
}

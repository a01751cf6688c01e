import XCTest
@testable import NetFDPolicy

final class ParserTests: XCTestCase {
    func testParsesEveryStatementForm() throws {
        let policy = try load("""
            # netfd policy
            \t
            allow group kvm tap bridge br0   # trailing comment
            allow user alice tap bridge glob:vm*
            allow user 1001 tap
            deny any tap bridge all
            allow any tap vnet-hdr=no
            allow group 109 tap bridge "br1"#comment after a string
            allow user al#ice tap
            set tap-prefix vm
            include "/etc/netfd/with space.policy"
            include relative.policy
            """, others: ["/etc/netfd/with space.policy": "allow br2\n", "/etc/netfd/relative.policy": "deny all\n"])
        XCTAssertEqual(policy.files, [mainPolicy, "/etc/netfd/with space.policy", "/etc/netfd/relative.policy"])
        XCTAssertEqual(policy.tapNamePrefix, "vm")
        XCTAssertEqual(policy.warnings.map(\.description), [
            "/etc/netfd/netfd.policy:9:12: unknown user \"al#ice\"; the rule matches nobody",
        ])
        let rules = policy.rules
        XCTAssertEqual(rules.map(\.text), [
            "allow group kvm tap bridge br0",
            "allow user alice tap bridge glob:vm*",
            "allow user 1001 tap",
            "deny any tap bridge all",
            "allow any tap vnet-hdr=no",
            "allow group 109 tap bridge \"br1\"",
            "allow user al#ice tap",
            "allow br2",
            "deny all",
        ])
        XCTAssertEqual(rules.map(\.location.description), [
            "\(mainPolicy):3:1", "\(mainPolicy):4:1", "\(mainPolicy):5:1", "\(mainPolicy):6:1",
            "\(mainPolicy):7:1", "\(mainPolicy):8:1", "\(mainPolicy):9:1",
            "/etc/netfd/with space.policy:1:1", "/etc/netfd/relative.policy:1:1",
        ])
        XCTAssertEqual(rules[0], Rule(effect: .allow, subject: .group(108), kind: .tap, target: .exact(interface("br0")),
                                      location: SourceLocation(file: mainPolicy, line: 3, column: 1),
                                      text: "allow group kvm tap bridge br0"))
        XCTAssertEqual(rules[1].subject, .user(1000))
        XCTAssertEqual(rules[1].target, .glob(try Glob("vm*")))
        XCTAssertEqual(rules[1].target.description, "glob:vm*")
        XCTAssertEqual(rules[2].subject, .user(1001))
        XCTAssertEqual(rules[2].target, .any)
        XCTAssertEqual(rules[3].effect, .deny)
        XCTAssertEqual(rules[3].subject, .anyone)
        XCTAssertEqual(rules[3].target, .any)
        XCTAssertEqual(rules[4].options, RuleOptions(vnetHeader: false))
        XCTAssertEqual(rules[5].subject, .group(109))
        XCTAssertEqual(rules[5].target, .exact(interface("br1")))
        XCTAssertEqual(rules[6].subject, .unknownUser("al#ice"))
        XCTAssertEqual(rules[7].subject, .anyone)
        XCTAssertEqual(rules[7].target, .exact(interface("br2")))
        XCTAssertEqual(rules[8].target, .any)
    }

    func testAcceptsCRLFAndBlankOnlyFiles() throws {
        XCTAssertEqual(try load("").rules, [])
        XCTAssertEqual(try load("\n\n   \n# only comments\n").rules, [])
        let policy = try load("allow br0\r\ndeny any tap bridge br1 \r\n")
        XCTAssertEqual(policy.rules.map(\.text), ["allow br0", "deny any tap bridge br1"])
    }

    /// Each line is loaded as the whole main policy and must fail with exactly this message.
    func testReportsErrorsAtTheOffendingToken() {
        let P = mainPolicy
        let cases: [(String, String)] = [
            ("allow group kvm tap br0", "\(P):1:21: expected \"bridge\" after kind \"tap\", found \"br0\""),
            ("allow any tap bridge", "\(P):1:21: expected a bridge name, glob:PATTERN or \"all\" after \"bridge\", found end of line"),
            ("allow user alice", "\(P):1:17: expected a kind (tap, macvtap or raw) after the subject, found end of line"),
            ("deny any routed-tap", "\(P):1:10: kind \"routed-tap\" is not supported by this version of netfd (supported: tap, macvtap, raw)"),
            ("allow any vhost link eth0", "\(P):1:11: unknown kind \"vhost\"; vhost-net is an option of tap and macvtap rules: vhost=yes"),
            ("allow any tun", "\(P):1:11: unknown kind \"tun\"; expected tap, macvtap or raw (reserved for later versions: routed-tap)"),
            ("allow any MACVTAP", "\(P):1:11: unknown kind \"MACVTAP\"; expected tap, macvtap or raw (reserved for later versions: routed-tap)"),
            ("allow any tap link eth0", "\(P):1:15: tap rules take \"bridge\", not \"link\""),
            ("allow any tap bridge br0 extra", "\(P):1:26: unexpected \"extra\" after the rule"),
            ("allow any tap vnet-hdr=yes extra", "\(P):1:28: unexpected \"extra\" after the rule"),
            ("deny any tap bridge br0 vnet-hdr=no", "\(P):1:25: deny rules take no options; a deny refuses the whole request"),
            ("allow any tap bridge br0 vnet-hdr=maybe", "\(P):1:35: expected \"yes\" or \"no\" after \"vnet-hdr=\", found \"maybe\""),
            ("allow any tap mtu=1500", "\(P):1:15: option \"mtu\" is not supported by this version of netfd (valid options for tap rules: vnet-hdr, queues, vhost, quota)"),
            ("allow any tap mac=52:54:00:12:34:56", "\(P):1:15: option \"mac\" does not apply to tap rules; valid options for tap rules: vnet-hdr, queues, vhost, quota"),
            ("allow any tap colour=blue", "\(P):1:15: unknown option \"colour\"; valid options for tap rules: vnet-hdr, queues, vhost, quota"),
            ("allow any tap vnet-hdr=no vnet-hdr=yes", "\(P):1:27: option \"vnet-hdr\" is given more than once"),
            ("allow any tap bridge br*", "\(P):1:22: \"br*\" contains glob characters; write \"glob:br*\" to match a pattern"),
            ("allow br?", "\(P):1:7: \"br?\" contains glob characters; bridge.conf lines take exact names; use a full rule with \"bridge glob:br?\""),
            ("allow any tap bridge glob:br[", "\(P):1:29: unterminated \"[\" in glob pattern"),
            ("allow any tap bridge glob:br/", "\(P):1:29: glob pattern contains \"/\", which cannot occur in an interface name"),
            ("allow any tap bridge glob:", "\(P):1:27: empty glob pattern"),
            ("allow any tap bridge br/0", "\(P):1:24: interface name \"br/0\" contains \"/\" at offset 3; only A-Z a-z 0-9 . _ + - are allowed"),
            ("allow any tap bridge \"br 0\"", "\(P):1:25: interface name \"br 0\" contains \" \" at offset 3; only A-Z a-z 0-9 . _ + - are allowed"),
            ("allow any tap bridge averyveryverylongname",
             "\(P):1:22: interface name \"averyveryverylongname\" is 21 bytes long; the limit is 15 bytes (names are never truncated)"),
            ("allow -br0", "\(P):1:7: interface name \"-br0\" must not start with \"-\""),
            ("deny ..", "\(P):1:6: interface name \"..\" is not allowed"),
            ("allow foo tap", "\(P):1:7: expected \"user\", \"group\" or \"any\" after \"allow\", found \"foo\""),
            ("allow", "\(P):1:6: expected a bridge name or a subject (user, group or any) after \"allow\", found end of line"),
            ("permit br0", "\(P):1:1: unknown statement \"permit\"; expected \"allow\", \"deny\", \"include\" or \"set\""),
            ("ALLOW br0", "\(P):1:1: unknown statement \"ALLOW\"; expected \"allow\", \"deny\", \"include\" or \"set\""),
            ("allow user -1 tap", "\(P):1:12: user ID \"-1\" is not an unsigned 32-bit decimal number"),
            ("allow group 4294967296 tap", "\(P):1:13: group ID \"4294967296\" is not an unsigned 32-bit decimal number"),
            ("include", "\(P):1:8: expected a path after \"include\", found end of line"),
            ("include a.policy b.policy", "\(P):1:18: unexpected \"b.policy\" after the include path"),
            ("include \"\"", "\(P):1:9: empty include path"),
            ("set", "\(P):1:4: expected a setting name after \"set\" (settings: tap-prefix, vhost-device), found end of line"),
            ("set tap-prefix", "\(P):1:15: expected a name prefix after \"tap-prefix\", found end of line"),
            ("set tap-prefix vm extra", "\(P):1:19: unexpected \"extra\" after the setting"),
            ("set colour red", "\(P):1:5: unknown setting \"colour\"; known settings: tap-prefix, vhost-device"),
            ("set tap-prefix abcdefghijklm",
             "\(P):1:16: tap prefix \"abcdefghijklm\" is 13 bytes long; it must be 1 to 12 bytes so that the kernel's number fits in 15 bytes"),
            ("set tap-prefix vm%d", "\(P):1:18: tap prefix \"vm%d\" contains a character other than A-Z a-z 0-9 . _ + - at offset 3"),
            ("set tap-prefix -vm", "\(P):1:16: tap prefix \"-vm\" must not start with \"-\""),
            ("allow any tap bridge \"br0", "\(P):1:22: unterminated string; expected a closing \""),
            ("include \"a\\nb\"", "\(P):1:11: unknown escape in string; only \\\" and \\\\ are allowed"),
            ("include \"a\"b", "\(P):1:12: expected a blank after the closing quote"),
            ("allow any\u{1} tap", "\(P):1:10: control character 0x01 in policy text"),
            ("allow any\rtap", "\(P):1:10: control character 0x0D in policy text"),
            ("# fine\r\nallow br0\r\nallow any tap bridge x y\r\n", "\(P):3:24: unexpected \"y\" after the rule"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(loadError(text), expected, "for policy text \(quoted(text))")
        }
    }

    func testRejectsNULAndInvalidUTF8WithTheirPosition() {
        let fs = InMemoryPolicyFileSystem()
        fs.addFile(mainPolicy, bytes: Array("allow any tap".utf8) + [0] + Array("\n".utf8))
        XCTAssertEqual(loadError(fs), "\(mainPolicy):1:14: NUL byte in policy file")
        fs.addFile(mainPolicy, bytes: Array("# comment\nallow ".utf8) + [0xFF] + Array("\n".utf8))
        XCTAssertEqual(loadError(fs), "\(mainPolicy):2:7: invalid UTF-8 (byte 0xFF)")
        fs.addFile(mainPolicy, bytes: Array("# overlong \u{2F}: ".utf8) + [0xC0, 0xAF])
        XCTAssertEqual(loadError(fs), "\(mainPolicy):1:15: invalid UTF-8 (byte 0xC0)")
        fs.addFile(mainPolicy, bytes: Array("# surrogate ".utf8) + [0xED, 0xA0, 0x80])
        XCTAssertEqual(loadError(fs), "\(mainPolicy):1:13: invalid UTF-8 (byte 0xED)")
        fs.addFile(mainPolicy, bytes: Array("# truncated ".utf8) + [0xE2, 0x82])
        XCTAssertEqual(loadError(fs), "\(mainPolicy):1:13: invalid UTF-8 (byte 0xE2)")
        // Valid UTF-8 is fine in comments.
        fs.addFile(mainPolicy, contents: "# Brücke für VMs — 🖧\nallow br0 # ü\n")
        XCTAssertEqual(try load(fs).rules.count, 1)
    }

    func testNumericAndNamedSubjects() throws {
        let policy = try load("""
            allow user root tap
            allow user 0 tap
            allow group netdev tap
            allow group 4294967295 tap
            """)
        XCTAssertEqual(policy.rules.map(\.subject), [.user(0), .user(0), .group(109), .group(4_294_967_295)])
    }
}

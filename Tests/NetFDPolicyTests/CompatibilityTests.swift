import XCTest
@testable import NetFDPolicy

/// qemu-bridge-helper's /etc/qemu/bridge.conf lines keep their meaning verbatim.
final class CompatibilityTests: XCTestCase {
    private let bridgeConf = "/etc/qemu/bridge.conf"

    private func loadBridgeConf(_ files: [String: String]) throws -> Policy {
        var files = files
        files[mainPolicy] = "# migrated from qemu-bridge-helper\ninclude /etc/qemu/bridge.conf\n"
        return try load(fileSystem(files))
    }

    func testAllowAndDenyLinesMeanAnyUserTapOnThatBridge() throws {
        let policy = try loadBridgeConf([bridgeConf: """
            # Access control list for qemu-bridge-helper
            allow br0
            allow virbr0   # libvirt's default network
            deny br1
            include /etc/qemu/user.conf
            """,
            "/etc/qemu/user.conf": "allow br1\nallow br2\n",
        ])
        XCTAssertEqual(policy.files, [mainPolicy, bridgeConf, "/etc/qemu/user.conf"])
        for identity in [root, alice, carol] {
            XCTAssertTrue(policy.decide(tap("br0"), for: identity).isAllowed)
            XCTAssertTrue(policy.decide(tap("virbr0"), for: identity).isAllowed)
            XCTAssertTrue(policy.decide(tap("br2"), for: identity).isAllowed)
            XCTAssertEqual(policy.decide(tap("br1"), for: identity).summary, "denied by [deny br1]")
            XCTAssertEqual(policy.decide(tap("br3"), for: identity), .notAllowed)
        }
        XCTAssertEqual(policy.rules[0], Rule(effect: .allow, subject: .anyone, kind: .tap, target: .exact(interface("br0")),
                                             location: SourceLocation(file: bridgeConf, line: 2, column: 1), text: "allow br0"))
    }

    func testAllAndDenyAll() throws {
        let allowAll = try loadBridgeConf([bridgeConf: "allow all\n"])
        XCTAssertEqual(allowAll.rules.map(\.target), [.any])
        XCTAssertTrue(allowAll.decide(tap("anything"), for: carol).isAllowed)

        // As in qemu-bridge-helper, a deny anywhere wins over every allow.
        let denyAll = try loadBridgeConf([bridgeConf: "allow br0\ndeny all\n"])
        XCTAssertEqual(denyAll.decide(tap("br0"), for: alice).summary, "denied by [deny all]")
    }

    func testTwoTokensAlwaysNameABridge() throws {
        let policy = try loadBridgeConf([bridgeConf: "allow user\ndeny any\nallow tap\n"])
        XCTAssertEqual(policy.rules.map(\.target), [.exact(interface("user")), .exact(interface("any")), .exact(interface("tap"))])
        XCTAssertEqual(policy.rules.map(\.subject), [.anyone, .anyone, .anyone])
        XCTAssertTrue(policy.decide(tap("user"), for: carol).isAllowed)
        XCTAssertEqual(policy.decide(tap("any"), for: carol).summary, "denied by [deny any]")
    }

    func testOverlongBridgeNamesAreRejectedNotTruncated() {
        let message = loadError(fileSystem([mainPolicy: "allow br0-but-much-longer\n"]))
        XCTAssertEqual(message, "\(mainPolicy):1:7: interface name \"br0-but-much-longer\" is 19 bytes long; the limit is 15 bytes (names are never truncated)")
    }

    func testMissingIncludeIsAnErrorUnlikeQemu() {
        let message = loadError(fileSystem([mainPolicy: "include /etc/qemu/bridge.conf\n", bridgeConf: "include /etc/qemu/alice.conf\n"]))
        XCTAssertEqual(message, "\(bridgeConf):1:9: cannot include \"/etc/qemu/alice.conf\": No such file or directory")
    }
}

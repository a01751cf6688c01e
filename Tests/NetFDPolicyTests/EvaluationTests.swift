import XCTest
@testable import NetFDPolicy

final class EvaluationTests: XCTestCase {
    func testDefaultDeny() throws {
        XCTAssertEqual(try load("").decide(tap("br0"), for: root).summary, "not allowed")
        let policy = try load("allow user alice tap bridge br0")
        XCTAssertEqual(policy.decide(tap("br0"), for: bob), .notAllowed)
        XCTAssertEqual(policy.decide(tap("br1"), for: alice), .notAllowed)
        XCTAssertFalse(policy.decide(tap("br1"), for: alice).isAllowed)
    }

    func testAllowedListsEveryMatchingAllowInLoadOrder() throws {
        let policy = try load("""
            allow group kvm tap bridge br0
            allow user alice tap
            allow user bob tap
            allow any tap bridge glob:br*
            """)
        let decision = policy.decide(tap("br0"), for: alice)
        XCTAssertTrue(decision.isAllowed)
        XCTAssertEqual(decision.summary, "allowed vnet-hdr=yes by [allow group kvm tap bridge br0; allow user alice tap; allow any tap bridge glob:br*]")
        XCTAssertEqual(policy.decide(tap("eth0"), for: carol).summary, "not allowed")
    }

    func testDenyOverridesAllowRegardlessOfOrder() throws {
        let rules = ["allow group kvm tap", "deny user alice tap bridge br1", "allow user alice tap bridge br1", "deny any tap bridge glob:br1"]
        var summaries: Set<String> = []
        for permutation in [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2]] {
            let policy = try load(permutation.map { rules[$0] }.joined(separator: "\n"))
            XCTAssertTrue(policy.decide(tap("br0"), for: alice).isAllowed)
            guard case let .denied(denies) = policy.decide(tap("br1"), for: alice) else {
                return XCTFail("br1 must be denied for \(permutation)")
            }
            XCTAssertEqual(Set(denies.map(\.text)), ["deny user alice tap bridge br1", "deny any tap bridge glob:br1"])
            summaries.insert(policy.decide(tap("br1"), for: bob).summary)
        }
        XCTAssertEqual(summaries, ["denied by [deny any tap bridge glob:br1]"])
    }

    func testDenyOverridesAllowRegardlessOfFileSplit() throws {
        let allowFile = "allow group kvm tap bridge br0\n"
        let denyFile = "deny user alice tap bridge br0\n"
        let layouts: [[String: String]] = [
            [mainPolicy: allowFile + denyFile],
            [mainPolicy: denyFile + allowFile],
            [mainPolicy: allowFile + "include netfd.d\n", "/etc/netfd/netfd.d/50-deny.policy": denyFile],
            [mainPolicy: denyFile + "include netfd.d\n", "/etc/netfd/netfd.d/50-allow.policy": allowFile],
            [mainPolicy: "include netfd.d\n", "/etc/netfd/netfd.d/10-deny.policy": denyFile, "/etc/netfd/netfd.d/20-allow.policy": allowFile],
            [mainPolicy: "include netfd.d\n", "/etc/netfd/netfd.d/10-allow.policy": allowFile, "/etc/netfd/netfd.d/20-deny.policy": denyFile],
        ]
        for files in layouts {
            let policy = try load(fileSystem(files))
            XCTAssertEqual(policy.decide(tap("br0"), for: alice).summary, "denied by [deny user alice tap bridge br0]")
            XCTAssertEqual(policy.decide(tap("br0", vnetHeader: false), for: alice).summary, "denied by [deny user alice tap bridge br0]")
        }
    }

    func testGroupsMatchPrimaryAndSupplementaryGroups() throws {
        let policy = try load("allow group netdev tap bridge br0\nallow group alice tap bridge br1")
        XCTAssertTrue(policy.decide(tap("br0"), for: alice).isAllowed)
        XCTAssertTrue(policy.decide(tap("br0"), for: bob).isAllowed)
        XCTAssertFalse(policy.decide(tap("br0"), for: carol).isAllowed)
        XCTAssertTrue(policy.decide(tap("br1"), for: alice).isAllowed)
        XCTAssertTrue(policy.decide(tap("br1"), for: Identity(uid: 5000, gid: 1000, supplementaryGroups: [])).isAllowed)
        XCTAssertFalse(policy.decide(tap("br1"), for: bob).isAllowed)
    }

    func testUsersMatchTheRealUIDOnly() throws {
        let policy = try load("allow user bob tap\nallow user 1002 tap")
        XCTAssertTrue(policy.decide(tap("br0"), for: bob).isAllowed)
        XCTAssertTrue(policy.decide(tap("br0"), for: carol).isAllowed)
        // Being in bob's primary group does not make one bob.
        XCTAssertFalse(policy.decide(tap("br0"), for: Identity(uid: 5000, gid: 1001, supplementaryGroups: [1001])).isAllowed)
    }

    func testUnknownNamesWarnAndMatchNobody() throws {
        let policy = try load("allow user mallory tap\n\nallow group wheel tap bridge br0 # admins\nallow user alice tap bridge br9\n")
        XCTAssertEqual(policy.warnings.map(\.description), [
            "\(mainPolicy):1:12: unknown user \"mallory\"; the rule matches nobody",
            "\(mainPolicy):3:13: unknown group \"wheel\"; the rule matches nobody",
        ])
        XCTAssertEqual(policy.warnings.first?.location, SourceLocation(file: mainPolicy, line: 1, column: 12))
        XCTAssertEqual(policy.rules.map(\.subject), [.unknownUser("mallory"), .unknownGroup("wheel"), .user(1000)])
        for identity in [root, alice, bob, carol] {
            XCTAssertEqual(policy.decide(tap("br0"), for: identity), .notAllowed)
        }
    }

    func testVnetHeaderGrant() throws {
        let withoutHeader = try load("allow any tap bridge br0 vnet-hdr=no")
        XCTAssertEqual(withoutHeader.decide(tap("br0"), for: carol).summary, "allowed vnet-hdr=no by [allow any tap bridge br0 vnet-hdr=no]")
        XCTAssertEqual(withoutHeader.decide(tap("br0", vnetHeader: false), for: carol).summary, "allowed vnet-hdr=no by [allow any tap bridge br0 vnet-hdr=no]")

        let mixed = try load("allow any tap bridge br0 vnet-hdr=no\nallow user alice tap vnet-hdr=yes\nallow user bob tap")
        XCTAssertEqual(mixed.decide(tap("br0"), for: alice),
                       .allowed(Grant(vnetHeader: true), by: [mixed.rules[0], mixed.rules[1]]))
        XCTAssertEqual(mixed.decide(tap("br0"), for: bob).summary, "allowed vnet-hdr=yes by [allow any tap bridge br0 vnet-hdr=no; allow user bob tap]")
        XCTAssertEqual(mixed.decide(tap("br0", vnetHeader: false), for: alice).summary,
                       "allowed vnet-hdr=no by [allow any tap bridge br0 vnet-hdr=no; allow user alice tap vnet-hdr=yes]")
        XCTAssertEqual(mixed.decide(tap("br0"), for: carol).summary, "allowed vnet-hdr=no by [allow any tap bridge br0 vnet-hdr=no]")
    }

    func testExactNamesNeverMatchByPrefix() throws {
        let policy = try load("allow any tap bridge br0\ndeny any tap bridge br")
        XCTAssertTrue(policy.decide(tap("br0"), for: carol).isAllowed)
        XCTAssertEqual(policy.decide(tap("br0x"), for: carol), .notAllowed)
        XCTAssertEqual(policy.decide(tap("br"), for: carol).summary, "denied by [deny any tap bridge br]")
        // qemu-bridge-helper's CVE-2019-13164: a long name that truncates to "br0" cannot even be requested.
        XCTAssertThrowsError(try InterfaceName(validating: "br0" + String(repeating: "x", count: 17)))
    }
}

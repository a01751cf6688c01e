import XCTest
@testable import NetFDPolicy

/// Deciding macvtap, raw and multiqueue/vhost tap requests: each allow rule is judged on its own,
/// deny wins, and the outcome does not depend on rule order or file split.
final class KindEvaluationTests: XCTestCase {
    func testEachRuleIsJudgedOnItsOwnNotAsAUnion() throws {
        let vepaOne = "allow any macvtap link eth0 mode=vepa queues=1"
        let bridgeFour = "allow any macvtap link eth0 mode=bridge queues=4"
        let policy = try load(vepaOne + "\n" + bridgeFour)
        // The union of the two would allow vepa with 4 queues; neither rule does.
        XCTAssertEqual(policy.decide(macvtap("eth0", mode: .vepa, queues: 4), for: carol).summary,
                       "exceeds [\(vepaOne)]: allows at most 1 queue, not 4")
        XCTAssertFalse(policy.decide(macvtap("eth0", mode: .vepa, queues: 4), for: carol).isAllowed)
        XCTAssertEqual(policy.decide(macvtap("eth0", mode: .vepa), for: carol).summary, "allowed vnet-hdr=no by [\(vepaOne)]")
        XCTAssertEqual(policy.decide(macvtap("eth0", mode: .bridge, queues: 4), for: carol).summary, "allowed vnet-hdr=no by [\(bridgeFour)]")
        XCTAssertEqual(policy.decide(macvtap("eth0", queues: 2, vnetHeader: true), for: carol).summary, "allowed vnet-hdr=yes by [\(bridgeFour)]")
        XCTAssertEqual(policy.decide(macvtap("eth0", mode: .private), for: carol).summary,
                       "exceeds [\(vepaOne)]: allows mode vepa, not private")
        XCTAssertEqual(policy.decide(macvtap("eth1", mode: .vepa), for: carol), .notAllowed)
        // In the other order only the rule named changes.
        let reversed = try load(bridgeFour + "\n" + vepaOne)
        XCTAssertEqual(reversed.decide(macvtap("eth0", mode: .vepa, queues: 4), for: carol).summary,
                       "exceeds [\(bridgeFour)]: allows mode bridge, not vepa")

        // vhost on one rule, queues on another: a request needing both is refused.
        let tapPolicy = try load("allow any tap bridge br0 queues=4\nallow user alice tap vhost=yes")
        XCTAssertEqual(tapPolicy.decide(tap("br0", queues: 4, vhost: true), for: alice).summary,
                       "exceeds [allow any tap bridge br0 queues=4]: does not allow vhost (vhost=no)")
        XCTAssertEqual(tapPolicy.decide(tap("br0", queues: 4), for: alice).summary, "allowed vnet-hdr=yes by [allow any tap bridge br0 queues=4]")
        XCTAssertEqual(tapPolicy.decide(tap("br0", vhost: true), for: alice).summary, "allowed vnet-hdr=yes by [allow user alice tap vhost=yes]")
        XCTAssertEqual(tapPolicy.decide(tap("br0", queues: 2, vhost: true), for: bob).summary,
                       "exceeds [allow any tap bridge br0 queues=4]: does not allow vhost (vhost=no)")
        XCTAssertEqual(tapPolicy.decide(tap("br0", queues: 5), for: alice).summary,
                       "exceeds [allow any tap bridge br0 queues=4]: allows at most 4 queues, not 5")
    }

    func testAllowedListsOnlyThePermittingRules() throws {
        let policy = try load("""
            allow any tap queues=2
            allow group kvm tap bridge br0 queues=8 vnet-hdr=no
            allow user alice tap bridge glob:br* queues=8
            """)
        XCTAssertEqual(policy.decide(tap("br0", queues: 4), for: alice).summary,
                       "allowed vnet-hdr=yes by [allow group kvm tap bridge br0 queues=8 vnet-hdr=no; allow user alice tap bridge glob:br* queues=8]")
        XCTAssertEqual(policy.decide(tap("br0", queues: 2), for: alice).summary,
                       "allowed vnet-hdr=yes by [allow any tap queues=2; allow group kvm tap bridge br0 queues=8 vnet-hdr=no; allow user alice tap bridge glob:br* queues=8]")
        // vnet-hdr comes from the permitting rules only.
        let kvmOnly = Identity(uid: 5000, gid: 108, supplementaryGroups: [])
        XCTAssertEqual(policy.decide(tap("br0", queues: 4), for: kvmOnly).summary,
                       "allowed vnet-hdr=no by [allow group kvm tap bridge br0 queues=8 vnet-hdr=no]")
        XCTAssertEqual(policy.decide(tap("br0", queues: 2), for: kvmOnly).summary,
                       "allowed vnet-hdr=yes by [allow any tap queues=2; allow group kvm tap bridge br0 queues=8 vnet-hdr=no]")
        XCTAssertEqual(policy.decide(tap("br0", vnetHeader: false, queues: 2), for: kvmOnly).summary,
                       "allowed vnet-hdr=no by [allow any tap queues=2; allow group kvm tap bridge br0 queues=8 vnet-hdr=no]")
    }

    func testDenyWinsOverEveryAllowOfItsKind() throws {
        let rules = ["allow any macvtap link eth0 mode=bridge,vepa,private,passthru mac=any queues=64 vhost=yes",
                     "deny user alice macvtap link glob:eth*",
                     "allow user alice macvtap",
                     "deny any raw link eth0"]
        for order in [[0, 1, 2, 3], [3, 2, 1, 0], [2, 3, 0, 1]] {
            let policy = try load(order.map { rules[$0] }.joined(separator: "\n"))
            XCTAssertEqual(policy.decide(macvtap("eth0", mode: .passthru, mac: "52:54:00:00:00:01", queues: 64, vhost: true), for: alice).summary,
                           "denied by [deny user alice macvtap link glob:eth*]")
            XCTAssertEqual(policy.decide(macvtap("eth0"), for: alice).summary, "denied by [deny user alice macvtap link glob:eth*]")
            // A deny also beats a request that no allow would permit.
            XCTAssertEqual(policy.decide(macvtap("eth0", queues: 65), for: alice).summary, "denied by [deny user alice macvtap link glob:eth*]")
            XCTAssertTrue(policy.decide(macvtap("eth0", mode: .passthru, queues: 64), for: bob).isAllowed)
            XCTAssertTrue(policy.decide(macvtap("wlan0"), for: alice).isAllowed)
            // Kinds are separate: the raw deny says nothing about macvtap, and no rule allows raw.
            XCTAssertEqual(policy.decide(raw("eth0"), for: bob).summary, "denied by [deny any raw link eth0]")
            XCTAssertEqual(policy.decide(raw("eth1"), for: bob), .notAllowed)
            XCTAssertEqual(policy.decide(tap("eth0"), for: bob), .notAllowed)
        }
    }

    func testKindsAndTargetsDoNotCrossOver() throws {
        let policy = try load("allow eth0\nallow any tap bridge br0\nallow any raw link br0\n")
        // The bridge.conf form is a tap rule; a tap rule's bridge is not a link.
        XCTAssertEqual(policy.decide(macvtap("eth0"), for: alice), .notAllowed)
        XCTAssertEqual(policy.decide(raw("eth0"), for: alice), .notAllowed)
        XCTAssertEqual(policy.decide(macvtap("br0"), for: alice), .notAllowed)
        XCTAssertEqual(policy.decide(raw("br0"), for: alice).summary, "allowed vnet-hdr=no by [allow any raw link br0]")
        XCTAssertTrue(policy.decide(tap("eth0"), for: alice).isAllowed)
    }

    func testMacPatterns() throws {
        let prefix = "allow any macvtap link eth0 mac=52:54:00:*"
        let policy = try load(prefix)
        XCTAssertEqual(policy.decide(macvtap("eth0", mac: "52:54:01:00:00:01"), for: bob).summary,
                       "exceeds [\(prefix)]: does not allow 52:54:01:00:00:01 (mac=52:54:00:*)")
        XCTAssertTrue(policy.decide(macvtap("eth0", mac: "52:54:00:AB:cd:01"), for: bob).isAllowed)
        XCTAssertTrue(policy.decide(macvtap("eth0"), for: bob).isAllowed, "no MAC asked: one is generated")

        let none = try load("allow any macvtap link eth0")
        XCTAssertEqual(none.decide(macvtap("eth0", mac: "52:54:00:00:00:01"), for: bob).summary,
                       "exceeds [allow any macvtap link eth0]: allows no MAC chosen by the request")
        XCTAssertTrue(none.decide(macvtap("eth0"), for: bob).isAllowed)

        let several = "allow any macvtap mac=02:00:00:00:00:0A,0e:*"
        let listed = try load(several)
        XCTAssertTrue(listed.decide(macvtap("eth0", mac: "02:00:00:00:00:0a"), for: bob).isAllowed)
        XCTAssertTrue(listed.decide(macvtap("eth0", mac: "0E:11:22:33:44:55"), for: bob).isAllowed)
        XCTAssertEqual(listed.decide(macvtap("eth0", mac: "02:00:00:00:00:0b"), for: bob).summary,
                       "exceeds [\(several)]: does not allow 02:00:00:00:00:0b (mac=02:00:00:00:00:0a,0e:*)")
        XCTAssertTrue(try load("allow any macvtap mac=any").decide(macvtap("eth0", mac: "a2:00:00:00:00:01"), for: bob).isAllowed)

        XCTAssertTrue(MacPattern.prefix([0x52]).matches(MacAddress(parsing: "52:00:00:00:00:00")!))
        XCTAssertFalse(MacPattern.prefix([0x52, 0x54, 0x00, 0x12, 0x34]).matches(MacAddress(parsing: "52:54:00:12:35:56")!))
        XCTAssertTrue(MacPattern.prefix([0x52, 0x54, 0x00, 0x12, 0x34]).matches(MacAddress(parsing: "52:54:00:12:34:ff")!))
        XCTAssertFalse(MacPattern.exact(MacAddress(parsing: "52:54:00:12:34:56")!).matches(MacAddress(parsing: "52:54:00:12:34:57")!))
    }

    func testModesAndPromiscuity() throws {
        let defaults = try load("allow any macvtap")
        for mode in [MacvtapMode.bridge, .vepa, .private] { XCTAssertTrue(defaults.decide(macvtap("eth0", mode: mode), for: bob).isAllowed, "\(mode)") }
        XCTAssertEqual(defaults.decide(macvtap("eth0", mode: .passthru), for: bob).summary,
                       "exceeds [allow any macvtap]: allows modes bridge, vepa, private, not passthru")
        XCTAssertTrue(try load("allow any macvtap mode=passthru").decide(macvtap("eth0", mode: .passthru), for: bob).isAllowed)

        let plain = try load("allow any raw link eth0")
        XCTAssertEqual(plain.decide(raw("eth0", promiscuous: true), for: bob).summary,
                       "exceeds [allow any raw link eth0]: does not allow promisc (promisc=no)")
        XCTAssertEqual(plain.decide(raw("eth0", protocol: 0x88CC, vnetHeader: true), for: bob).summary, "allowed vnet-hdr=yes by [allow any raw link eth0]")
        let promiscuous = try load("allow any raw link eth0 promisc=yes vnet-hdr=no")
        XCTAssertEqual(promiscuous.decide(raw("eth0", vnetHeader: true, promiscuous: true), for: bob).summary,
                       "allowed vnet-hdr=no by [allow any raw link eth0 promisc=yes vnet-hdr=no]")
    }

    func testQuotaIsTheLargestOfThePermittingRules() throws {
        let policy = try load("""
            allow any tap quota=2
            allow group kvm tap quota=5
            allow user carol tap
            allow any macvtap queues=4 quota=3
            allow any macvtap quota=10
            allow any raw
            """)
        XCTAssertEqual(policy.decide(tap("br0"), for: bob), .allowed(Grant(vnetHeader: true, quota: 2), by: [policy.rules[0]]))
        XCTAssertEqual(policy.decide(tap("br0"), for: alice), .allowed(Grant(vnetHeader: true, quota: 5), by: [policy.rules[0], policy.rules[1]]))
        // A permitting rule without a quota lifts the limit.
        XCTAssertEqual(policy.decide(tap("br0"), for: carol), .allowed(Grant(vnetHeader: true, quota: nil), by: [policy.rules[0], policy.rules[2]]))
        // Only permitting rules count: quota=10 does not allow 4 queues.
        XCTAssertEqual(policy.decide(macvtap("eth0", queues: 4), for: bob), .allowed(Grant(vnetHeader: false, quota: 3), by: [policy.rules[3]]))
        XCTAssertEqual(policy.decide(macvtap("eth0"), for: bob).summary,
                       "allowed vnet-hdr=no quota=10 by [allow any macvtap queues=4 quota=3; allow any macvtap quota=10]")
        XCTAssertEqual(policy.decide(raw("eth0"), for: bob), .allowed(Grant(vnetHeader: false, quota: nil), by: [policy.rules[5]]))
    }

    /// Deciding every request against every order and file split of a rule set gives the same
    /// outcome, except for which rule an `.exceeds` names.
    func testOutcomeDoesNotDependOnOrderOrFileSplit() throws {
        let rules = [
            "allow any macvtap link eth0 mode=vepa queues=1 quota=4",
            "allow any macvtap link eth0 mode=bridge queues=4 vhost=yes mac=52:54:00:*",
            "allow group kvm macvtap link glob:eth* mode=private,passthru vnet-hdr=no quota=9",
            "deny user bob macvtap link eth1",
            "allow any raw link eth0 promisc=yes vnet-hdr=no",
            "allow user alice raw",
            "allow any tap bridge br0 queues=2",
            "allow group netdev tap vhost=yes quota=1",
        ]
        let requests: [PolicyRequest] = [
            macvtap("eth0"), macvtap("eth0", mode: .vepa, queues: 4), macvtap("eth0", queues: 4, vhost: true),
            macvtap("eth0", mac: "52:54:00:01:02:03"), macvtap("eth0", mode: .passthru, mac: "52:54:00:01:02:03"),
            macvtap("eth1", mode: .private, vnetHeader: true), macvtap("eth2", mode: .passthru, queues: 2),
            raw("eth0", promiscuous: true), raw("eth0", vnetHeader: true), raw("eth1", promiscuous: true), raw("eth1", vnetHeader: true),
            tap("br0", queues: 2), tap("br0", queues: 2, vhost: true), tap("br1", vhost: true), tap("br1", queues: 3),
        ]
        /// The decision without the rule an `.exceeds` names, and with rules as a set.
        func normalized(_ decision: Decision) -> String {
            switch decision {
            case let .allowed(grant, by): return "allowed \(grant) \(Set(by.map(\.text)).sorted())"
            case let .denied(by): return "denied \(Set(by.map(\.text)).sorted())"
            case .notAllowed: return "not allowed"
            case .exceeds: return "exceeds"
            }
        }
        let reference = try load(rules.joined(separator: "\n"))
        var expected: [String] = []
        for identity in [alice, bob, carol] {
            for request in requests { expected.append(normalized(reference.decide(request, for: identity))) }
        }
        XCTAssertEqual(Set(expected).count > 6, true, "the requests should reach many different outcomes: \(Set(expected))")
        var random = CompiledPolicyTests.Generator(state: 7)
        for round in 0..<12 {
            var shuffled = rules
            for index in shuffled.indices.reversed() { shuffled.swapAt(index, random.below(index + 1)) }
            let split = random.below(shuffled.count + 1)
            let policy = try load(fileSystem([
                mainPolicy: shuffled[..<split].joined(separator: "\n") + "\ninclude netfd.d\n",
                "/etc/netfd/netfd.d/50-rest.policy": shuffled[split...].joined(separator: "\n") + "\n",
            ]))
            var actual: [String] = []
            for identity in [alice, bob, carol] {
                for request in requests { actual.append(normalized(policy.decide(request, for: identity))) }
            }
            XCTAssertEqual(actual, expected, "round \(round): \(shuffled), split at \(split)")
        }
    }

    func testExceedsNamesTheFirstMatchingAllowInLoadOrder() throws {
        let policy = try load(fileSystem([
            mainPolicy: "allow group kvm tap bridge br0 queues=2\ninclude netfd.d\n",
            "/etc/netfd/netfd.d/10-a.policy": "allow any tap queues=3 vhost=yes\n",
        ]))
        guard case let .exceeds(rule, reason) = policy.decide(tap("br0", queues: 4), for: alice) else {
            return XCTFail("4 queues must exceed both rules")
        }
        XCTAssertEqual(rule.location, SourceLocation(file: mainPolicy, line: 1, column: 1))
        XCTAssertEqual(reason, "allows at most 2 queues, not 4")
        // For bob only the second rule matches, so it is the one named.
        XCTAssertEqual(policy.decide(tap("br0", queues: 4), for: bob).summary, "exceeds [allow any tap queues=3 vhost=yes]: allows at most 3 queues, not 4")
    }
}

// RefusalTests.swift - every refusal is one stderr line, the documented exit status, no
// descriptor, and a namespace whose link list is exactly what it was before.
import Foundation
import NetFDClient
import XCTest

final class RefusalTests: IntegrationTestCase {
    /// Runs the helper as root with `policy`, asserts the link list is unchanged, and returns the result.
    func refusedRun(bridge: String = "br0", policy: String?,
                    file: StaticString = #filePath, line: UInt = #line) throws -> HelperResult {
        let before = try namespace.linkNames()
        let result = try runHelper(bridge: bridge, policy: policy)
        XCTAssertEqual(try namespace.linkNames(), before, "a refused request changed the namespace's links",
                       file: file, line: line)
        return result
    }

    /// No rule matches root: exit 3, naming the policy file.
    func testNoMatchingRuleIsDenied() throws {
        let policy = try writePolicy("allow user 4242 tap bridge br0\n")
        Integration.assertRefused(try refusedRun(policy: policy), exitStatus: 3,
                                  message: "netfd-helper: refused tap on bridge br0 for user root (uid 0): no rule in \(policy) allows it")
    }

    /// An explicit `deny all` wins over an allow: exit 3, naming the deciding rule.
    func testExplicitDenyWinsOverAllow() throws {
        let policy = try writePolicy("allow any tap bridge br0\ndeny all\n")
        Integration.assertRefused(try refusedRun(policy: policy), exitStatus: 3,
                                  message: "netfd-helper: refused tap on bridge br0 for user root (uid 0): denied by \(policy):2 (deny all)")
    }

    /// An allowed but missing bridge: exit 5.
    func testMissingBridge() throws {
        let policy = try writePolicy("allow any tap bridge br0\nallow any tap bridge br9\n")
        Integration.assertRefused(try refusedRun(bridge: "br9", policy: policy), exitStatus: 5,
                                  message: "netfd-helper: bridge br9 does not exist")
    }

    /// An allowed name that is a veth, not a bridge: exit 5, naming its kind.
    func testLinkThatIsNotABridge() throws {
        let policy = try writePolicy("allow any tap bridge vA\n")
        Integration.assertRefused(try refusedRun(bridge: "vA", policy: policy), exitStatus: 5,
                                  message: "netfd-helper: vA is not a bridge (it is a veth link)")
    }

    /// A disallowed bridge is refused before the helper looks it up, so its existence is not revealed.
    func testDeniedMissingBridgeRevealsNothing() throws {
        let policy = try writePolicy("allow any tap bridge br0\n")
        Integration.assertRefused(try refusedRun(bridge: "br9", policy: policy), exitStatus: 3,
                                  message: "netfd-helper: refused tap on bridge br9 for user root (uid 0): no rule in \(policy) allows it")
    }

    /// Bridge names of IFNAMSIZ (16) bytes or more are a usage error (exit 1); 15 bytes is a valid name.
    func testOverlongBridgeName() throws {
        let fifteen = "abcdefghijklmno"
        let policy = try writePolicy("allow any tap bridge \(fifteen)\n")
        Integration.assertRefused(try refusedRun(bridge: fifteen + "p", policy: policy), exitStatus: 1,
                                  message: "netfd-helper: invalid --br: interface name \"\(fifteen)p\" is 16 bytes long; "
                                      + "the limit is 15 bytes (names are never truncated)")
        // One byte less is accepted as a name and reaches the bridge lookup.
        Integration.assertRefused(try refusedRun(bridge: fifteen, policy: policy), exitStatus: 5,
                                  message: "netfd-helper: bridge \(fifteen) does not exist")
    }

    /// Bridge names with '/' are a usage error: exit 1.
    func testBridgeNameWithSlash() throws {
        let policy = try writePolicy("allow any tap bridge br0\n")
        Integration.assertRefused(try refusedRun(bridge: "br/0", policy: policy), exitStatus: 1,
                                  message: "netfd-helper: invalid --br: interface name \"br/0\" contains \"/\" at offset 3; "
                                      + "only A-Z a-z 0-9 . _ + - are allowed")
    }

    /// A world-writable policy file is refused: exit 2, naming the file.
    func testInsecurePolicyFile() throws {
        let policy = try writePolicy("allow any tap bridge br0\n", mode: 0o666)
        let message = Integration.assertRefused(try refusedRun(policy: policy), exitStatus: 2, prefix: "netfd-helper: ")
        XCTAssertTrue(message.contains(policy), "the message should name \(policy): \(message)")
        XCTAssertTrue(message.contains("writable"), "the message should say why: \(message)")
    }

    /// A policy below a group-writable directory is refused too: exit 2, naming that directory.
    func testPolicyBelowGroupWritableDirectory() throws {
        let policy = try writePolicy("allow any tap bridge br0\n")
        let directory = tree.path("policy")
        XCTAssertEqual(chmod(directory, 0o775), 0)
        let message = Integration.assertRefused(try refusedRun(policy: policy), exitStatus: 2, prefix: "netfd-helper: ")
        XCTAssertTrue(message.contains(directory), "the message should name \(directory): \(message)")
    }

    /// A policy path that is a symlink (even to a good file) is refused: exit 2, naming the link.
    func testSymlinkedPolicyFile() throws {
        let target = try writePolicy("allow any tap bridge br0\n")
        let link = tree.path("policy/link.policy")
        XCTAssertEqual(symlink(target, link), 0)
        let message = Integration.assertRefused(try refusedRun(policy: link), exitStatus: 2, prefix: "netfd-helper: ")
        XCTAssertTrue(message.contains(link), "the message should name \(link): \(message)")
    }

    /// A syntax error: exit 2, with FILE:LINE:COL of the offending token.
    func testPolicySyntaxError() throws {
        let policy = try writePolicy("allow any tap bridge br0\nallow any frobnicate bridge br0\n")
        let message = Integration.assertRefused(try refusedRun(policy: policy), exitStatus: 2, prefix: "netfd-helper: ")
        XCTAssertNotNil(message.range(of: "\(policy):2:[0-9]+: ", options: .regularExpression),
                        "the message should point at \(policy):2:COL: \(message)")
    }

    /// A policy that does not exist: exit 2, naming it.
    func testMissingPolicyFile() throws {
        let policy = tree.path("policy/absent.policy")
        let message = Integration.assertRefused(try refusedRun(policy: policy), exitStatus: 2, prefix: "netfd-helper: ")
        XCTAssertTrue(message.contains(policy), "the message should name \(policy): \(message)")
    }
}

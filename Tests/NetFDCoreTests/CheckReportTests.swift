// CheckReportTests.swift - `netfd-helper check` explains decisions with the deciding rules.
@testable import NetFDCore
import NetFDPolicy
import XCTest

final class CheckReportTests: XCTestCase {
    let policyText = """
        # who may have taps
        allow group kvm tap bridge br0
        deny user mallory tap

        """

    func check(_ arguments: String...) throws -> CheckReport {
        guard case .check(let parsed) = try HelperCommand.parse(["check"] + arguments) else { throw HelperFailure.usage("not check") }
        return try CheckReport.make(parsed, policy: try makePolicy(policyText), users: testUsers, caller: bob)
    }

    func testValidationOnly() throws {
        let report = try check()
        XCTAssertEqual(report.text, "policy /etc/netfd/netfd.policy: valid (1 file, 2 rules)\n")
        XCTAssertEqual(report.exitCode, 0)
    }

    func testAllowNamesTheRule() throws {
        let report = try check("--user", "alice", "tap", "bridge", "br0", "--vnet-hdr")
        XCTAssertEqual(report.text, """
            policy /etc/netfd/netfd.policy: valid (1 file, 2 rules)
            request: tap on bridge br0 with vnet header for uid 1000 (alice), gid 1000 (alice), groups 998 (kvm)
            decision: allow
              allowed by /etc/netfd/netfd.policy:2: allow group kvm tap bridge br0

            """)
        XCTAssertEqual(report.exitCode, 0)
    }

    func testDenyOverridesAndNamesTheRule() throws {
        let report = try check("--user", "mallory", "tap", "br0")
        XCTAssertTrue(report.text.hasSuffix("decision: deny\n  denied by /etc/netfd/netfd.policy:3: deny user mallory tap\n"), report.text)
        XCTAssertEqual(report.exitCode, 3)
    }

    func testDefaultDenyForTheCallerAndExtraGroups() throws {
        XCTAssertTrue(try check("tap", "br0").text.hasSuffix("for uid 1001 (bob), gid 1001 (bob)\ndecision: deny (no rule allows it; netfd denies by default)\n"))
        XCTAssertEqual(try check("--group", "kvm", "tap", "br0").exitCode, 0)
        // A uid without a passwd entry: its primary group comes from --group.
        XCTAssertTrue(try check("--user", "4242", "--group", "4242", "tap", "br0").text.contains("for uid 4242, gid 4242\n"))
        XCTAssertThrowsError(try check("--user", "4242", "tap", "br0")) { error in
            XCTAssertEqual(error as? HelperFailure, .usage("uid 4242 has no entry in /etc/passwd; give its primary group with --group"))
        }
        XCTAssertThrowsError(try check("--user", "nobody-here", "tap", "br0")) { error in
            XCTAssertEqual(error as? HelperFailure, .usage(#"unknown user "nobody-here""#))
        }
    }
}

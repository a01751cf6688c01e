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
            request: kind=tap bridge=br0 vnet-hdr=yes for uid 1000 (alice), gid 1000 (alice), groups 998 (kvm)
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

    // MARK: every kind

    let kindsPolicy = """
        allow group kvm macvtap link eth0 mode=vepa queues=2 quota=3 vnet-hdr=no
        allow user alice raw link eth0
        deny user mallory raw
        allow any tap bridge br0 queues=4 vhost=yes quota=1

        """

    /// The report for `request` as `user` against `kindsPolicy`.
    func explain(_ request: PolicyRequest, as user: String) throws -> CheckReport {
        let arguments = CheckArguments(policyPath: nil, user: user, groups: [], request: request)
        return try CheckReport.make(arguments, policy: try makePolicy(kindsPolicy), users: testUsers, caller: bob)
    }

    func testMacvtapAllowedWithAQuotaAndWithoutTheHeader() throws {
        let request = PolicyRequest.macvtap(MacvtapRequest(link: try InterfaceName(validating: "eth0"), mode: .vepa, queues: 2, vnetHeader: true))
        let report = try explain(request, as: "alice")
        XCTAssertEqual(report.text, """
            policy /etc/netfd/netfd.policy: valid (1 file, 4 rules)
            request: kind=macvtap link=eth0 mode=vepa queues=2 vnet-hdr=yes for uid 1000 (alice), gid 1000 (alice), groups 998 (kvm)
            decision: allow (without vnet header: vnet-hdr=no)
              allowed by /etc/netfd/netfd.policy:1: allow group kvm macvtap link eth0 mode=vepa queues=2 quota=3 vnet-hdr=no
              quota: at most 3 interfaces at once (counted from the kernel's links when the request is made)

            """)
        XCTAssertEqual(report.exitCode, 0)
    }

    func testTapQuotaOfOneIsSingular() throws {
        let request = PolicyRequest.tap(TapRequest(bridge: try InterfaceName(validating: "br0"), vnetHeader: false, queues: 4, vhost: true))
        let report = try explain(request, as: "bob")
        XCTAssertTrue(report.text.hasSuffix("""
            request: kind=tap bridge=br0 queues=4 vhost=yes for uid 1001 (bob), gid 1001 (bob)
            decision: allow
              allowed by /etc/netfd/netfd.policy:4: allow any tap bridge br0 queues=4 vhost=yes quota=1
              quota: at most 1 interface at once (counted from the kernel's links when the request is made)

            """), report.text)
        XCTAssertEqual(report.exitCode, 0)
    }

    func testExceedsNamesTheRuleAndWhatItDoesNotAllow() throws {
        let eth0 = try InterfaceName(validating: "eth0")
        let queues = try explain(.macvtap(MacvtapRequest(link: eth0, mode: .vepa, queues: 4)), as: "mallory")
        XCTAssertTrue(queues.text.hasSuffix("""
            request: kind=macvtap link=eth0 mode=vepa queues=4 for uid 1002 (mallory), gid 1002 (mallory), groups 998 (kvm)
            decision: deny (/etc/netfd/netfd.policy:1 allows macvtap on link eth0 but allows at most 2 queues, not 4)
              exceeds /etc/netfd/netfd.policy:1: allow group kvm macvtap link eth0 mode=vepa queues=2 quota=3 vnet-hdr=no

            """), queues.text)
        XCTAssertEqual(queues.exitCode, 3)

        let promiscuous = try explain(.raw(RawRequest(link: eth0, promiscuous: true)), as: "alice")
        XCTAssertTrue(promiscuous.text.hasSuffix("""
            request: kind=raw link=eth0 promisc=yes for uid 1000 (alice), gid 1000 (alice), groups 998 (kvm)
            decision: deny (/etc/netfd/netfd.policy:2 allows raw on link eth0 but does not allow promisc (promisc=no))
              exceeds /etc/netfd/netfd.policy:2: allow user alice raw link eth0

            """), promiscuous.text)
        XCTAssertEqual(promiscuous.exitCode, 3)

        let vhost = try explain(.tap(TapRequest(bridge: try InterfaceName(validating: "br0"), vnetHeader: true, queues: 8, vhost: true)), as: "bob")
        XCTAssertTrue(vhost.text.hasSuffix("decision: deny (/etc/netfd/netfd.policy:4 allows tap on bridge br0 but allows at most 4 queues, not 8)\n"
                                           + "  exceeds /etc/netfd/netfd.policy:4: allow any tap bridge br0 queues=4 vhost=yes quota=1\n"), vhost.text)
    }

    func testRawAllowedDeniedAndNotAllowed() throws {
        let eth0 = try InterfaceName(validating: "eth0")
        let allowed = try explain(.raw(RawRequest(link: eth0, ethernetProtocol: 0x88CC, vnetHeader: true)), as: "alice")
        XCTAssertTrue(allowed.text.hasSuffix("""
            request: kind=raw link=eth0 vnet-hdr=yes protocol=0x88cc for uid 1000 (alice), gid 1000 (alice), groups 998 (kvm)
            decision: allow
              allowed by /etc/netfd/netfd.policy:2: allow user alice raw link eth0

            """), allowed.text)
        XCTAssertEqual(allowed.exitCode, 0)
        let denied = try explain(.raw(RawRequest(link: eth0)), as: "mallory")
        XCTAssertTrue(denied.text.hasSuffix("decision: deny\n  denied by /etc/netfd/netfd.policy:3: deny user mallory raw\n"), denied.text)
        XCTAssertEqual(denied.exitCode, 3)
        let nothing = try explain(.raw(RawRequest(link: eth0)), as: "bob")
        XCTAssertTrue(nothing.text.hasSuffix("decision: deny (no rule allows it; netfd denies by default)\n"), nothing.text)
        XCTAssertEqual(nothing.exitCode, 3)
    }
}

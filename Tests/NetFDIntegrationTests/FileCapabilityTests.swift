// FileCapabilityTests.swift - the installed form: a copy of the helper with file capabilities,
// run by unprivileged uids against /etc/netfd/netfd.policy. The policy is provided in a private
// mount namespace (an overlay on /etc), so the machine's /etc is never touched.
import Foundation
import Glibc
import NetFDClient
import NetFDSystem
import XCTest

final class FileCapabilityTests: IntegrationTestCase {
    /// The installed policy path the helper always uses for non-root callers.
    let installedPolicy = "/etc/netfd/netfd.policy"
    /// The directory overlaid onto /etc for the helper runs of this test.
    var etcExtra: String!

    /// Skips without root or setcap, then builds the fixture and the policy to overlay onto /etc.
    override func setUpWithError() throws {
        // Decide about skipping before the base class creates anything.
        try Integration.requireRoot()
        try Integration.requireFileCapabilityTools(for: "the helper copy")
        try super.setUpWithError()
        try tree.write("etc-extra/netfd/netfd.policy", "allow user 4242 tap bridge br0\ndeny user 4243 tap\nallow group 4300 tap bridge br0\n")
        etcExtra = tree.path("etc-extra")
    }

    /// Copies the helper into the root-owned tree as `name`, with `capabilities` set by setcap (nil: none).
    func installedCopy(named name: String = "netfd-helper", capabilities: String?) throws -> String {
        let copy = try tree.copy(helper, to: "bin/\(name)")
        if let capabilities { try Command.check(["setcap", capabilities, copy]) }
        return copy
    }

    /// How QEMU run by `uid` (gid = uid, no supplementary groups) would start `copy` inside the namespace,
    /// with the test policy overlaid at /etc/netfd/netfd.policy.
    func invocation(of copy: String, asUser uid: UInt32, groups: [UInt32] = [],
                    extraArguments: [String] = []) -> HelperInvocation {
        var script = "mount -n -t overlay overlay -o lowerdir=\(etcExtra!):/etc /etc"
        if let tunSetup = Self.privateTunDeviceSetup { script += " && " + tunSetup }
        let groupOption = groups.isEmpty ? "--clear-groups" : "--groups=" + groups.map(String.init).joined(separator: ",")
        script += " && exec setpriv --reuid=\(uid) --regid=\(uid) \(groupOption) -- \"$@\""
        var invocation = HelperInvocation(helper: copy, bridge: "br0")
        invocation.launcher = ["ip", "netns", "exec", namespace.name,
                               "unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]
        invocation.extraArguments = extraArguments
        return invocation
    }

    /// When /dev/net/tun is not 0666 (some containers make it 0600), commands that give the private
    /// mount namespace its own 0666 node; CAP_NET_ADMIN does not bypass file permissions. Nil if not needed.
    static let privateTunDeviceSetup: String? = {
        var status = stat()
        guard stat("/dev/net/tun", &status) == 0, status.st_mode & 0o006 != 0o006 else { return nil }
        let major = (status.st_rdev >> 8) & 0xfff, minor = (status.st_rdev & 0xff) | ((status.st_rdev >> 12) & 0xfff00)
        print("note: /dev/net/tun is mode \(String(status.st_mode & 0o777, radix: 8)) here, not 0666 as on Debian; "
              + "unprivileged helper runs get a private 0666 node in their own mount namespace")
        return "mount -n -t tmpfs -o mode=0755,size=16k tmpfs /dev/net && mknod -m 0666 /dev/net/tun c \(major) \(minor)"
    }()

    /// How the helper names a caller in refusals: `user NAME (uid U)`, or `uid U` without a passwd entry.
    func callerName(_ uid: UInt32) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return "user \(String(cString: name)) (uid \(uid))"
    }

    /// Whether an `ip -j` user/group field shows `id` (by number, or by the name the databases give it).
    func showsID(_ value: Any?, _ id: UInt32, name: String?) -> Bool {
        guard let value else { return false }
        return "\(value)" == "\(id)" || (name != nil && "\(value)" == name)
    }

    /// uid 4242 is allowed: the tap is owned by 4242:4242, on br0, and frames cross it.
    func testAllowedUserGetsATapOwnedByThem() throws {
        let copy = try installedCopy(capabilities: "cap_net_admin,cap_setpcap=ep")
        let tap = try requireSuccess(try HelperClient.run(invocation(of: copy, asUser: 4242)))
        let (name, flags) = try TunDevice(tap).nameAndFlags()
        XCTAssertTrue(flags.contains([.tap, .noPacketInfo, .vnetHeader]))
        let link = try namespace.requireLink(name)
        XCTAssertEqual(link["master"] as? String, "br0")
        XCTAssertEqual(link["mtu"] as? Int, NetworkNamespace.bridgeMTU)
        XCTAssertTrue(link.flags.contains("UP"))
        let userName = getpwuid(4242).flatMap { $0.pointee.pw_name }.map { String(cString: $0) }
        let groupName = getgrgid(4242).flatMap { $0.pointee.gr_name }.map { String(cString: $0) }
        XCTAssertTrue(showsID(link.infoData["user"], 4242, name: userName), "TUNSETOWNER: \(link.infoData)")
        XCTAssertTrue(showsID(link.infoData["group"], 4242, name: groupName), "TUNSETGROUP: \(link.infoData)")
        try assertFramesCross(tap: tap, vnetHeader: true)
    }

    /// uid 4245 is allowed only through its supplementary group 4300 (`allow group 4300`), as the kernel reports it.
    func testGroupRuleMatchesSupplementaryGroup() throws {
        let copy = try installedCopy(capabilities: "cap_net_admin,cap_setpcap=ep")
        let tap = try requireSuccess(try HelperClient.run(invocation(of: copy, asUser: 4245, groups: [4300])))
        let link = try namespace.requireLink(try TunDevice(tap).nameAndFlags().name)
        XCTAssertEqual(link["master"] as? String, "br0")
        XCTAssertTrue(showsID(link.infoData["user"], 4245, name: nil), "TUNSETOWNER: \(link.infoData)")
        XCTAssertTrue(showsID(link.infoData["group"], 4245, name: nil), "TUNSETGROUP is the primary gid: \(link.infoData)")

        // The same uid without the group matches no rule.
        let before = try namespace.linkNames()
        let refused = try HelperClient.run(invocation(of: copy, asUser: 4245))
        Integration.assertRefused(refused, exitStatus: 3, message: "netfd-helper: refused tap on bridge br0 for "
            + "\(callerName(4245)): no rule in \(installedPolicy) allows it")
        XCTAssertEqual(try namespace.linkNames(), before)
    }

    /// uid 4243 matches `deny user 4243 tap`: exit 3, naming the rule, and nothing is created.
    func testDeniedUserIsRefused() throws {
        let copy = try installedCopy(capabilities: "cap_net_admin,cap_setpcap=ep")
        let before = try namespace.linkNames()
        let result = try HelperClient.run(invocation(of: copy, asUser: 4243))
        Integration.assertRefused(result, exitStatus: 3, message: "netfd-helper: refused tap on bridge br0 for "
            + "\(callerName(4243)): denied by \(installedPolicy):2 (deny user 4243 tap)")
        XCTAssertEqual(try namespace.linkNames(), before)
    }

    /// uid 4244 matches no rule: exit 3, and nothing is created.
    func testUserWithoutRuleIsRefused() throws {
        let copy = try installedCopy(capabilities: "cap_net_admin,cap_setpcap=ep")
        let before = try namespace.linkNames()
        let result = try HelperClient.run(invocation(of: copy, asUser: 4244))
        Integration.assertRefused(result, exitStatus: 3, message: "netfd-helper: refused tap on bridge br0 for "
            + "\(callerName(4244)): no rule in \(installedPolicy) allows it")
        XCTAssertEqual(try namespace.linkNames(), before)
    }

    /// Only root may choose the policy file, even for an otherwise allowed user: exit 1.
    func testNonRootCannotChooseThePolicy() throws {
        let copy = try installedCopy(capabilities: "cap_net_admin,cap_setpcap=ep")
        let before = try namespace.linkNames()
        let result = try HelperClient.run(invocation(of: copy, asUser: 4242, extraArguments: ["--policy=/x"]))
        Integration.assertRefused(result, exitStatus: 1,
                                  message: "netfd-helper: only root may choose the policy file (--policy)")
        XCTAssertEqual(try namespace.linkNames(), before)
    }

    /// A copy without file capabilities fails closed: exit 4, one line telling how to setcap it, nothing created.
    func testCopyWithoutCapabilitiesFailsClosed() throws {
        let copy = try installedCopy(capabilities: nil)
        let before = try namespace.linkNames()
        let result = try HelperClient.run(invocation(of: copy, asUser: 4242))
        let message = Integration.assertRefused(result, exitStatus: 4, prefix: "netfd-helper: ")
        XCTAssertTrue(message.contains("setcap cap_net_admin,cap_setpcap=ep"), "should say how to install it: \(message)")
        XCTAssertEqual(try namespace.linkNames(), before)
    }

    /// Without cap_setpcap the bounding set cannot be emptied: the helper refuses to run (exit 4), creating nothing.
    func testCopyWithoutSetpcapFailsClosed() throws {
        let copy = try installedCopy(capabilities: "cap_net_admin=ep")
        let before = try namespace.linkNames()
        let result = try HelperClient.run(invocation(of: copy, asUser: 4242))
        let message = Integration.assertRefused(result, exitStatus: 4, prefix: "netfd-helper: ")
        XCTAssertTrue(message.contains("cap_setpcap"), "should name the missing capability: \(message)")
        XCTAssertEqual(try namespace.linkNames(), before)
    }
}

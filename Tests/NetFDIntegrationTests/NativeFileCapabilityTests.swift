// NativeFileCapabilityTests.swift - native requests in the installed form: a copy of the helper
// with file capabilities (cap_net_admin,cap_net_raw,cap_dac_override,cap_setpcap=ep), run by uid
// 4242 (netfd-client itself runs as 4242, so the copy is exec'd by 4242) against
// /etc/netfd/netfd.policy, overlaid in a private mount namespace as FileCapabilityTests does.
import Foundation
import Glibc
import NetFDClient
import NetFDSystem
import XCTest

final class NativeFileCapabilityTests: NativeTestCase {
    /// The unprivileged caller, and another user without capabilities.
    let caller: UInt32 = 4242
    let otherUser: UInt32 = 4243

    /// Skips without root or setcap, then builds the fixture.
    override func setUpWithError() throws {
        try Integration.requireRoot()
        try Integration.requireFileCapabilityTools(for: "the helper copy")
        try super.setUpWithError()
    }

    /// Writes the policy that /etc/netfd/netfd.policy shows to the helper runs of this test.
    func installPolicy(_ text: String) throws {
        try tree.write("etc-extra/netfd/netfd.policy", text)
    }

    /// Copies the helper into the root-owned tree as `name`, with `capabilities` set by setcap.
    func installedCopy(named name: String = "netfd-helper",
                       capabilities: String = NativeFileCapabilitySupport.fullCapabilities + "=ep") throws -> String {
        let copy = try tree.copy(helper, to: "bin/\(name)")
        try Command.check(["setcap", capabilities, copy])
        return copy
    }

    /// The launcher that runs what follows as `uid` in the namespace with the test policy installed.
    func asUser(_ uid: UInt32) -> [String] {
        NativeFileCapabilitySupport.launcher(namespace: namespace, etcExtra: tree.path("etc-extra"), uid: uid)
    }

    // MARK: multiqueue tap

    /// Four queues of one tap owned by 4242:4242; uid 4242 may attach another queue, uid 4243 may not
    /// (TUNSETIFF fails with EPERM: the owner and group shut other users out).
    func testMultiqueueTapOwnedByCallerAndClosedToOtherUsers() throws {
        try installPolicy("allow user 4242 tap bridge br0 queues=4\n")
        let copy = try installedCopy()
        let result = try request(["kind=tap", "bridge=br0", "queues=4"], policy: nil, helper: copy, launcher: asUser(caller))
        let reply = try requireSuccess(result)
        XCTAssertEqual(reply["fds"], "tap,tap,tap,tap")
        XCTAssertEqual(result.descriptors.count, 4)
        let name = try XCTUnwrap(reply["name"])
        for queue in result.descriptors {
            let device = try TunDevice(queue).nameAndFlags()
            XCTAssertEqual(device.name, name)
            XCTAssertTrue(device.flags.contains(.multiQueue))
        }
        let link = try namespace.requireLink(name)
        XCTAssertEqual(link["master"] as? String, "br0")
        XCTAssertTrue(link.flags.contains("UP"))
        XCTAssertEqual(link.infoData["multi_queue"] as? Bool, true)
        XCTAssertTrue(showsID(link.infoData["user"], caller, name: userName(caller)), "TUNSETOWNER: \(link.infoData)")
        XCTAssertTrue(showsID(link.infoData["group"], caller, name: groupName(caller)), "TUNSETGROUP: \(link.infoData)")
        try assertFramesCrossQueues(result.descriptors)

        // `ip tuntap add` cannot ask this (it always sets IFF_TUN_EXCL: EBUSY for everyone), so a
        // plain TUNSETIFF by name, from perl (Debian's essential perl-base), through setpriv.
        let stranger = try attachQueue(to: name, asUser: otherUser)
        XCTAssertNotEqual(stranger.status, 0, "uid \(otherUser) attached a queue to \(name), owned by \(caller): \(stranger.standardOutput)")
        XCTAssertTrue(stranger.standardError.contains("Operation not permitted"), "expected EPERM: \(stranger.standardError)")
        let owner = try attachQueue(to: name, asUser: caller)
        XCTAssertEqual(owner.status, 0, "the owner may attach a queue (so the refusal above is the owner check): \(owner.standardError)")
        XCTAssertEqual(owner.standardOutput, "attached\n")

        result.descriptors.forEach { $0.close() }
        XCTAssertTrue(try namespace.waitUntilGone(name), "\(name) survived its queues")
    }

    /// Runs, as `uid` without capabilities (setpriv) inside the namespace, one TUNSETIFF attaching a
    /// queue to tap `name` (IFF_TAP|IFF_NO_PI|IFF_MULTI_QUEUE), with the private 0666 tun node if needed.
    func attachQueue(to name: String, asUser uid: UInt32) throws -> CommandOutput {
        let perl = """
            open(my $tun, "+<", "/dev/net/tun") or die "open /dev/net/tun: $!\\n";
            my $request = pack("Z16 s x22", $ARGV[0], 0x0002 | 0x1000 | 0x0100);
            ioctl($tun, 0x400454ca, $request) or die "ioctl(TUNSETIFF): $!\\n";
            print "attached\\n";
            """
        var script = ""
        if let tunSetup = FileCapabilityTests.privateTunDeviceSetup { script += tunSetup + " && " }
        script += "exec setpriv --reuid=\(uid) --regid=\(uid) --clear-groups -- perl -e \"$0\" \"$1\""
        return try Command.run(insideNamespace + ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, perl, name])
    }

    /// A frame from a queue reaches vB through br0, and one from vB comes out of some queue.
    func assertFramesCrossQueues(_ queues: [FileDescriptor], file: StaticString = #filePath, line: UInt = #line) throws {
        let packetSocket = try PacketSocket(in: namespace, link: "vB")
        let outbound = EthernetFrame.make(source: [0x52, 0x54, 0x00, 0x12, 0x34, 0x58], payload: EthernetFrame.uniquePayload("mq4242->vB"))
        try TapFrames.write(outbound, to: queues[0], vnetHeader: false)
        XCTAssertTrue(try packetSocket.receive(outbound), "the frame from the tap never reached vB", file: file, line: line)
        let inbound = EthernetFrame.make(source: [0x02, 0x00, 0x5e, 0x10, 0x00, 0x0b], payload: EthernetFrame.uniquePayload("vB->mq4242"))
        try packetSocket.send(inbound)
        XCTAssertTrue(try Self.receive(inbound, fromAnyOf: queues, vnetHeader: false), "the frame from vB came out of no queue",
                      file: file, line: line)
    }

    // MARK: macvtap

    /// A macvtap as uid 4242: labelled `netfd uid=4242`, frames cross through v0, /dev/tapINDEX stays
    /// root's 0600 (the helper opened it with CAP_DAC_OVERRIDE), and it is deleted when the emulator
    /// (run as 4242 too) exits, with no process of the copy left.
    func testMacvtapAsUnprivilegedCaller() throws {
        try installPolicy("allow user 4242 macvtap link v0 mode=vepa\n")
        let copy = try installedCopy()
        let linksBefore = try namespace.linkNames()
        let standIn = try startStandIn(["kind=macvtap", "link=v0", "mode=vepa"], policy: nil, helper: copy, launcher: asUser(caller))
        let held = try requireHeld(standIn)
        XCTAssertEqual(held.reply["fds"], "tap")
        try assertMacvtapLink(held.reply, mode: "vepa", ownerUID: caller)
        let index = try XCTUnwrap(held.reply["ifindex"])
        var node = stat()
        XCTAssertEqual(stat("/dev/tap\(index)", &node), 0)
        XCTAssertEqual(node.st_uid, 0, "/dev/tap\(index) stays root's")
        XCTAssertEqual(node.st_mode & 0o077, 0, "/dev/tap\(index) is open to nobody else: \(String(node.st_mode, radix: 8))")
        XCTAssertEqual(try helperProcesses(copy).count, 1, "one guard")

        let peer = try PacketSocket(in: namespace, link: "v1")
        let address = try Self.macBytes(try XCTUnwrap(held.reply["mac"]))
        let outbound = EthernetFrame.make(source: address, payload: EthernetFrame.uniquePayload("macvtap4242->v1"))
        try TapFrames.write(outbound, to: held.queues[0], vnetHeader: false)
        XCTAssertTrue(try peer.receive(outbound), "the frame from the macvtap never reached v1")
        let inbound = Self.frame(to: address, from: try Self.macBytes(Self.lowerPeerAddress), payload: EthernetFrame.uniquePayload("v1->macvtap4242"))
        try peer.send(inbound)
        XCTAssertTrue(try TapFrames.receive(inbound, from: held.queues[0], vnetHeader: false), "the frame from v1 never came out of the macvtap")

        let name = try XCTUnwrap(held.reply["name"])
        standIn.kill()
        XCTAssertTrue(try namespace.waitUntilGone(name, timeout: 5), "\(name) outlived its emulator by 5 s")
        XCTAssertTrue(try waitForLinks(linksBefore))
        XCTAssertTrue(try waitUntilNoHelperProcesses(copy), "processes left: \((try? helperProcesses(copy)) ?? [])")
    }

    /// `release` as uid 4243 of 4242's macvtap is refused (exit 3, naming the owner); as 4242 it
    /// deletes it, and the guard exits.
    func testReleaseOnlyByTheOwner() throws {
        try installPolicy("allow user 4242 macvtap link v0\n")
        let copy = try installedCopy()
        let standIn = try startStandIn(["kind=macvtap", "link=v0"], policy: nil, helper: copy, launcher: asUser(caller))
        let name = try XCTUnwrap(try requireHeld(standIn).reply["name"])

        let stranger = try Command.run(asUser(otherUser) + [copy, "release", name])
        XCTAssertEqual(stranger.status, 3, stranger.standardError)
        assertOneHelperLine(stranger.standardError, message: "refused release of \(name) for \(callerName(otherUser)): netfd created it for uid \(caller)",
                            prefix: nil)
        XCTAssertNotNil(try namespace.link(name))

        let owner = try Command.run(asUser(caller) + [copy, "release", name])
        XCTAssertEqual(owner.status, 0, owner.standardError)
        XCTAssertEqual(owner.standardError, "")
        XCTAssertNil(try namespace.link(name), "release returned before \(name) was gone")
        XCTAssertTrue(try waitUntilNoHelperProcesses(copy), "processes left: \((try? helperProcesses(copy)) ?? [])")
    }

    /// The quota counts 4242's own interfaces only: a netfd macvtap labelled for root does not count;
    /// with one of 4242's held, a second is refused.
    func testQuotaAsUnprivilegedCaller() throws {
        try installPolicy("allow user 4242 macvtap link v0 quota=1\n")
        let copy = try installedCopy()
        try namespace.ip("link", "add", "link", "v0", "name", "root0", "type", "macvtap", "mode", "bridge")
        try namespace.ip("link", "set", "dev", "root0", "alias", "netfd uid=0")
        let first = try startStandIn(["kind=macvtap", "link=v0"], policy: nil, helper: copy, launcher: asUser(caller))
        try assertMacvtapLink(try requireHeld(first).reply, mode: "bridge", ownerUID: caller)
        let linksHeld = try namespace.linkNames()

        let second = try startStandIn(["kind=macvtap", "link=v0"], policy: nil, helper: copy, launcher: asUser(caller), waitForReport: false)
        let message = try assertRefused(second, exitStatus: 3, prefix: "refused ")
        XCTAssertTrue(message.contains("the quota is 1"), message)
        XCTAssertEqual(try namespace.linkNames(), linksHeld)
    }

    /// vhost descriptors are opened with the caller's own permissions: a 0666 node works; a root
    /// 0600 node is refused (exit 6) although the helper holds CAP_DAC_OVERRIDE for the macvtap
    /// queues, and nothing is left (no macvtap, no guard).
    func testVhostOpenedWithCallersOwnPermissions() throws {
        let open = tree.path("dev/vhost-open")
        let closed = tree.path("dev/vhost-closed")
        _ = try tree.write("dev/.keep", "")
        try Command.check(["mknod", "-m", "0666", open, "c", "1", "3"])
        try Command.check(["mknod", "-m", "0600", closed, "c", "1", "3"])
        let copy = try installedCopy()

        try installPolicy("set vhost-device \(open)\nallow user 4242 macvtap link v0 queues=2 vhost=yes\n")
        let standIn = try startStandIn(["kind=macvtap", "link=v0", "queues=2", "vhost=yes"], policy: nil, helper: copy, launcher: asUser(caller))
        let held = try requireHeld(standIn)
        XCTAssertEqual(held.reply["fds"], "tap,tap,vhost,vhost")
        var node = stat()
        XCTAssertEqual(stat(open, &node), 0)
        for vhost in held.vhosts { XCTAssertEqual(try vhost.status().representedDevice, UInt64(node.st_rdev)) }
        standIn.kill()
        XCTAssertTrue(try waitUntilNoHelperProcesses(copy))

        let linksBefore = try namespace.linkNames()
        try installPolicy("set vhost-device \(closed)\nallow user 4242 macvtap link v0 queues=2 vhost=yes\n")
        let result = try request(["kind=macvtap", "link=v0", "queues=2", "vhost=yes"], policy: nil, helper: copy, launcher: asUser(caller))
        let message = assertRefused(result, exitStatus: 6, prefix: "could not open \(closed) for vhost=yes: ")
        XCTAssertTrue(message.contains("uid 4242"), message)
        XCTAssertTrue(try waitForLinks(linksBefore), "links left: \(Set((try? namespace.linkNames()) ?? []).subtracting(linksBefore))")
        XCTAssertEqual(try macvtaps(), [])
        XCTAssertTrue(try waitUntilNoHelperProcesses(copy), "processes left: \((try? helperProcesses(copy)) ?? [])")
    }

    // MARK: raw

    /// A raw packet socket as uid 4242: it sends and receives on v0.
    func testRawAsUnprivilegedCaller() throws {
        try installPolicy("allow user 4242 raw link v0\n")
        let copy = try installedCopy()
        let result = try request(["kind=raw", "link=v0"], policy: nil, helper: copy, launcher: asUser(caller))
        let reply = try requireSuccess(result)
        XCTAssertEqual(reply["fds"], "packet")
        let packet = try XCTUnwrap(result.descriptors.first)
        let peer = try PacketSocket(in: namespace, link: "v1")
        let inbound = Self.frame(to: try Self.macBytes(Self.lowerAddress), from: try Self.macBytes(Self.lowerPeerAddress),
                                 payload: EthernetFrame.uniquePayload("v1->raw4242"))
        try peer.send(inbound)
        XCTAssertTrue(try TapFrames.receive(inbound, from: packet, vnetHeader: false))
        let outbound = EthernetFrame.make(source: try Self.macBytes(Self.lowerAddress), payload: EthernetFrame.uniquePayload("raw4242->v1"))
        try TapFrames.write(outbound, to: packet, vnetHeader: false)
        XCTAssertTrue(try peer.receive(outbound))
        // On another link: refused.
        let refused = try request(["kind=raw", "link=vB"], policy: nil, helper: copy, launcher: asUser(caller))
        assertRefused(refused, exitStatus: 3, message: "refused kind=raw link=vB for \(callerName(caller)): no rule in /etc/netfd/netfd.policy allows it")
    }

    /// A copy without cap_net_raw: kind=raw fails closed with exit 4, naming the capability and the fix.
    func testRawWithoutNetRawCapability() throws {
        try installPolicy("allow user 4242 raw link v0\n")
        let copy = try installedCopy(capabilities: "cap_net_admin,cap_setpcap=ep")
        let result = try request(["kind=raw", "link=v0"], policy: nil, helper: copy, launcher: asUser(caller))
        let message = assertRefused(result, exitStatus: 4, prefix: "missing CAP_NET_RAW for kind=raw")
        XCTAssertTrue(message.contains("setcap \(NativeFileCapabilitySupport.fullCapabilities)=ep \(copy)"), message)
    }

    /// A copy without cap_dac_override: kind=macvtap fails closed with exit 4 before creating anything.
    func testMacvtapWithoutDacOverrideCapability() throws {
        try installPolicy("allow user 4242 macvtap link v0\n")
        let copy = try installedCopy(capabilities: "cap_net_admin,cap_net_raw,cap_setpcap=ep")
        let linksBefore = try namespace.linkNames()
        let result = try request(["kind=macvtap", "link=v0"], policy: nil, helper: copy, launcher: asUser(caller))
        assertRefused(result, exitStatus: 4, prefix: "missing CAP_DAC_OVERRIDE for kind=macvtap")
        XCTAssertEqual(try namespace.linkNames(), linksBefore)
        XCTAssertEqual(try helperProcesses(copy), [])
    }

    /// Only root may choose the policy file for a native request, too.
    func testNonRootCannotChooseThePolicy() throws {
        try installPolicy("allow user 4242 raw link v0\n")
        let copy = try installedCopy()
        let result = try request(["kind=raw", "link=v0"], policy: "/x", helper: copy, launcher: asUser(caller))
        XCTAssertEqual(result.exitStatus, 1, result.standardError)
        XCTAssertEqual(result.standardError, "netfd-helper: only root may choose the policy file (--policy)\n")
        XCTAssertEqual(result.descriptors.count, 0)
    }

    // MARK: helpers

    func userName(_ uid: UInt32) -> String? { getpwuid(uid).flatMap { $0.pointee.pw_name }.map { String(cString: $0) } }
    func groupName(_ gid: UInt32) -> String? { getgrgid(gid).flatMap { $0.pointee.gr_name }.map { String(cString: $0) } }

    /// Whether an `ip -j` user/group field shows `id` (by number, or by name).
    func showsID(_ value: Any?, _ id: UInt32, name: String?) -> Bool {
        guard let value else { return false }
        return "\(value)" == "\(id)" || (name != nil && "\(value)" == name)
    }
}

// TapHandoffTests.swift - successful requests, as root with --policy: what QEMU receives, what
// the kernel shows, that frames cross the bridge, and that nothing else is touched.
import Foundation
import NetFDClient
import NetFDSystem
import XCTest

final class TapHandoffTests: IntegrationTestCase {
    /// `ip netns exec NS HELPER --use-vnet --fd=N --br=br0 --policy=P`: the tap and its properties.
    func testHandoffAsQEMUDoesIt() throws {
        let policy = try writePolicy("allow any tap bridge br0\n")
        let tap = try requireSuccess(try runHelper(policy: policy))

        let (name, flags) = try TunDevice(tap).nameAndFlags()
        XCTAssertTrue(name.hasPrefix("tap"), "name \(name) should come from tap%d")
        XCTAssertEqual(flags.intersection([.tap, .noPacketInfo, .vnetHeader, .tun]), [.tap, .noPacketInfo, .vnetHeader])
        XCTAssertTrue(try namespace.linkNames().contains(name), "\(name) should exist in the test namespace")

        let link = try namespace.requireLink(name)
        XCTAssertEqual(link.infoKind, "tun")
        XCTAssertEqual(link.infoData["type"] as? String, "tap")
        XCTAssertEqual(link.infoData["vnet_hdr"] as? Bool, true)
        XCTAssertEqual(link.infoData["pi"] as? Bool, false)
        XCTAssertEqual(link.infoData["persist"] as? Bool, false, "the tap must vanish with its last descriptor")
        XCTAssertTrue(["root", "0"].contains("\(link.infoData["user"] ?? "none")"), "owner: \(link.infoData)")
        XCTAssertTrue(["root", "0"].contains("\(link.infoData["group"] ?? "none")"), "group: \(link.infoData)")
        XCTAssertEqual(link["master"] as? String, "br0")
        XCTAssertEqual(link["mtu"] as? Int, NetworkNamespace.bridgeMTU, "MTU must be copied from the bridge")
        let address = try XCTUnwrap(link["address"] as? String)
        XCTAssertTrue(address.hasPrefix("fe:"), "host-side MAC \(address) should start with fe:")
        XCTAssertTrue(link.flags.contains("UP"), "flags: \(link.flags)")
    }

    /// A frame written into the tap reaches vB through br0 and vA, and a frame from vB comes out of the tap.
    func testFrameCrossesTheBridgeBothWays() throws {
        let policy = try writePolicy("allow any tap bridge br0\n")
        let tap = try requireSuccess(try runHelper(policy: policy))
        try assertFramesCross(tap: tap, vnetHeader: true)
    }

    /// The tap is not persistent: closing the only descriptor deletes it.
    func testTapVanishesWhenDescriptorIsClosed() throws {
        let before = try namespace.linkNames()
        let policy = try writePolicy("allow any tap bridge br0\n")
        let tap = try requireSuccess(try runHelper(policy: policy))
        let name = try TunDevice(tap).nameAndFlags().name
        XCTAssertTrue(try namespace.linkNames().contains(name))

        tap.close()
        XCTAssertTrue(try namespace.waitUntilGone(name), "\(name) still exists after its descriptor was closed")
        XCTAssertEqual(try namespace.linkNames(), before)
    }

    /// QEMU runs `helper=` values containing blanks through `/bin/sh -c`: that works too.
    func testShellFormAsQEMURunsIt() throws {
        let policy = try writePolicy("allow any tap bridge br0\n")
        let result = try runHelper(policy: policy) { $0.throughShell = true }
        let tap = try requireSuccess(result)
        let (name, flags) = try TunDevice(tap).nameAndFlags()
        XCTAssertTrue(flags.contains(.vnetHeader))
        XCTAssertEqual(try namespace.requireLink(name)["master"] as? String, "br0")
    }

    /// Without --use-vnet the tap has no virtio_net_hdr, and frames cross without one.
    func testWithoutVnetHeader() throws {
        let policy = try writePolicy("allow any tap bridge br0\n")
        let tap = try requireSuccess(try runHelper(policy: policy) { $0.useVnetHeader = false })
        let (name, flags) = try TunDevice(tap).nameAndFlags()
        XCTAssertEqual(flags.intersection([.tap, .noPacketInfo, .vnetHeader, .tun]), [.tap, .noPacketInfo])
        XCTAssertEqual(try namespace.requireLink(name).infoData["vnet_hdr"] as? Bool, false)
        try assertFramesCross(tap: tap, vnetHeader: false)
    }

    /// `set tap-prefix` in the policy changes the kernel's name template.
    func testPolicyTapPrefixNamesTheTap() throws {
        let policy = try writePolicy("set tap-prefix vmtap\nallow any tap bridge br0\n")
        let tap = try requireSuccess(try runHelper(policy: policy))
        let name = try TunDevice(tap).nameAndFlags().name
        XCTAssertTrue(name.hasPrefix("vmtap"), "name \(name) should come from vmtap%d")
        XCTAssertNotNil(try namespace.link(name))
    }

    /// qemu-bridge-helper's bridge.conf form (`allow br0`) is accepted as a policy.
    func testBridgeConfFormAllows() throws {
        let policy = try writePolicy("allow br0\n")
        let tap = try requireSuccess(try runHelper(policy: policy))
        XCTAssertEqual(try namespace.requireLink(try TunDevice(tap).nameAndFlags().name)["master"] as? String, "br0")
    }

    /// Two requests give two distinct taps on the same bridge, both usable at once.
    func testTwoRequestsGiveTwoTaps() throws {
        let policy = try writePolicy("allow any tap bridge br0\n")
        let first = try requireSuccess(try runHelper(policy: policy))
        let second = try requireSuccess(try runHelper(policy: policy))
        let firstName = try TunDevice(first).nameAndFlags().name
        let secondName = try TunDevice(second).nameAndFlags().name
        XCTAssertNotEqual(firstName, secondName)
        for name in [firstName, secondName] {
            XCTAssertEqual(try namespace.requireLink(name)["master"] as? String, "br0")
        }
    }

    /// After a run and close, br0, vA and vB keep their MTU, flags, addresses and master: only the tap was touched.
    func testOnlyTheCreatedTapIsTouched() throws {
        let others = ["br0", "lo", "vA", "vB"]
        let before = try others.map { try namespace.requireLink($0).stableFields }
        let policy = try writePolicy("allow any tap bridge br0\n")
        let tap = try requireSuccess(try runHelper(policy: policy))
        let name = try TunDevice(tap).nameAndFlags().name
        let during = try others.map { try namespace.requireLink($0).stableFields }
        tap.close()
        XCTAssertTrue(try namespace.waitUntilGone(name))
        let after = try others.map { try namespace.requireLink($0).stableFields }

        for (index, link) in others.enumerated() {
            XCTAssertEqual(during[index], before[index], "\(link) changed while the tap existed")
            XCTAssertEqual(after[index], before[index], "\(link) changed after the tap was closed")
        }
        XCTAssertEqual(try namespace.linkNames(), others)
    }
}

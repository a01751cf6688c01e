// NativeRequestTests.swift - native requests (`netfd-helper request KEY=VALUE...`) as root with
// --policy, in a private namespace with veth v0/v1 as the lower link: macvtaps in bridge and vepa
// mode, their lifetime (the emulator's exit, `release`), MAC policy, raw packet sockets, the
// multiqueue tap, vhost descriptors and quotas. Macvtaps that must outlive the request are held
// by stand-in emulators (netfd-client + sleep); the test looks at their descriptors by pidfd_getfd.
import Foundation
import Glibc
import NetFDClient
import NetFDSystem
import XCTest

final class NativeRequestTests: NativeTestCase {
    // MARK: macvtap

    /// Two macvtaps on v0 in bridge mode: the replies say what was made, the kernel agrees, and a
    /// frame written into A's descriptor (with a virtio-net header: vnet-hdr=yes) to B's MAC comes
    /// out of B's descriptor (without one: vnet-hdr=no) and does not leave through the lower link.
    func testMacvtapBridgeModeFrameBetweenTwoMacvtaps() throws {
        let policy = try writePolicy("allow any macvtap link v0\n")
        let first = try requireHeld(try startStandIn(["kind=macvtap", "link=v0", "mode=bridge", "vnet-hdr=yes"], policy: policy))
        let second = try requireHeld(try startStandIn(["kind=macvtap", "link=v0", "mode=bridge", "vnet-hdr=no"], policy: policy))

        for (held, vnetHeader) in [(first, "yes"), (second, "no")] {
            let reply = held.reply
            XCTAssertEqual(reply["kind"], "macvtap")
            XCTAssertEqual(reply["link"], "v0")
            XCTAssertEqual(reply["mode"], "bridge")
            XCTAssertEqual(reply["queues"], "1")
            XCTAssertEqual(reply["vnet-hdr"], vnetHeader)
            XCTAssertEqual(reply["vhost"], "no")
            XCTAssertEqual(reply["fds"], "tap")
            XCTAssertEqual(held.queues.count, 1)
            XCTAssertTrue(reply["name"]?.hasPrefix("macvtap") ?? false, "name: \(reply.fields)")
            let address = try Self.macBytes(try XCTUnwrap(reply["mac"]))
            XCTAssertEqual(address[0] & 0x03, 0x02, "a generated MAC is locally administered and unicast: \(reply["mac"] ?? "")")
            try assertMacvtapLink(reply, mode: "bridge", ownerUID: 0)
        }
        XCTAssertNotEqual(first.reply["name"], second.reply["name"])
        XCTAssertNotEqual(first.reply["mac"], second.reply["mac"])
        XCTAssertEqual(try macvtaps().count, 2)

        let peer = try PacketSocket(in: namespace, link: "v1")
        let destination = try Self.macBytes(try XCTUnwrap(second.reply["mac"]))
        let source = try Self.macBytes(try XCTUnwrap(first.reply["mac"]))
        let frame = Self.frame(to: destination, from: source, payload: EthernetFrame.uniquePayload("macvtap A->B"))
        try TapFrames.write(frame, to: first.queues[0], vnetHeader: true)
        XCTAssertTrue(try TapFrames.receive(frame, from: second.queues[0], vnetHeader: false),
                      "a frame from macvtap A to B's MAC never came out of B (bridge mode)")
        XCTAssertFalse(try peer.receive(frame, timeout: 1), "in bridge mode a frame between macvtaps must not leave through v0")

        // And back: B to A.
        let back = Self.frame(to: source, from: destination, payload: EthernetFrame.uniquePayload("macvtap B->A"))
        try TapFrames.write(back, to: second.queues[0], vnetHeader: false)
        XCTAssertTrue(try TapFrames.receive(back, from: first.queues[0], vnetHeader: true),
                      "a frame from macvtap B to A's MAC never came out of A (bridge mode)")
    }

    /// vepa mode: a frame from macvtap A, even one addressed to macvtap B on the same lower link,
    /// goes out through v0 and is captured on the peer v1 (and does not reach B: no switch here
    /// sends it back); a frame sent from v1 to A's MAC comes out of A's descriptor.
    func testMacvtapVepaModeFrameGoesOutToThePeer() throws {
        let policy = try writePolicy("allow any macvtap link v0 mode=vepa\n")
        let first = try requireHeld(try startStandIn(["kind=macvtap", "link=v0", "mode=vepa"], policy: policy))
        let second = try requireHeld(try startStandIn(["kind=macvtap", "link=v0", "mode=vepa"], policy: policy))
        XCTAssertEqual(first.reply["mode"], "vepa")
        XCTAssertEqual(first.reply["vnet-hdr"], "no")
        try assertMacvtapLink(first.reply, mode: "vepa", ownerUID: 0)
        try assertMacvtapLink(second.reply, mode: "vepa", ownerUID: 0)

        let peer = try PacketSocket(in: namespace, link: "v1")
        let address = try Self.macBytes(try XCTUnwrap(first.reply["mac"]))
        let neighbour = try Self.macBytes(try XCTUnwrap(second.reply["mac"]))
        let outbound = Self.frame(to: neighbour, from: address, payload: EthernetFrame.uniquePayload("vepa A->B"))
        try TapFrames.write(outbound, to: first.queues[0], vnetHeader: false)
        XCTAssertTrue(try peer.receive(outbound), "the frame written into the vepa macvtap never reached v1")
        XCTAssertFalse(try TapFrames.receive(outbound, from: second.queues[0], vnetHeader: false, timeout: 1),
                       "in vepa mode a frame between macvtaps must go out to the external switch, not straight across")

        let peerAddress = try Self.macBytes(Self.lowerPeerAddress)
        let inbound = Self.frame(to: address, from: peerAddress, payload: EthernetFrame.uniquePayload("v1->vepa"))
        try peer.send(inbound)
        XCTAssertTrue(try TapFrames.receive(inbound, from: first.queues[0], vnetHeader: false),
                      "the frame sent on v1 to the macvtap's MAC never came out of its descriptor")
    }

    /// The emulator exits (SIGKILL of the stand-in): the guard deletes the macvtap within 5 s and
    /// exits itself; the lower link is untouched.
    func testMacvtapDeletedWhenEmulatorExits() throws {
        let policy = try writePolicy("allow any macvtap link v0\n")
        let linksBefore = try namespace.linkNames()
        let lowerBefore = try namespace.requireLink("v0").stableFields
        let standIn = try startStandIn(["kind=macvtap", "link=v0"], policy: policy)
        let held = try requireHeld(standIn)
        let name = try XCTUnwrap(held.reply["name"])
        XCTAssertEqual(try helperProcesses(helper).count, 1, "one guard watches the emulator: \(standIn.diagnostics)")
        usleep(200_000)
        XCTAssertTrue(try namespace.linkNames().contains(name), "\(name) must live while the emulator does")

        XCTAssertEqual(standIn.kill(), 128 + SIGKILL)
        XCTAssertTrue(try namespace.waitUntilGone(name, timeout: 5), "\(name) outlived its emulator by 5 s")
        XCTAssertTrue(try waitForLinks(linksBefore), "links now \((try? namespace.linkNames()) ?? []), before \(linksBefore)")
        XCTAssertTrue(try waitUntilNoHelperProcesses(helper), "guard processes left: \((try? helperProcesses(helper)) ?? [])")
        XCTAssertEqual(try namespace.requireLink("v0").stableFields, lowerBefore, "the lower link must be untouched")
    }

    /// `netfd-helper release NAME` deletes a held macvtap at once (exit 0, nothing printed), and its
    /// guard exits; the emulator still runs.
    func testReleaseDeletesHeldMacvtap() throws {
        let policy = try writePolicy("allow any macvtap link v0\n")
        let linksBefore = try namespace.linkNames()
        let standIn = try startStandIn(["kind=macvtap", "link=v0"], policy: policy)
        let name = try XCTUnwrap(try requireHeld(standIn).reply["name"])

        let released = try Command.run(insideNamespace + [helper, "release", name])
        XCTAssertEqual(released.status, 0, "release: \(released.standardError)")
        XCTAssertEqual(released.standardError, "")
        XCTAssertEqual(released.standardOutput, "")
        XCTAssertFalse(try namespace.linkNames().contains(name), "\(name) must be gone when release returns")
        XCTAssertEqual(try namespace.linkNames(), linksBefore)
        XCTAssertTrue(try waitUntilNoHelperProcesses(helper), "the guard did not exit after release: \((try? helperProcesses(helper)) ?? [])")
        XCTAssertEqual(Glibc.kill(standIn.pid, 0), 0, "the emulator itself is not touched")

        // Releasing it again: it no longer exists.
        let again = try Command.run(insideNamespace + [helper, "release", name])
        XCTAssertEqual(again.status, 5, again.standardError)
        XCTAssertEqual(again.standardError, "netfd-helper: link \(name) does not exist\n")
    }

    /// `release` of a link netfd did not create (the veth peer v1): exit 3, one line, v1 untouched;
    /// the held macvtap and its guard stay.
    func testReleaseRefusesLinkNetfdDidNotCreate() throws {
        let policy = try writePolicy("allow any macvtap link v0\n")
        let standIn = try startStandIn(["kind=macvtap", "link=v0"], policy: policy)
        let name = try XCTUnwrap(try requireHeld(standIn).reply["name"])
        let peerBefore = try namespace.requireLink("v1").stableFields
        let linksBefore = try namespace.linkNames()

        let refused = try Command.run(insideNamespace + [helper, "release", "v1"])
        XCTAssertEqual(refused.status, 3, refused.standardError)
        assertOneHelperLine(refused.standardError, message: nil, prefix: "refused release of v1 for \(callerName(0)): ")
        XCTAssertEqual(try namespace.requireLink("v1").stableFields, peerBefore, "v1 must be untouched")
        XCTAssertEqual(try namespace.linkNames(), linksBefore)

        // A macvtap that is not netfd's (no `netfd uid=` alias) is refused as well.
        try namespace.ip("link", "add", "link", "v0", "name", "foreign0", "type", "macvtap", "mode", "bridge")
        let foreign = try Command.run(insideNamespace + [helper, "release", "foreign0"])
        XCTAssertEqual(foreign.status, 3, foreign.standardError)
        assertOneHelperLine(foreign.standardError, message: nil, prefix: "refused release of foreign0 for \(callerName(0)): ")
        XCTAssertNotNil(try namespace.link("foreign0"), "a foreign macvtap must be untouched")
        XCTAssertNotNil(try namespace.link(name))
        XCTAssertEqual(try helperProcesses(helper).count, 1, "the held macvtap's guard still watches")

        standIn.kill()
        XCTAssertTrue(try namespace.waitUntilGone(name))
        XCTAssertTrue(try waitUntilNoHelperProcesses(helper), "guard processes left: \((try? helperProcesses(helper)) ?? [])")
    }

    /// A MAC the policy allows (`mac=52:54:00:*`) is the macvtap's.
    func testRequestedMacWithinPolicyIsUsed() throws {
        let policy = try writePolicy("allow any macvtap link v0 mac=52:54:00:*\n")
        let held = try requireHeld(try startStandIn(["kind=macvtap", "link=v0", "mac=52:54:00:AB:cd:01"], policy: policy))
        XCTAssertEqual(held.reply["mac"], "52:54:00:ab:cd:01")
        let link = try assertMacvtapLink(held.reply, mode: "bridge", ownerUID: 0)
        XCTAssertEqual(link["address"] as? String, "52:54:00:ab:cd:01")
    }

    /// A MAC outside the policy's patterns: exit 3 with one line naming the rule, nothing created.
    func testMacOutsidePolicyIsRefused() throws {
        let policy = try writePolicy("allow any macvtap link v0 mac=52:54:00:*\n")
        let linksBefore = try namespace.linkNames()
        let standIn = try startStandIn(["kind=macvtap", "link=v0", "mac=52:54:01:00:00:01"], policy: policy, waitForReport: false)
        try assertRefused(standIn, exitStatus: 3, message: "refused kind=macvtap link=v0 mac=52:54:01:00:00:01 for \(callerName(0)): "
                          + "\(policy):1 (allow any macvtap link v0 mac=52:54:00:*) does not allow 52:54:01:00:00:01 (mac=52:54:00:*)")
        XCTAssertEqual(try namespace.linkNames(), linksBefore)
        XCTAssertTrue(try waitUntilNoHelperProcesses(helper), "processes left: \((try? helperProcesses(helper)) ?? [])")

        // Without a mac= option no MAC may be chosen at all.
        let strict = try writePolicy("allow any macvtap link v0\n", name: "strict.policy")
        let refused = try request(["kind=macvtap", "link=v0", "mac=52:54:00:12:34:56"], policy: strict)
        assertRefused(refused, exitStatus: 3, prefix: "refused kind=macvtap link=v0 mac=52:54:00:12:34:56 for \(callerName(0)): "
                      + "\(strict):1 (allow any macvtap link v0) allows no MAC chosen by the request")
        XCTAssertEqual(try namespace.linkNames(), linksBefore)
    }

    // MARK: raw

    /// kind=raw link=v0: a frame sent on v1 is received on the packet socket, and a frame written
    /// into it is captured on v1.
    func testRawSocketSendsAndReceivesOnAllowedLink() throws {
        let policy = try writePolicy("allow any raw link v0\n")
        let result = try request(["kind=raw", "link=v0"], policy: policy)
        let reply = try requireSuccess(result)
        XCTAssertEqual(reply["kind"], "raw")
        XCTAssertEqual(reply["name"], "v0")
        XCTAssertEqual(reply["ifindex"], String(try namespace.index(of: "v0")))
        XCTAssertEqual(reply["mac"], Self.lowerAddress)
        XCTAssertEqual(reply["protocol"], "all")
        XCTAssertEqual(reply["vnet-hdr"], "no")
        XCTAssertEqual(reply["promisc"], "no")
        XCTAssertEqual(reply["fds"], "packet")
        let packet = try XCTUnwrap(result.descriptors.first)

        let peer = try PacketSocket(in: namespace, link: "v1")
        let inbound = Self.frame(to: try Self.macBytes(Self.lowerAddress), from: try Self.macBytes(Self.lowerPeerAddress),
                                 payload: EthernetFrame.uniquePayload("v1->raw"))
        try peer.send(inbound)
        XCTAssertTrue(try TapFrames.receive(inbound, from: packet, vnetHeader: false), "the frame sent on v1 never reached the raw socket")

        let outbound = EthernetFrame.make(source: try Self.macBytes(Self.lowerAddress), payload: EthernetFrame.uniquePayload("raw->v1"))
        try TapFrames.write(outbound, to: packet, vnetHeader: false)
        XCTAssertTrue(try peer.receive(outbound), "the frame written into the raw socket never reached v1")
        XCTAssertEqual(try helperProcesses(helper), [], "a raw request leaves no process")
    }

    /// kind=raw on a link the policy does not name (vA): exit 3, one line, an error reply, no socket.
    func testRawSocketRefusedOnOtherLink() throws {
        let policy = try writePolicy("allow any raw link v0\n")
        let result = try request(["kind=raw", "link=vA"], policy: policy)
        assertRefused(result, exitStatus: 3, message: "refused kind=raw link=vA for \(callerName(0)): no rule in \(policy) allows it")
    }

    // MARK: multiqueue tap

    /// kind=tap bridge=br0 queues=4: four descriptors of one tap with IFF_MULTI_QUEUE, on br0; frames
    /// cross both ways; the tap vanishes only when the last of the four is closed.
    func testMultiqueueTapWithFourQueues() throws {
        let policy = try writePolicy("allow any tap bridge br0 queues=4\n")
        let linksBefore = try namespace.linkNames()
        let result = try request(["kind=tap", "bridge=br0", "queues=4"], policy: policy)
        let reply = try requireSuccess(result)
        XCTAssertEqual(reply["kind"], "tap")
        XCTAssertEqual(reply["bridge"], "br0")
        XCTAssertEqual(reply["queues"], "4")
        XCTAssertEqual(reply["vnet-hdr"], "no")
        XCTAssertEqual(reply["vhost"], "no")
        XCTAssertEqual(reply["fds"], "tap,tap,tap,tap")
        let queues = result.descriptors
        XCTAssertEqual(queues.count, 4)

        let devices = try queues.map { try TunDevice($0).nameAndFlags() }
        let name = devices[0].name
        XCTAssertEqual(reply["name"], name)
        for device in devices {
            XCTAssertEqual(device.name, name, "every queue belongs to the same tap")
            XCTAssertTrue(device.flags.contains([.tap, .noPacketInfo, .multiQueue]), "flags: \(device.flags.rawValue)")
            XCTAssertFalse(device.flags.contains(.vnetHeader))
        }
        let link = try namespace.requireLink(name)
        XCTAssertEqual(link["master"] as? String, "br0")
        XCTAssertEqual(link["mtu"] as? Int, NetworkNamespace.bridgeMTU)
        XCTAssertTrue(link.flags.contains("UP"))
        XCTAssertEqual(link.infoData["multi_queue"] as? Bool, true, "\(link.infoData)")
        XCTAssertEqual(reply["ifindex"], (link["ifindex"] as? Int).map(String.init))
        XCTAssertEqual(reply["mac"], link["address"] as? String)
        XCTAssertTrue(["root", "0"].contains("\(link.infoData["user"] ?? "none")"), "TUNSETOWNER: \(link.infoData)")

        // Out through the last queue, in through whichever queue the kernel picks.
        let packetSocket = try PacketSocket(in: namespace, link: "vB")
        let outbound = EthernetFrame.make(source: [0x52, 0x54, 0x00, 0x12, 0x34, 0x57], payload: EthernetFrame.uniquePayload("mq->vB"))
        try TapFrames.write(outbound, to: queues[3], vnetHeader: false)
        XCTAssertTrue(try packetSocket.receive(outbound), "the frame written into queue 4 never reached vB")
        let inbound = EthernetFrame.make(source: [0x02, 0x00, 0x5e, 0x10, 0x00, 0x0b], payload: EthernetFrame.uniquePayload("vB->mq"))
        try packetSocket.send(inbound)
        XCTAssertTrue(try Self.receive(inbound, fromAnyOf: queues, vnetHeader: false), "the frame sent on vB came out of no queue")

        for queue in queues.dropLast() { queue.close() }
        usleep(200_000)
        XCTAssertTrue(try namespace.linkNames().contains(name), "\(name) must live while one queue is open")
        queues.last?.close()
        XCTAssertTrue(try namespace.waitUntilGone(name), "\(name) survived its last queue")
        XCTAssertEqual(try namespace.linkNames(), linksBefore)
    }

    /// More queues than the policy allows: exit 3 naming the rule, nothing created.
    func testMultiqueueTapOverPolicyLimitIsRefused() throws {
        let policy = try writePolicy("allow any tap bridge br0 queues=2\n")
        let linksBefore = try namespace.linkNames()
        let result = try request(["kind=tap", "bridge=br0", "queues=4"], policy: policy)
        assertRefused(result, exitStatus: 3, message: "refused kind=tap bridge=br0 queues=4 for \(callerName(0)): "
                      + "\(policy):1 (allow any tap bridge br0 queues=2) allows at most 2 queues, not 4")
        XCTAssertEqual(try namespace.linkNames(), linksBefore)
    }

    // MARK: vhost

    /// A character device node the test controls (mknod c 1 3), named by `set vhost-device`.
    func makeVhostNode(mode: String = "0666") throws -> String {
        let node = tree.path("dev/vhost-test")
        _ = try tree.write("dev/.keep", "")
        try Command.check(["mknod", "-m", mode, node, "c", "1", "3"])
        return node
    }

    /// The st_rdev of `path`.
    func deviceNumber(of path: String) throws -> UInt64 {
        var status = stat()
        guard stat(path, &status) == 0 else { throw IntegrationError("stat \(path): \(Errno.current)") }
        return UInt64(status.st_rdev)
    }

    /// Asserts that every one of `descriptors` is the character device `node`.
    func assertVhostDescriptors(_ descriptors: [FileDescriptor], node: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try deviceNumber(of: node)
        for descriptor in descriptors {
            let status = try descriptor.status()
            XCTAssertEqual(status.kind, .characterDevice, file: file, line: line)
            XCTAssertEqual(status.representedDevice, expected, "the vhost descriptor is not \(node)", file: file, line: line)
        }
    }

    /// A tap with vhost=yes queues=2 through the policy's vhost device: fds=tap,tap,vhost,vhost, in
    /// that order, the vhost ones opened from the policy's path.
    func testTapVhostDescriptorsFromPolicyDevicePath() throws {
        let node = try makeVhostNode()
        let policy = try writePolicy("set vhost-device \(node)\nallow any tap bridge br0 queues=2 vhost=yes\n")
        let result = try request(["kind=tap", "bridge=br0", "queues=2", "vhost=yes"], policy: policy)
        let reply = try requireSuccess(result)
        XCTAssertEqual(reply["vhost"], "yes")
        XCTAssertEqual(reply["fds"], "tap,tap,vhost,vhost")
        XCTAssertEqual(result.descriptors.count, 4)
        guard result.descriptors.count == 4 else { return }
        for queue in result.descriptors.prefix(2) {
            XCTAssertEqual(try TunDevice(queue).nameAndFlags().name, reply["name"])
        }
        try assertVhostDescriptors(Array(result.descriptors.suffix(2)), node: node)
    }

    /// The same for a macvtap held by a stand-in: fds=tap,tap,vhost,vhost.
    func testMacvtapVhostDescriptorsFromPolicyDevicePath() throws {
        let node = try makeVhostNode()
        let policy = try writePolicy("set vhost-device \(node)\nallow any macvtap link v0 queues=2 vhost=yes\n")
        let held = try requireHeld(try startStandIn(["kind=macvtap", "link=v0", "queues=2", "vhost=yes"], policy: policy))
        XCTAssertEqual(held.reply["fds"], "tap,tap,vhost,vhost")
        XCTAssertEqual(held.reply["queues"], "2")
        XCTAssertEqual(held.queues.count, 2)
        XCTAssertEqual(held.vhosts.count, 2)
        try assertVhostDescriptors(held.vhosts, node: node)
        try assertMacvtapLink(held.reply, mode: "bridge", ownerUID: 0)
        // Both queues are the macvtap's character device (major of /dev/tapINDEX).
        let index = try XCTUnwrap(held.reply["ifindex"])
        let tapNode = try deviceNumber(of: "/dev/tap\(index)")
        for queue in held.queues { XCTAssertEqual(try queue.status().representedDevice, tapNode) }
    }

    /// vhost=yes where the policy says vhost=no (the default): exit 3, nothing created.
    func testVhostNotAllowedIsRefused() throws {
        let node = try makeVhostNode()
        let policy = try writePolicy("set vhost-device \(node)\nallow any tap bridge br0 queues=2\n")
        let linksBefore = try namespace.linkNames()
        let result = try request(["kind=tap", "bridge=br0", "queues=2", "vhost=yes"], policy: policy)
        assertRefused(result, exitStatus: 3, message: "refused kind=tap bridge=br0 queues=2 vhost=yes for \(callerName(0)): "
                      + "\(policy):2 (allow any tap bridge br0 queues=2) does not allow vhost (vhost=no)")
        XCTAssertEqual(try namespace.linkNames(), linksBefore)
    }

    /// A vhost device path that does not exist: exit 6, one line, nothing created.
    func testMissingVhostDeviceLeavesNothing() throws {
        let missing = tree.path("dev/no-such-vhost")
        let policy = try writePolicy("set vhost-device \(missing)\nallow any tap bridge br0 vhost=yes\n")
        let linksBefore = try namespace.linkNames()
        let result = try request(["kind=tap", "bridge=br0", "vhost=yes"], policy: policy)
        assertRefused(result, exitStatus: 6, prefix: "could not open \(missing) for vhost=yes: ")
        XCTAssertEqual(try namespace.linkNames(), linksBefore)
    }

    /// The real /dev/vhost-net, when this kernel has it.
    func testRealVhostNet() throws {
        guard access("/dev/vhost-net", F_OK) == 0 else {
            let reason = "/dev/vhost-net does not exist on this machine (no vhost_net module); the vhost flow is covered by the tests with a device path the test controls"
            print("note: skipping: \(reason)")
            throw XCTSkip(reason)
        }
        let policy = try writePolicy("allow any tap bridge br0 queues=2 vhost=yes\n")
        let result = try request(["kind=tap", "bridge=br0", "queues=2", "vhost=yes"], policy: policy)
        let reply = try requireSuccess(result)
        XCTAssertEqual(reply["fds"], "tap,tap,vhost,vhost")
        try assertVhostDescriptors(Array(result.descriptors.suffix(2)), node: "/dev/vhost-net")
    }

    // MARK: quota

    /// `quota=1`: a second macvtap while the first is held is refused (exit 3, naming the quota);
    /// once the first emulator exits and its macvtap is gone, a new one is granted.
    func testQuotaLimitsMacvtapsHeldAtOnce() throws {
        let policy = try writePolicy("allow any macvtap link v0 quota=1\n")
        let first = try startStandIn(["kind=macvtap", "link=v0"], policy: policy)
        let firstName = try XCTUnwrap(try requireHeld(first).reply["name"])
        let linksHeld = try namespace.linkNames()

        let second = try startStandIn(["kind=macvtap", "link=v0"], policy: policy, waitForReport: false)
        let message = try assertRefused(second, exitStatus: 3, prefix: "refused ")
        XCTAssertTrue(message.contains("the quota is 1"), "the refusal should name the quota: \(message)")
        XCTAssertEqual(try namespace.linkNames(), linksHeld, "a refused request creates nothing")

        first.kill()
        XCTAssertTrue(try namespace.waitUntilGone(firstName))
        let third = try startStandIn(["kind=macvtap", "link=v0"], policy: policy)
        let thirdReply = try requireHeld(third).reply
        try assertMacvtapLink(thirdReply, mode: "bridge", ownerUID: 0)
    }

    /// The quota counts taps owned by the caller as well: with one 1-queue tap held, a tap under
    /// `quota=1` is refused, and after its descriptor is closed one is granted.
    func testQuotaCountsTapsOwnedByTheCaller() throws {
        let policy = try writePolicy("allow any tap bridge br0 quota=1\n")
        let first = try request(["kind=tap", "bridge=br0"], policy: policy)
        let name = try XCTUnwrap(try requireSuccess(first)["name"])
        let refused = try request(["kind=tap", "bridge=br0"], policy: policy)
        let message = assertRefused(refused, exitStatus: 3, prefix: "refused ")
        XCTAssertTrue(message.contains("the quota is 1"), "the refusal should name the quota: \(message)")
        first.descriptors.forEach { $0.close() }
        XCTAssertTrue(try namespace.waitUntilGone(name))
        try requireSuccess(try request(["kind=tap", "bridge=br0"], policy: policy))
    }
}

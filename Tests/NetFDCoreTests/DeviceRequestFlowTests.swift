// DeviceRequestFlowTests.swift - native requests (multiqueue tap, macvtap, raw, vhost) against the
// fake kernel, with the reply and every descriptor received over a real SCM_RIGHTS transfer.
import Glibc
@testable import NetFDCore
import NetFDPolicy
import NetFDSystem
import XCTest

final class DeviceRequestFlowTests: XCTestCase {
    var kernel: FakeTapKernel!
    var emulatorEnd: UnixSocket!
    var helperEnd: UnixSocket!
    let everything: CapabilitySet = [.netAdmin, .netRaw, .dacOverride]

    override func setUpWithError() throws {
        kernel = FakeTapKernel()
        (emulatorEnd, helperEnd) = try UnixSocket.pair()
    }

    override func tearDown() {
        emulatorEnd.close()
        helperEnd.close()
        kernel = nil
    }

    func flow(_ policy: String, caller: Identity = alice, held: CapabilitySet? = nil) throws -> DeviceRequestFlow {
        DeviceRequestFlow(policy: LoadedPolicy(try makePolicy(policy)), kernel: kernel, caller: caller,
                          callerName: "user alice (uid 1000)", held: held ?? everything, helperPath: "/usr/libexec/netfd-helper")
    }

    func arguments(_ request: PolicyRequest) -> RequestArguments {
        RequestArguments(socket: helperEnd.descriptor.rawValue, request: request, policyPath: nil)
    }

    func name(_ text: String) throws -> InterfaceName { try InterfaceName(validating: text) }

    /// What the emulator received: the reply line and the descriptors (closed at teardown).
    func receive(file: StaticString = #filePath, line: UInt = #line) throws -> (reply: String, descriptors: [FileDescriptor]) {
        let message = try emulatorEnd.receiveMessage(maxDescriptors: 253, maxBytes: NativeReply.maximumLength)
        addTeardownBlock { message.descriptors.forEach { if $0.isOpen { $0.close() } } }
        return (String(decoding: message.bytes, as: UTF8.self), message.descriptors)
    }

    /// Proves `received` and `peer` are the two ends of one object: bytes cross both ways.
    func assertSameObject(_ received: FileDescriptor, _ peer: FileDescriptor, file: StaticString = #filePath, line: UInt = #line) throws {
        try received.writeAll(Array("to kernel".utf8))
        XCTAssertEqual(String(decoding: try peer.read(upTo: 64), as: UTF8.self), "to kernel", file: file, line: line)
        try peer.writeAll(Array("to guest".utf8))
        XCTAssertEqual(String(decoding: try received.read(upTo: 64), as: UTF8.self), "to guest", file: file, line: line)
    }

    /// The refusal as the flow throws it, and the error line the emulator received (no descriptors).
    func assertRefused(_ body: () throws -> Void, _ expected: HelperFailure, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual(error as? HelperFailure, expected, file: file, line: line)
        }
        let (reply, descriptors) = try receive(file: file, line: line)
        XCTAssertEqual(reply, "netfd/1 error \(expected.exitCode) \(expected.message)\n", file: file, line: line)
        XCTAssertEqual(descriptors.count, 0, "a refusal carries no descriptors", file: file, line: line)
    }

    // MARK: multiqueue tap

    func testMultiqueueTapWithVhostHandsOverEveryQueueThenEveryVhostDescriptor() throws {
        let request = PolicyRequest.tap(TapRequest(bridge: try name("br0"), vnetHeader: true, queues: 4, vhost: true))
        let sent = try flow("allow user alice tap bridge br0 queues=4 vhost=yes\n").serve(arguments(request))
        let (reply, descriptors) = try receive()
        XCTAssertEqual(reply, sent)
        XCTAssertEqual(reply, "netfd/1 ok kind=tap name=tap0 ifindex=101 mac=fe:11:22:33:44:55 bridge=br0 queues=4 vnet-hdr=yes vhost=yes fds=tap,tap,tap,tap,vhost,vhost,vhost,vhost\n")
        XCTAssertEqual(descriptors.count, 8)
        // In the reply's order: the first queue, the attached ones, then the vhost descriptors.
        try assertSameObject(descriptors[0], try XCTUnwrap(kernel.peers["tap0"]))
        let extra = try XCTUnwrap(kernel.queuePeers["tap0"])
        for (offset, peer) in extra.enumerated() { try assertSameObject(descriptors[1 + offset], peer) }
        for (offset, peer) in kernel.vhostPeers.enumerated() { try assertSameObject(descriptors[4 + offset], peer) }
        XCTAssertEqual(kernel.log, [
            "caps eff=CAP_NET_ADMIN perm=CAP_NET_ADMIN",
            "lookUp br0",
            "vhost /dev/vhost-net", "vhost /dev/vhost-net", "vhost /dev/vhost-net", "vhost /dev/vhost-net",
            "create-mq tap%d vnet=true",
            "restrict tap0 uid=1000 gid=1000",   // owner before any other queue attaches
            "attach tap0", "attach tap0", "attach tap0",
            "configure tap0 mtu=9000 mac=fe:11:22:33:44:55",
            "enslave tap0 br0",
            "up tap0",
        ])
        // The helper kept no copy: the tap lives through the emulator's queues only.
        XCTAssertEqual(kernel.liveTaps, ["tap0"])
        descriptors.forEach { $0.close() }
        XCTAssertEqual(kernel.liveTaps, [])
    }

    func testMoreQueuesThanTheRuleAllowsIsRefusedBeforeAnythingIsCreated() throws {
        let request = PolicyRequest.tap(TapRequest(bridge: try name("br0"), vnetHeader: true, queues: 8))
        let failure = try XCTUnwrap(catchFailure { try flow("allow user alice tap bridge br0 queues=4\n").serve(arguments(request)) })
        XCTAssertEqual(failure.exitCode, 3)
        XCTAssertTrue(failure.message.hasPrefix("refused kind=tap bridge=br0 queues=8"), failure.message)
        XCTAssertTrue(failure.message.contains("/etc/netfd/netfd.policy:1 (allow user alice tap bridge br0 queues=4)"), failure.message)
        XCTAssertEqual(kernel.log, [])
        let (reply, descriptors) = try receive()
        XCTAssertEqual(reply, "netfd/1 error 3 \(failure.message)\n")
        XCTAssertEqual(descriptors, [])
    }

    func testQueueAttachFailureClosesEveryQueueSoTheTapIsGone() throws {
        kernel.failure = (.attachQueue, Errno(EBUSY))
        let request = PolicyRequest.tap(TapRequest(bridge: try name("br0"), vnetHeader: false, queues: 2, vhost: true))
        let failure = try XCTUnwrap(catchFailure { try flow("allow any tap queues=2 vhost=yes\n").serve(arguments(request)) })
        XCTAssertEqual(failure, .kernel("could not attach queue 2 of tap0: \(Errno(EBUSY)); nothing was left behind"))
        XCTAssertEqual(kernel.liveTaps, [])
        XCTAssertTrue(kernel.vhostPeers.allSatisfy { FakeTapKernel.peerSawEndOfFile($0) }, "vhost descriptors closed")
        XCTAssertEqual(try receive().descriptors, [])
    }

    // MARK: macvtap

    func testMacvtapIsCreatedGuardedOpenedPerQueueAndHandedOver() throws {
        let request = PolicyRequest.macvtap(MacvtapRequest(link: try name("v0"), mode: .vepa, address: nil, queues: 2, vnetHeader: true, vhost: true))
        let policy = "allow user alice macvtap link v0 mode=bridge,vepa queues=2 vhost=yes\n"
        _ = try flow(policy).serve(arguments(request))
        let (reply, descriptors) = try receive()
        XCTAssertEqual(reply, "netfd/1 ok kind=macvtap name=macvtap0 ifindex=200 mac=52:11:22:33:44:55 link=v0 mode=vepa queues=2 vnet-hdr=yes vhost=yes fds=tap,tap,vhost,vhost\n")
        XCTAssertEqual(descriptors.count, 4)
        let queues = try XCTUnwrap(kernel.macvtapQueuePeers["macvtap0"])
        try assertSameObject(descriptors[0], queues[0])
        try assertSameObject(descriptors[1], queues[1])
        try assertSameObject(descriptors[2], kernel.vhostPeers[0])
        try assertSameObject(descriptors[3], kernel.vhostPeers[1])
        XCTAssertEqual(kernel.log, [
            "caps eff=CAP_NET_ADMIN perm=CAP_DAC_OVERRIDE+CAP_NET_ADMIN",
            "link v0",
            "vhost /dev/vhost-net", "vhost /dev/vhost-net",   // with the caller's permissions: no DAC override yet
            "guard",
            "guard will-create lower=3 mac=52:11:22:33:44:55",   // the generated MAC: unicast, locally administered
            "macvtap on v0 mode=vepa mac=52:11:22:33:44:55",
            "guard created macvtap0",
            "owner macvtap0 uid=1000",
            "caps eff=CAP_DAC_OVERRIDE+CAP_NET_ADMIN perm=CAP_DAC_OVERRIDE+CAP_NET_ADMIN",
            "queue macvtap0 vnet=true", "queue macvtap0 vnet=true",
            "caps eff=CAP_NET_ADMIN perm=CAP_NET_ADMIN",
            "up macvtap0",
            "guard handed-over",
        ])
        XCTAssertEqual(kernel.liveMacvtaps, ["macvtap0"], "the guard, not the helper, ends its life")
    }

    func testMacvtapWithARequestedMACNeedsAMatchingPattern() throws {
        let mac = try XCTUnwrap(MacAddress(parsing: "52:54:00:12:34:56"))
        let request = PolicyRequest.macvtap(MacvtapRequest(link: try name("v0"), mode: .bridge, address: mac, queues: 1, vnetHeader: false, vhost: false))
        _ = try flow("allow user alice macvtap link v0 mac=52:54:00:*\n").serve(arguments(request))
        XCTAssertTrue(try receive().reply.hasPrefix("netfd/1 ok kind=macvtap name=macvtap0 ifindex=200 mac=52:54:00:12:34:56 "))

        let refused = try XCTUnwrap(catchFailure { try flow("allow user alice macvtap link v0\n").serve(arguments(request)) })
        XCTAssertEqual(refused.exitCode, 3)
        XCTAssertEqual(kernel.liveMacvtaps, ["macvtap0"], "the refused request created nothing")
        // Allowed, but the address is taken on the lower link: refused before the guard or the link exist.
        let before = kernel.log.count
        let taken = try XCTUnwrap(catchFailure { try flow("allow user alice macvtap link v0 mac=any\n").serve(arguments(request)) })
        XCTAssertEqual(taken, .target("MAC 52:54:00:12:34:56 is already in use on link v0; nothing was created"))
        XCTAssertFalse(kernel.log[before...].contains("guard"))
        XCTAssertEqual(kernel.liveMacvtaps, ["macvtap0"])
    }

    func testMacvtapQueueFailureDeletesTheLinkAndCancelsTheGuard() throws {
        kernel.queueFailure = (2, .foreignDeviceNode(path: "/dev/tap200"))
        let request = PolicyRequest.macvtap(MacvtapRequest(link: try name("v0"), mode: .bridge, address: nil, queues: 2, vnetHeader: false, vhost: true))
        let failure = try XCTUnwrap(catchFailure { try flow("allow any macvtap queues=2 vhost=yes\n").serve(arguments(request)) })
        XCTAssertEqual(failure.exitCode, 6)
        XCTAssertTrue(failure.message.contains("/dev/tap200") && failure.message.contains("another network namespace"), failure.message)
        XCTAssertEqual(kernel.liveMacvtaps, [])
        XCTAssertEqual(Array(kernel.log.suffix(2)), ["delete macvtap0", "guard cancel"])
        XCTAssertTrue(try XCTUnwrap(kernel.macvtapQueuePeers["macvtap0"]).allSatisfy { FakeTapKernel.peerSawEndOfFile($0) })
        XCTAssertTrue(kernel.vhostPeers.allSatisfy { FakeTapKernel.peerSawEndOfFile($0) })
        XCTAssertEqual(try receive().descriptors, [])
    }

    func testMacvtapWhoseGuardDiedIsDeletedNotHandedOver() throws {
        let request = PolicyRequest.macvtap(MacvtapRequest(link: try name("v0")))
        kernel.failure = nil
        let flow = try self.flow("allow any macvtap\n")
        // The guard process is gone when told about the handoff: nobody would delete the link later.
        final class Dead: LinkGuard {
            func willCreate(lowerIndex: Int32, address: MacAddress) throws(Errno) {}
            func created(_ macvtap: CreatedMacvtap) throws(Errno) {}
            func handedOver() throws(Errno) { throw Errno(EPIPE) }
            func cancel() {}
        }
        kernel.guardOverride = Dead()
        let failure = try XCTUnwrap(catchFailure { try flow.serve(arguments(request)) })
        XCTAssertEqual(failure, .kernel("could not hand macvtap0 to its guard: \(Errno(EPIPE)); nothing was left behind"))
        XCTAssertEqual(kernel.liveMacvtaps, [])
        XCTAssertEqual(try receive().descriptors, [])
    }

    /// macvlan refuses a duplicate MAC only when the link goes up: a MAC taken between the check
    /// and the bring-up is still a target failure, and the link is deleted.
    func testDuplicateMACFoundAtBringUpIsATargetFailureAndRollsBack() throws {
        kernel.failure = (.macvtapUp, Errno(EADDRINUSE))
        let mac = try XCTUnwrap(MacAddress(parsing: "52:54:00:00:00:07"))
        let request = PolicyRequest.macvtap(MacvtapRequest(link: try name("v0"), address: mac))
        try assertRefused({ _ = try flow("allow any macvtap mac=any\n").serve(arguments(request)) },
                          .target("MAC 52:54:00:00:00:07 is already in use on link v0; nothing was left behind"))
        XCTAssertEqual(kernel.liveMacvtaps, [])
        XCTAssertEqual(Array(kernel.log.suffix(2)), ["delete macvtap0", "guard cancel"])
    }

    func testMacvtapWithoutDacOverrideIsRefusedWithTheSetcapFix() throws {
        let request = PolicyRequest.macvtap(MacvtapRequest(link: try name("v0")))
        try assertRefused({ _ = try flow("allow any macvtap\n", held: .netAdmin).serve(arguments(request)) },
                          .confinement("missing CAP_DAC_OVERRIDE for kind=macvtap; install the helper with: setcap cap_net_admin,cap_net_raw,cap_dac_override,cap_setpcap=ep /usr/libexec/netfd-helper"))
        XCTAssertEqual(kernel.log, [])
    }

    func testMissingLowerLinkIsATargetFailure() throws {
        let request = PolicyRequest.macvtap(MacvtapRequest(link: try name("eth9")))
        try assertRefused({ _ = try flow("allow any macvtap\n").serve(arguments(request)) }, .target("link eth9 does not exist"))
        XCTAssertEqual(kernel.liveMacvtaps, [])
    }

    // MARK: quota

    func testQuotaCountsWhatTheCallerHoldsAndRefusesAtTheLimit() throws {
        kernel.otherInterfaces[1000] = 1
        let request = PolicyRequest.macvtap(MacvtapRequest(link: try name("v0")))
        let policy = "allow user alice macvtap quota=2\n"
        _ = try flow(policy).serve(arguments(request))   // holds 1 + this one = 2
        XCTAssertTrue(try receive().reply.hasPrefix("netfd/1 ok kind=macvtap"))
        try assertRefused({ _ = try flow(policy).serve(arguments(request)) },
                          .denied("refused for user alice (uid 1000): holds 2 interfaces, the quota is 2"))
        XCTAssertEqual(kernel.liveMacvtaps, ["macvtap0"])
    }

    func testQuotaRecheckedAfterCreationCatchesARacingRequest() throws {
        kernel.racingInterface = 1000
        let request = PolicyRequest.tap(TapRequest(bridge: try name("br0"), vnetHeader: false))
        try assertRefused({ _ = try flow("allow user alice tap quota=1\n").serve(arguments(request)) },
                          .denied("refused for user alice (uid 1000): holds 1 interface beside this one, the quota is 1; nothing was left behind"))
        XCTAssertEqual(kernel.liveTaps, [])
    }

    // MARK: raw

    func testRawSocketIsMadeWithNetRawOnlyAndEveryCapabilityIsDroppedBeforeTheHandoff() throws {
        let request = PolicyRequest.raw(RawRequest(link: try name("v0"), ethernetProtocol: 0x88b5, vnetHeader: true, promiscuous: true))
        _ = try flow("allow user alice raw link v0 promisc=yes vnet-hdr=no\n").serve(arguments(request))
        let (reply, descriptors) = try receive()
        XCTAssertEqual(reply, "netfd/1 ok kind=raw name=v0 ifindex=3 mac=02:00:00:00:00:03 protocol=0x88b5 vnet-hdr=no promisc=yes fds=packet\n")
        XCTAssertEqual(descriptors.count, 1)
        try assertSameObject(descriptors[0], kernel.packetPeers[0])
        XCTAssertEqual(kernel.log, [
            "caps eff=CAP_NET_RAW perm=CAP_NET_RAW",
            "link v0",
            "packet v0 protocol=\(0x88b5) vnet=false promisc=true",   // vnet-hdr=no downgrades, as for taps
            "caps eff=none perm=none",
        ])
    }

    func testRawOnAnotherLinkIsRefused() throws {
        kernel.links["v1"] = ExistingLink(name: "v1", index: 4, address: [])
        let request = PolicyRequest.raw(RawRequest(link: try name("v1")))
        let failure = try XCTUnwrap(catchFailure { try flow("allow any raw link v0\n").serve(arguments(request)) })
        XCTAssertEqual(failure, .denied("refused kind=raw link=v1 for user alice (uid 1000): no rule in /etc/netfd/netfd.policy allows it"))
        XCTAssertEqual(kernel.log, [])
    }

    func testRawWithoutNetRawIsAConfinementFailure() throws {
        let request = PolicyRequest.raw(RawRequest(link: try name("v0")))
        let failure = try XCTUnwrap(catchFailure { try flow("allow any raw\n", held: .netAdmin).serve(arguments(request)) })
        XCTAssertEqual(failure.exitCode, 4)
        XCTAssertTrue(failure.message.hasPrefix("missing CAP_NET_RAW for kind=raw"), failure.message)
    }

    // MARK: vhost and handoff

    func testVhostFailureCreatesNothing() throws {
        kernel.failure = (.vhost, .permissionDenied)
        let request = PolicyRequest.macvtap(MacvtapRequest(link: try name("v0"), vhost: true))
        let failure = try XCTUnwrap(catchFailure { try flow("allow any macvtap vhost=yes\n").serve(arguments(request)) })
        XCTAssertEqual(failure, .kernel("could not open /dev/vhost-net for vhost=yes: it is not accessible to uid 1000 (Debian gives group kvm access); nothing was left behind"))
        XCTAssertFalse(kernel.log.contains { $0.hasPrefix("macvtap") || $0 == "guard" })
    }

    func testVhostDeviceFromThePolicy() throws {
        let request = PolicyRequest.tap(TapRequest(bridge: try name("br0"), vnetHeader: false, vhost: true))
        _ = try flow("set vhost-device /run/test/vhost\nallow any tap vhost=yes\n").serve(arguments(request))
        XCTAssertTrue(kernel.log.contains("vhost /run/test/vhost"))
        XCTAssertEqual(try receive().descriptors.count, 2)
    }

    func testEmulatorGoneBeforeTheHandoffRollsBackTheMacvtap() throws {
        let request = PolicyRequest.macvtap(MacvtapRequest(link: try name("v0")))
        emulatorEnd.close()
        let failure = try XCTUnwrap(catchFailure { try flow("allow any macvtap\n").serve(arguments(request)) })
        XCTAssertEqual(failure.exitCode, 7)
        XCTAssertEqual(kernel.liveMacvtaps, [])
        XCTAssertEqual(Array(kernel.log.suffix(3)), ["guard handed-over", "delete macvtap0", "guard cancel"])
        let spare = try UnixSocket.pair()   // for tearDown
        emulatorEnd = spare.0
        spare.1.close()
    }

    func testNotASocketIsAUsageErrorAndNothingIsSent() throws {
        let arguments = RequestArguments(socket: 0, request: .raw(RawRequest(link: try name("v0"))), policyPath: nil)
        let failure = try XCTUnwrap(catchFailure { try flow("allow any raw\n").serve(arguments) })
        XCTAssertEqual(failure, .usage("--fd=0 is not an open unix stream socket"))
    }

    // MARK: release

    func testReleaseDeletesOnlyTheCallersOwnMacvtap() throws {
        kernel.releasable = [
            "macvtap0": ReleasableLink(index: 7, kind: "macvtap", heldBy: 1000),
            "macvtap1": ReleasableLink(index: 8, kind: "macvtap", heldBy: 1001),
            "mv9": ReleasableLink(index: 9, kind: "macvtap", heldBy: nil),
            "tap3": ReleasableLink(index: 10, kind: "tun", heldBy: nil),
        ]
        let release = ReleaseCommand(kernel: kernel, caller: alice, callerName: "user alice (uid 1000)")
        try release.run(ReleaseArguments(link: try name("macvtap0")))
        XCTAssertEqual(kernel.releasable["macvtap0"], nil)
        func refusal(_ link: String) throws -> HelperFailure? { catchFailure { try release.run(ReleaseArguments(link: try self.name(link))) } }
        XCTAssertEqual(try refusal("macvtap1"), .denied("refused release of macvtap1 for user alice (uid 1000): netfd created it for uid 1001"))
        XCTAssertEqual(try refusal("mv9"), .denied("refused release of mv9 for user alice (uid 1000): it is not a macvtap netfd created (netfd releases only its own macvtaps)"))
        XCTAssertEqual(try refusal("tap3")?.exitCode, 3)
        XCTAssertEqual(try refusal("nope"), .target("link nope does not exist"))
        XCTAssertEqual(kernel.releasable.count, 3, "nothing else was deleted")
        // Root may release any macvtap netfd created.
        try ReleaseCommand(kernel: kernel, caller: Identity(uid: 0, gid: 0, supplementaryGroups: []), callerName: "root").run(ReleaseArguments(link: try name("macvtap1")))
        XCTAssertEqual(kernel.releasable["macvtap1"], nil)
    }

    // MARK: reply and guard wire formats

    func testGuardCommandsRoundTrip() throws {
        let command = GuardCommand(kind: .willCreate, index: -2, address: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(command.encoded.count, 16)
        XCTAssertEqual(GuardCommand(decoding: command.encoded), command)
        XCTAssertNil(GuardCommand(decoding: Array(command.encoded.prefix(15))))
        XCTAssertNil(GuardCommand(decoding: [9] + Array(command.encoded.dropFirst())))
    }

    func testOwnerAliasParsing() {
        XCTAssertEqual(ownerFromAlias(ownerAlias(uid: 4242)), 4242)
        XCTAssertNil(ownerFromAlias("netfd uid=0042"))
        XCTAssertNil(ownerFromAlias("netfd uid=1 "))
        XCTAssertNil(ownerFromAlias("netfd uid=99999999999"))
        XCTAssertNil(ownerFromAlias("uplink"))
        XCTAssertNil(ownerFromAlias(nil))
    }

    func catchFailure(_ body: () throws -> Void) -> HelperFailure? {
        do { try body(); return nil } catch { return error as? HelperFailure }
    }
}

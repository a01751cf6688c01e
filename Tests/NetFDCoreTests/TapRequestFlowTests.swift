// TapRequestFlowTests.swift - the whole bridge-helper request against the fake kernel, with the
// descriptor received over a real SCM_RIGHTS transfer.
import Glibc
@testable import NetFDCore
import NetFDPolicy
import NetFDSystem
import XCTest

final class TapRequestFlowTests: XCTestCase {
    var kernel: FakeTapKernel!
    var emulatorEnd: UnixSocket!
    var helperEnd: UnixSocket!

    override func setUpWithError() throws {
        kernel = FakeTapKernel()
        (emulatorEnd, helperEnd) = try UnixSocket.pair()
    }

    override func tearDown() {
        emulatorEnd.close()
        helperEnd.close()
        kernel = nil
    }

    func arguments(bridge: String = "br0", vnet: Bool = true, socket: Int32? = nil) throws -> BridgeHelperArguments {
        BridgeHelperArguments(socket: socket ?? helperEnd.descriptor.rawValue, bridge: try InterfaceName(validating: bridge),
                              useVnetHeader: vnet, policyPath: nil)
    }

    func flow(_ policy: String, caller: Identity = alice, name: String = "user alice (uid 1000)") throws -> TapRequestFlow {
        TapRequestFlow(policy: try makePolicy(policy), kernel: kernel, caller: caller, callerName: name)
    }

    /// Nothing is waiting on the emulator's end (recv would block).
    func assertNothingSent(file: StaticString = #filePath, line: UInt = #line) {
        var byte: UInt8 = 0
        let n = recv(emulatorEnd.descriptor.rawValue, &byte, 1, Int32(MSG_DONTWAIT))
        XCTAssertEqual(n, -1, "something was sent to the emulator", file: file, line: line)
        XCTAssertEqual(errno, EAGAIN, file: file, line: line)
    }

    func testAllowedRequestHandsOverTheCreatedDevice() throws {
        let tap = try flow("allow group kvm tap bridge br0\n").serve(try arguments())

        // The emulator's side receives exactly one byte 0x00 and one descriptor.
        let received = try XCTUnwrap(try emulatorEnd.receive())
        XCTAssertEqual(received.byte, 0)
        let device = try XCTUnwrap(received.descriptor)
        defer { device.close() }

        // It is the created object: bytes cross from the received fd to the kernel's end and back.
        let peer = try XCTUnwrap(kernel.peers[tap.name])
        try device.writeAll(Array("frame from guest".utf8))
        XCTAssertEqual(String(decoding: try peer.read(upTo: 64), as: UTF8.self), "frame from guest")
        try peer.writeAll(Array("frame to guest".utf8))
        XCTAssertEqual(String(decoding: try device.read(upTo: 64), as: UTF8.self), "frame to guest")

        XCTAssertEqual(kernel.log, [
            "lookUp br0",
            "create tap%d vnet=true",
            "restrict tap0 uid=1000 gid=1000",
            "configure tap0 mtu=9000 mac=fe:11:22:33:44:55",
            "enslave tap0 br0",
            "up tap0",
            "close tap0",
        ])
        // The helper closed its copy; the emulator's copy keeps the tap alive, and closing it ends it.
        XCTAssertEqual(kernel.liveTaps, ["tap0"])
        device.close()
        XCTAssertEqual(kernel.liveTaps, [])
    }

    func testExplicitDenyCreatesNothingAndSendsNothing() throws {
        let policy = "allow group kvm tap bridge br0\ndeny user mallory tap\n"
        XCTAssertThrowsError(try flow(policy, caller: mallory, name: "user mallory (uid 1002)").serve(try arguments())) { error in
            XCTAssertEqual(error as? HelperFailure, .denied(
                "refused tap on bridge br0 for user mallory (uid 1002): denied by /etc/netfd/netfd.policy:2 (deny user mallory tap)"))
            XCTAssertEqual((error as? HelperFailure)?.exitCode, 3)
        }
        XCTAssertEqual(kernel.log, [], "a refused caller must not even learn whether the bridge exists")
        assertNothingSent()
    }

    func testDefaultDenyNamesThePolicy() throws {
        XCTAssertThrowsError(try flow("allow group kvm tap bridge br0\n", caller: bob, name: "user bob (uid 1001)").serve(try arguments())) { error in
            XCTAssertEqual(error as? HelperFailure, .denied(
                "refused tap on bridge br0 for user bob (uid 1001): no rule in /etc/netfd/netfd.policy allows it"))
        }
        XCTAssertEqual(kernel.log, [])
        assertNothingSent()
    }

    func testEveryFailingStepRollsBackTheTap() throws {
        let steps: [(FakeTapKernel.Step, String)] = [
            (.restrict, "could not restrict tap0 to uid 1000: Operation not permitted; nothing was left behind"),
            (.configure, "could not set MTU and MAC of tap0: Operation not permitted; nothing was left behind"),
            (.enslave, "could not add tap0 to bridge br0: Operation not permitted; nothing was left behind"),
            (.bringUp, "could not bring tap0 up: Operation not permitted; nothing was left behind"),
        ]
        for (step, message) in steps {
            try setUpWithError()
            kernel.failure = (step, .notPermitted)
            XCTAssertThrowsError(try flow("allow any tap bridge br0\n").serve(try arguments()), "\(step)") { error in
                XCTAssertEqual(error as? HelperFailure, .kernel(message))
                XCTAssertEqual((error as? HelperFailure)?.exitCode, 6)
            }
            XCTAssertEqual(kernel.log.last, "close tap0", "\(step)")
            XCTAssertEqual(kernel.liveTaps, [], "\(step) left a tap behind")
            assertNothingSent()
        }
    }

    func testCreationFailureLeavesNothing() throws {
        kernel.failure = (.create, Errno(EBUSY))
        XCTAssertThrowsError(try flow("allow any tap bridge br0\n").serve(try arguments())) { error in
            XCTAssertEqual(error as? HelperFailure, .kernel("could not create a tap: Device or resource busy; nothing was left behind"))
        }
        XCTAssertEqual(kernel.liveTaps, [])
        kernel.failure = (.create, .permissionDenied)
        XCTAssertThrowsError(try flow("allow any tap bridge br0\n").serve(try arguments())) { error in
            XCTAssertEqual(error as? HelperFailure, .kernel(
                "could not create a tap: /dev/net/tun is not accessible to uid 1000 (udev makes it mode 0666); nothing was left behind"))
        }
    }

    func testHandoffFailureRollsBack() throws {
        emulatorEnd.close()   // the emulator died before the handoff
        XCTAssertThrowsError(try flow("allow any tap bridge br0\n").serve(try arguments())) { error in
            guard case .handoff(let message)? = error as? HelperFailure else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasPrefix("could not send tap0 on --fd="), message)
            XCTAssertEqual((error as? HelperFailure)?.exitCode, 7)
        }
        XCTAssertEqual(kernel.liveTaps, [])
        (emulatorEnd, _) = try UnixSocket.pair()   // for tearDown
    }

    func testMissingAndWrongBridges() throws {
        XCTAssertThrowsError(try flow("allow any tap\n").serve(try arguments(bridge: "br9"))) { error in
            XCTAssertEqual(error as? HelperFailure, .target("bridge br9 does not exist"))
            XCTAssertEqual((error as? HelperFailure)?.exitCode, 5)
        }
        XCTAssertThrowsError(try flow("allow any tap\n").serve(try arguments(bridge: "veth0"))) { error in
            XCTAssertEqual(error as? HelperFailure, .target("veth0 is not a bridge (it is a veth link)"))
            XCTAssertEqual((error as? HelperFailure)?.exitCode, 5)
        }
        XCTAssertEqual(kernel.log, ["lookUp br9", "lookUp veth0"])
        assertNothingSent()
    }

    /// The bridge was deleted or replaced by another kind of link between the lookup and the
    /// enslaving: the same refusals, after the tap was closed (so deleted).
    func testBridgeReplacedAfterTheLookupRollsBack() throws {
        for (replaced, message) in [(BridgeLookupError.notABridge(kind: "veth"), "br0 is not a bridge (it is a veth link)"),
                                    (.notFound, "bridge br0 does not exist")] {
            kernel.replacedBridge = replaced
            XCTAssertThrowsError(try flow("allow any tap bridge br0\n").serve(try arguments())) { error in
                XCTAssertEqual(error as? HelperFailure, .target(message))
                XCTAssertEqual((error as? HelperFailure)?.exitCode, 5)
            }
            XCTAssertEqual(kernel.log.suffix(2), ["enslave tap\(kernel.log.filter { $0.hasPrefix("close") }.count - 1) br0",
                                                  "close tap\(kernel.log.filter { $0.hasPrefix("close") }.count - 1)"])
            XCTAssertEqual(kernel.liveTaps, [])
        }
        assertNothingSent()
    }

    func testDescriptorThatIsNotASocketIsRefusedBeforeAnything() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { Glibc.close(fds[0]); Glibc.close(fds[1]) }
        XCTAssertThrowsError(try flow("allow any tap\n").serve(try arguments(socket: fds[1]))) { error in
            XCTAssertEqual(error as? HelperFailure, .usage("--fd=\(fds[1]) is not an open unix stream socket"))
        }
        XCTAssertThrowsError(try flow("allow any tap\n").serve(try arguments(socket: 987))) { error in
            XCTAssertEqual(error as? HelperFailure, .usage("--fd=987 is not an open unix stream socket"))
        }
        XCTAssertEqual(kernel.log, [])
    }

    func testVnetHeaderOnlyWhenPolicyGrantsIt() throws {
        _ = try flow("allow any tap bridge br0 vnet-hdr=no\n").serve(try arguments(vnet: true))
        XCTAssertEqual(kernel.log[1], "create tap%d vnet=false")
        _ = try emulatorEnd.receive().map { $0.descriptor?.close() }
    }

    func testTapPrefixFromPolicy() throws {
        let tap = try flow("set tap-prefix vm\nallow any tap bridge br0\n").serve(try arguments(vnet: false))
        XCTAssertEqual(tap.name, "vm0")
        XCTAssertEqual(kernel.log[1], "create vm%d vnet=false")
        _ = try emulatorEnd.receive().map { $0.descriptor?.close() }
    }

    /// A compiled policy decides the request like its text: same tap, same refusal naming the
    /// same rule and file; and when its records are unusable and the text is broken, the request
    /// fails with the text's error (exit 2) before anything is created.
    func testCompiledPolicyServesAndRefusesLikeTheText() throws {
        let fs = InMemoryPolicyFileSystem()
        fs.addFile("/etc/netfd/netfd.policy", contents: "allow group kvm tap bridge br0\ndeny user bob tap\nset tap-prefix vm\n")
        fs.addFile("/etc/passwd", contents: "")
        fs.addFile("/etc/group", contents: "")
        fs.advanceClock(seconds: 10)
        guard case .compiled(var bytes, _) = try PolicyCompiler(fileSystem: fs, users: testUsers).compile(path: "/etc/netfd/netfd.policy", started: fs.now) else {
            return XCTFail("not compiled")
        }
        fs.addFile("/etc/netfd/netfd.policy.compiled", bytes: bytes)
        func compiled() throws -> CompiledPolicy {
            try CompiledPolicy.open(policyPath: "/etc/netfd/netfd.policy", fileSystem: fs) { () throws(PolicyError) in
                try PolicyLoader(fileSystem: fs, users: testUsers).load(path: "/etc/netfd/netfd.policy")
            }
        }
        let tap = try TapRequestFlow(policy: try compiled(), kernel: kernel, caller: alice, callerName: "user alice (uid 1000)").serve(try arguments())
        XCTAssertEqual(tap.name, "vm0", "the compiled form carries set tap-prefix")
        try XCTUnwrap(try emulatorEnd.receive()?.descriptor).close()

        let refused = TapRequestFlow(policy: try compiled(), kernel: kernel, caller: bob, callerName: "user bob (uid 1001)")
        XCTAssertThrowsError(try refused.serve(try arguments())) { error in
            XCTAssertEqual(error as? HelperFailure, .denied("refused tap on bridge br0 for user bob (uid 1001): denied by /etc/netfd/netfd.policy:2 (deny user bob tap)"))
        }

        // Records unusable (an effect byte out of range), and the text broken since the open.
        let recordsOffset = Int(bytes[20]) | Int(bytes[21]) << 8 | Int(bytes[22]) << 16 | Int(bytes[23]) << 24
        bytes[recordsOffset + 27] = 9
        bytes[recordsOffset + 64 + 27] = 9
        fs.addFile("/etc/netfd/netfd.policy.compiled", bytes: bytes)
        let damaged = try compiled()
        fs.rewriteFile("/etc/netfd/netfd.policy", contents: "allow group kvm tap bridge br0 frobnicate\n")
        let created = kernel.log.count
        XCTAssertThrowsError(try TapRequestFlow(policy: damaged, kernel: kernel, caller: alice, callerName: "alice").serve(try arguments())) { error in
            XCTAssertEqual((error as? HelperFailure)?.exitCode, 2)
            XCTAssertTrue("\(error)".hasPrefix("policy error: /etc/netfd/netfd.policy:1:"), "\(error)")
        }
        XCTAssertEqual(kernel.log.count, created, "nothing may be looked up or created after a policy error")
        assertNothingSent()
    }

    func testHostSideAddressNeverBecomesTheBridgeAddress() {
        XCTAssertEqual(TapRequestFlow.hostSideAddress([0x12, 1, 2, 3, 4, 5]), [0xfe, 1, 2, 3, 4, 5])
    }
}

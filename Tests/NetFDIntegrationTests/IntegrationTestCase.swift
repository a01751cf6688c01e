// IntegrationTestCase.swift - the per-test fixture: a namespace with br0/vA/vB, a root-owned
// policy tree, and the built helper.
import Foundation
import NetFDClient
import NetFDSystem
import XCTest

/// Base class: skips without root, and builds a fresh namespace and policy tree per test.
class IntegrationTestCase: XCTestCase {
    /// The namespace of the current test (br0, vA, vB).
    var namespace: NetworkNamespace!
    /// The root-owned scratch tree of the current test under /run.
    var tree: PolicyTree!
    /// The helper under test.
    var helper: String!

    /// Skips without root; otherwise creates the namespace and the policy tree (both removed at teardown).
    override func setUpWithError() throws {
        try super.setUpWithError()
        try Integration.requireRoot()
        helper = try Integration.helperPath()
        namespace = try NetworkNamespace.withBridge(for: self)
        tree = try PolicyTree(for: self)
    }

    /// Drops the fixture references; the registered teardown blocks already closed and deleted everything.
    override func tearDown() {
        // The teardown blocks registered above delete the namespace and the tree.
        namespace = nil
        tree = nil
        super.tearDown()
    }

    /// Writes `text` as the policy file `name` (root-owned 0644 unless `mode` says otherwise); returns its path.
    @discardableResult
    func writePolicy(_ text: String, name: String = "netfd.policy", mode: mode_t = 0o644) throws -> String {
        try tree.write("policy/\(name)", text, mode: mode)
    }

    /// Runs the helper as root inside the namespace, as QEMU would, with `--policy=policy`.
    func runHelper(bridge: String = "br0", policy: String?, configure: (inout HelperInvocation) -> Void = { _ in })
        throws -> HelperResult {
        var invocation = Integration.invocation(helper: helper, bridge: bridge, in: namespace, policy: policy)
        configure(&invocation)
        return try HelperClient.run(invocation)
    }

    /// Registers closing `descriptor` at teardown unless the test closed it already.
    func closeAtTeardown(_ descriptor: FileDescriptor) {
        addTeardownBlock { if descriptor.isOpen { descriptor.close() } }
    }

    /// Asserts the helper succeeded: exit 0, no stderr, byte 0x00, a descriptor; returns the descriptor.
    func requireSuccess(_ result: HelperResult, file: StaticString = #filePath, line: UInt = #line) throws -> FileDescriptor {
        XCTAssertEqual(result.exitStatus, 0, "stderr: \(result.standardError)", file: file, line: line)
        XCTAssertEqual(result.standardError, "", file: file, line: line)
        XCTAssertEqual(result.byte, 0x00, "the protocol's data byte", file: file, line: line)
        guard let descriptor = result.descriptor else {
            XCTFail("no descriptor received (exit \(result.exitStatus), stderr: \(result.standardError))", file: file, line: line)
            throw IntegrationError("no descriptor")
        }
        closeAtTeardown(descriptor)
        return descriptor
    }

    /// Sends a unique frame from the tap to vB and another from vB to the tap, asserting both arrive.
    func assertFramesCross(tap: FileDescriptor, vnetHeader: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let packetSocket = try PacketSocket(in: namespace, link: "vB")
        let guestAddress: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
        let outbound = EthernetFrame.make(source: guestAddress, payload: EthernetFrame.uniquePayload("tap->vB"))
        try TapFrames.write(outbound, to: tap, vnetHeader: vnetHeader)
        XCTAssertTrue(try packetSocket.receive(outbound), "the frame written into the tap never reached vB",
                      file: file, line: line)

        let peerAddress: [UInt8] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x0b]
        let inbound = EthernetFrame.make(source: peerAddress, payload: EthernetFrame.uniquePayload("vB->tap"))
        try packetSocket.send(inbound)
        XCTAssertTrue(try TapFrames.receive(inbound, from: tap, vnetHeader: vnetHeader),
                      "the frame sent on vB never came out of the tap", file: file, line: line)
    }
}

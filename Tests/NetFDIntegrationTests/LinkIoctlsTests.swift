// LinkIoctlsTests.swift - the interface ioctls of the tap request's success path (LinkIoctls.swift)
// against the real kernel, inside the test's namespace: the bridge probe changes nothing, and every
// call acts on exactly the link it names.
import NetFDSystem
import XCTest

final class LinkIoctlsTests: IntegrationTestCase {
    /// A RouteNetlink socket opened inside the test's namespace.
    private func socketInNamespace() throws -> RouteNetlink {
        try namespace.inside { try RouteNetlink() }
    }

    func testBridgeProbeTellsBridgesFromOtherLinksAndChangesNothing() throws {
        let links = try socketInNamespace()
        let before = try namespace.linkNames().map { try namespace.requireLink($0).stableFields }
        XCTAssertTrue(try links.isBridge(linkNamed: "br0"))
        XCTAssertFalse(try links.isBridge(linkNamed: "vA"), "a veth port of the bridge")
        XCTAssertFalse(try links.isBridge(linkNamed: "vB"))
        XCTAssertFalse(try links.isBridge(linkNamed: "lo"))
        XCTAssertThrowsError(try links.isBridge(linkNamed: "br1")) { XCTAssertEqual($0 as? Errno, .noDevice) }
        // Never truncated to "br0" (CVE-2019-13164): 16 bytes do not fit IFNAMSIZ.
        XCTAssertThrowsError(try links.isBridge(linkNamed: "br0" + String(repeating: "x", count: 13))) {
            XCTAssertEqual($0 as? Errno, Errno(ENAMETOOLONG))
        }
        XCTAssertEqual(try namespace.ports(of: "br0"), ["vA"])
        XCTAssertEqual(try namespace.linkNames().map { try namespace.requireLink($0).stableFields }, before)
    }

    func testReadsAndChangesOnlyTheNamedLink() throws {
        let links = try socketInNamespace()
        XCTAssertEqual(try links.mtu(ofLinkNamed: "br0"), UInt32(NetworkNamespace.bridgeMTU))
        XCTAssertEqual(try links.interfaceIndex(named: "vB"), try namespace.index(of: "vB"))
        try namespace.ip("link", "add", "vC", "type", "veth", "peer", "name", "vD")
        let peerBefore = try namespace.requireLink("vD")

        try links.setMTU(1280, ofLinkNamed: "vC")
        try links.setEthernetAddress([0xfe, 0x00, 0x5e, 0x10, 0x00, 0x0c], ofLinkNamed: "vC")
        try links.addPort(index: try namespace.index(of: "vC"), toBridgeNamed: "br0")
        try links.setUp(linkNamed: "vC")
        let link = try namespace.requireLink("vC")
        XCTAssertEqual(link["mtu"] as? Int, 1280)
        XCTAssertEqual(link["address"] as? String, "fe:00:5e:10:00:0c")
        XCTAssertEqual(link["master"] as? String, "br0")
        XCTAssertTrue(link.flags.contains("UP"), "\(link.flags)")
        XCTAssertTrue(link.flags.contains("BROADCAST") && link.flags.contains("MULTICAST"), "IFF_UP added, other flags kept: \(link.flags)")
        // The peer only sees its carrier come up; its own settings are untouched.
        let peer = try namespace.requireLink("vD")
        for key in ["mtu", "address", "ifindex"] { XCTAssertEqual("\(peer[key] ?? "")", "\(peerBefore[key] ?? "")", key) }
        XCTAssertNil(peer["master"])
        XCTAssertFalse(peer.flags.contains("UP"))

        // SIOCBRADDIF to a link that is not a bridge is refused.
        XCTAssertThrowsError(try links.addPort(index: try namespace.index(of: "vD"), toBridgeNamed: "vB")) {
            XCTAssertEqual($0 as? Errno, .notSupported)
        }
        XCTAssertThrowsError(try links.setMTU(1280, ofLinkNamed: "nosuchlink")) { XCTAssertEqual($0 as? Errno, .noDevice) }
    }
}

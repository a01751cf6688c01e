// KernelPrimitivesTests.swift - NetFDSystem's kernel primitives for the new request kinds against
// the real kernel: macvtap by rtnetlink and /dev/tapN (with its checks), raw packet sockets,
// multiqueue taps and their owner, link dumps and notifications, many descriptors over SCM_RIGHTS,
// capabilities, fork/pidfd/pipe/poll, vhost. Every link is made inside a namespace the test creates
// and deletes (NetworkNamespace.swift); the primitives run there through `namespace.inside`, as in
// LinkIoctlsTests, or in a child forked inside it.
import CNetFD
import Foundation
import Glibc
@testable import NetFDSystem
import XCTest

final class KernelPrimitivesTests: XCTestCase {
    /// v0's and v1's fixed addresses (v0 is the lower link of macvtaps and raw sockets, v1 its peer).
    private static let lowerAddress: [UInt8] = [0x02, 0x00, 0x5e, 0x10, 0x01, 0x00]
    private static let peerAddress: [UInt8] = [0x02, 0x00, 0x5e, 0x10, 0x01, 0x01]
    private static let macvtapAddress: [UInt8] = [0x52, 0x54, 0x00, 0xab, 0xcd, 0x01]

    override func setUpWithError() throws {
        try super.setUpWithError()
        try Integration.requireRoot()
    }

    // MARK: Fixtures

    /// A namespace of this test (br0, vA, vB from the standard topology) plus a veth pair v0/v1, up.
    /// Deleted at teardown with everything in it.
    private func makeNamespace() throws -> NetworkNamespace {
        let namespace = try NetworkNamespace.withBridge(for: self)
        try namespace.ip("link", "add", "v0", "address", Self.text(Self.lowerAddress), "type", "veth",
                         "peer", "name", "v1", "address", Self.text(Self.peerAddress))
        try namespace.ip("link", "set", "v0", "up")
        try namespace.ip("link", "set", "v1", "up")
        return namespace
    }

    /// A sysfs mounted in `namespace` (sysfs shows the links of the namespace that mounted it; this
    /// process's /sys shows the host's). nsenter enters only the network namespace, so the mount is
    /// in ours. Unmounted at teardown, before the namespace goes (teardown blocks run last first).
    private func mountSysfs(in namespace: NetworkNamespace) throws -> String {
        let directory = try makeTemporaryDirectory("sysfs")
        try Command.check(["nsenter", "--net=/run/netns/\(namespace.name)", "mount", "-t", "sysfs", "sysfs", directory])
        addTeardownBlock { _ = try? Command.run(["umount", "-l", directory]) }
        return directory
    }

    /// An empty directory under /tmp, removed (with what the test put in it) at teardown.
    private func makeTemporaryDirectory(_ label: String) throws -> String {
        let path = "/tmp/netfd-itest-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))"
        guard mkdir(path, 0o700) == 0 else { throw IntegrationError("mkdir \(path): \(Errno.current)") }
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private static func text(_ address: [UInt8]) -> String {
        address.map { String(format: "%02x", $0) }.joined(separator: ":")
    }

    /// A macvtap on v0 made by RouteNetlink inside `namespace`.
    private func makeMacvtap(in namespace: NetworkNamespace, netlink: RouteNetlink, mode: MacvlanMode = .vepa,
                             address: [UInt8] = macvtapAddress) throws -> (index: Int32, name: String) {
        let lower = try XCTUnwrap(try netlink.link(named: "v0"))
        return try netlink.createMacvtap(nameTemplate: "macvtap%d", lowerIndex: lower.index, mode: mode, address: address)
    }

    /// Forks inside `namespace`; the child runs `child` (plain C calls only: the test process has
    /// other threads) and exits with what it returns. Returns the child's exit status, or -signal.
    private func runChild(in namespace: NetworkNamespace? = nil, _ child: () -> Int32) throws -> Int32 {
        func fork() throws -> Int32 {
            let pid = try ProcessControl.fork()
            if pid == 0 { _exit(child()) }
            return pid
        }
        let pid = try namespace.map { try $0.inside { try fork() } } ?? fork()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw IntegrationError("waitpid: \(Errno.current)") }
        }
        let low = status & 0x7f
        return low == 0 ? (status >> 8) & 0xff : -low
    }

    /// The number of descriptors open in this process.
    private func openDescriptorCount() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    // MARK: macvtap

    func testMacvtapCreatedByRtnetlinkIsEchoedAliasedDumpedOpenedAndDeleted() throws {
        let namespace = try makeNamespace()
        let sysfs = try mountSysfs(in: namespace)
        let netlink = try namespace.inside { try RouteNetlink() }

        // The lower link by name: index, MTU, flags and address, as a macvtap or raw request needs them.
        let lower = try XCTUnwrap(try netlink.link(named: "v0"))
        XCTAssertEqual(lower.index, try namespace.index(of: "v0"))
        XCTAssertEqual(lower.mtu, 1500)
        XCTAssertEqual(lower.address, Self.lowerAddress)
        XCTAssertEqual(lower.kind, "veth")
        XCTAssertNotEqual(lower.flags & Netlink.IFF_UP, 0)
        XCTAssertEqual(lower.lowerIndex, try namespace.index(of: "v1"), "a veth's IFLA_LINK is its peer")

        let (index, name) = try netlink.createMacvtap(nameTemplate: "macvtap%d", lowerIndex: lower.index, mode: .vepa,
                                                      address: Self.macvtapAddress)
        XCTAssertTrue(name.hasPrefix("macvtap") && name != "macvtap%d", name)
        XCTAssertEqual(index, try namespace.index(of: name), "the echo names the link the kernel made")
        let shown = try namespace.requireLink(name)
        XCTAssertEqual(shown.infoKind, "macvtap")
        XCTAssertEqual(shown.infoData["mode"] as? String, "vepa")
        XCTAssertEqual(shown["link"] as? String, "v0")
        XCTAssertEqual(shown["address"] as? String, Self.text(Self.macvtapAddress))
        XCTAssertFalse(shown.flags.contains("UP"), "created down")

        XCTAssertThrowsError(try netlink.createMacvtap(nameTemplate: name, lowerIndex: lower.index, mode: .bridge,
                                                       address: [0x52, 0x54, 0x00, 0xab, 0xcd, 0x02])) {
            XCTAssertEqual($0 as? Errno, Errno(EEXIST), "EXCL: an existing name is never reused")
        }
        XCTAssertThrowsError(try netlink.createMacvtap(nameTemplate: "macvtap%d", lowerIndex: 9999, mode: .bridge,
                                                       address: [0x52, 0x54, 0x00, 0xab, 0xcd, 0x03])) {
            XCTAssertEqual($0 as? Errno, .noDevice)
        }
        XCTAssertThrowsError(try netlink.createMacvtap(nameTemplate: "macvtap-is-too-long%d", lowerIndex: lower.index,
                                                       mode: .bridge, address: Self.macvtapAddress)) {
            XCTAssertEqual($0 as? Errno, Errno(ENAMETOOLONG))
        }

        // The alias, read back in a dump and by index; the longest the kernel keeps, and removal.
        try netlink.setAlias("netfd uid=4242", ofLinkIndex: index)
        let dumped = try XCTUnwrap(try netlink.links().first { $0.index == index })
        XCTAssertEqual(dumped.alias, "netfd uid=4242")
        XCTAssertEqual(dumped.name, name)
        XCTAssertEqual(dumped.kind, "macvtap")
        XCTAssertEqual(dumped.lowerIndex, lower.index)
        XCTAssertEqual(dumped.macvlanMode, .vepa)
        XCTAssertEqual(dumped.address, Self.macvtapAddress)
        XCTAssertNil(dumped.tunOwner)
        XCTAssertEqual(try netlink.link(index: index)?.alias, "netfd uid=4242")
        let longest = String(repeating: "a", count: RouteNetlink.maximumAliasLength)
        try netlink.setAlias(longest, ofLinkIndex: index)
        XCTAssertEqual(try netlink.link(index: index)?.alias, longest)
        XCTAssertThrowsError(try netlink.setAlias(longest + "a", ofLinkIndex: index)) { XCTAssertEqual($0 as? Errno, Errno(ERANGE)) }
        XCTAssertThrowsError(try netlink.setAlias("a\u{0}b", ofLinkIndex: index)) { XCTAssertEqual($0 as? Errno, .invalidArgument) }
        try netlink.setAlias("", ofLinkIndex: index)
        XCTAssertNil(try netlink.link(index: index)?.alias, "an empty alias removes it")
        try netlink.setAlias("netfd uid=4242", ofLinkIndex: index)

        try netlink.setUp(linkIndex: index)
        XCTAssertNotEqual(try XCTUnwrap(try netlink.link(index: index)).flags & Netlink.IFF_UP, 0)

        // The same lower link and address again: the kernel creates it, and refuses only to bring
        // it up beside the first (so (lower link, address) is unique among up macvlans only). That
        // the twin's own index comes back shows the echo at work: the fallback lookup by lower
        // link and address would find both and throw ENOTUNIQ.
        let twin = try netlink.createMacvtap(nameTemplate: "macvtap%d", lowerIndex: lower.index, mode: .bridge,
                                             address: Self.macvtapAddress)
        XCTAssertNotEqual(twin.index, index)
        XCTAssertThrowsError(try netlink.setUp(linkIndex: twin.index)) { XCTAssertEqual($0 as? Errno, Errno(EADDRINUSE)) }
        try netlink.deleteLink(index: twin.index)

        // Two queues: exactly the flags asked for (macvtap would have IFF_VNET_HDR by default).
        let plain = try MacvtapDevice.openQueue(linkName: name, index: index, vnetHeader: false, sysfsRoot: sysfs)
        defer { if plain.isOpen { plain.close() } }
        let withHeader = try MacvtapDevice.openQueue(linkName: name, index: index, vnetHeader: true, sysfsRoot: sysfs)
        let plainIdentity = try TunDevice(plain).nameAndFlags()
        XCTAssertEqual(plainIdentity.name, name)
        XCTAssertEqual(plainIdentity.flags.rawValue & (TunFlags.tap.rawValue | TunFlags.noPacketInfo.rawValue | TunFlags.vnetHeader.rawValue),
                       TunFlags.tap.rawValue | TunFlags.noPacketInfo.rawValue)
        XCTAssertTrue(try TunDevice(withHeader).nameAndFlags().flags.contains(.vnetHeader))
        XCTAssertNotEqual(netfd_descriptor_flags(plain.rawValue) & FD_CLOEXEC, 0)
        withHeader.close()

        // VEPA: a frame written into the macvtap leaves through v0 and arrives at v1 ...
        let peer = try PacketSocket(in: namespace, link: "v1")
        let outbound = EthernetFrame.make(source: Self.macvtapAddress, payload: EthernetFrame.uniquePayload("macvtap->v1"))
        try TapFrames.write(outbound, to: plain, vnetHeader: false)
        XCTAssertTrue(try peer.receive(outbound), "the frame written into the macvtap never reached v1")
        // ... and a broadcast from v1 comes out of the macvtap's one open queue.
        let inbound = EthernetFrame.make(source: Self.peerAddress, payload: EthernetFrame.uniquePayload("v1->macvtap"))
        try peer.send(inbound)
        XCTAssertTrue(try TapFrames.receive(inbound, from: plain, vnetHeader: false), "the frame from v1 never came out of the macvtap")
        plain.close()

        try netlink.deleteLink(index: index)
        XCTAssertNil(try netlink.link(index: index))
        XCTAssertNil(try namespace.link(name))
        XCTAssertThrowsError(try netlink.deleteLink(index: index)) { XCTAssertEqual($0 as? Errno, .noDevice) }
        XCTAssertEqual(try namespace.linkNames(), ["br0", "lo", "v0", "v1", "vA", "vB"])
    }

    func testMacvtapQueueIsOpenedOnlyThroughItsOwnDeviceNode() throws {
        let namespace = try makeNamespace()
        let sysfs = try mountSysfs(in: namespace)
        let netlink = try namespace.inside { try RouteNetlink() }
        let (index, name) = try makeMacvtap(in: namespace, netlink: netlink, mode: .bridge)
        let devices = try makeTemporaryDirectory("dev")
        let node = "\(devices)/tap\(index)"
        func open(_ linkName: String = name, index: Int32 = index, sysfsRoot: String = sysfs,
                  deviceDirectory: String = devices) throws(MacvtapOpenError) -> FileDescriptor {
            try MacvtapDevice.openQueue(linkName: linkName, index: index, vnetHeader: true, sysfsRoot: sysfsRoot,
                                        deviceDirectory: deviceDirectory)
        }
        func assertRefused(_ expected: MacvtapOpenError, _ body: () throws(MacvtapOpenError) -> FileDescriptor,
                           file: StaticString = #filePath, line: UInt = #line) {
            do {
                let descriptor = try body()
                descriptor.close()
                XCTFail("opened; expected \(expected)", file: file, line: line)
            } catch {
                XCTAssertEqual(error, expected, file: file, line: line)
                XCTAssertFalse(error.description.isEmpty || error.description.contains("\n"), file: file, line: line)
            }
        }
        let before = try openDescriptorCount()

        assertRefused(.noDeviceNode(node)) { () throws(MacvtapOpenError) in try open() }
        // The device number sysfs gives for this macvtap, and nodes that are not it.
        let number = try String(contentsOfFile: "\(sysfs)/class/net/\(name)/macvtap/tap\(index)/dev", encoding: .utf8)
        let parts = number.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":").compactMap { UInt32($0) }
        XCTAssertEqual(parts.count, 2, number)
        let rdev = dev_t(netfd_make_device(parts[0], parts[1]))
        XCTAssertEqual(MacvtapDevice.parseDeviceNumber(Array(number.utf8)), UInt64(rdev))
        XCTAssertEqual(mknod(node, S_IFCHR | 0o600, dev_t(netfd_make_device(1, 3))), 0, "mknod: \(Errno.current)")   // /dev/null's
        assertRefused(.foreignDeviceNode(node)) { () throws(MacvtapOpenError) in try open() }
        XCTAssertEqual(unlink(node), 0)
        XCTAssertEqual(mknod(node, S_IFCHR | 0o600, dev_t(netfd_make_device(parts[0], parts[1] + 1))), 0)   // the next macvtap's
        assertRefused(.foreignDeviceNode(node)) { () throws(MacvtapOpenError) in try open() }
        XCTAssertEqual(unlink(node), 0)
        XCTAssertTrue(FileManager.default.createFile(atPath: node, contents: Data()))
        assertRefused(.foreignDeviceNode(node)) { () throws(MacvtapOpenError) in try open() }
        XCTAssertEqual(unlink(node), 0)
        XCTAssertEqual(mknod("\(devices)/real", S_IFCHR | 0o600, rdev), 0)
        XCTAssertEqual(symlink("\(devices)/real", node), 0)
        assertRefused(.foreignDeviceNode(node)) { () throws(MacvtapOpenError) in try open() }   // never followed
        XCTAssertEqual(unlink(node), 0)

        // sysfs that names another index for the name, or does not know the name.
        assertRefused(.sysfsShowsAnotherLink) { () throws(MacvtapOpenError) in try open(index: index + 1000) }
        assertRefused(.kernel(step: "read /sys/class/net/\(name)/ifindex", .notFound)) { () throws(MacvtapOpenError) in
            try open(sysfsRoot: "/sys")   // the host's sysfs: no such link there
        }
        for bad in ["", ".", "..", "../v0", "a/b", String(repeating: "m", count: 16)] {
            assertRefused(.kernel(step: "check the link name", .invalidArgument)) { () throws(MacvtapOpenError) in try open(bad) }
        }
        XCTAssertEqual(try openDescriptorCount(), before, "no refusal leaves a descriptor open")

        // The right device number opens, wherever the node is.
        XCTAssertEqual(mknod(node, S_IFCHR | 0o600, rdev), 0)
        let queue = try open()
        XCTAssertEqual(try TunDevice(queue).nameAndFlags().name, name)
        queue.close()

        // Without CAP_DAC_OVERRIDE the root-only node is refused with EACCES, named as the open step.
        XCTAssertEqual(chmod(devices, 0o755), 0)
        let status = try runChild {
            guard setgroups(0, nil) == 0, setgid(4242) == 0, setuid(4242) == 0 else { return 10 }
            do throws(MacvtapOpenError) {
                let descriptor = try MacvtapDevice.openQueue(linkName: name, index: index, vnetHeader: true,
                                                             sysfsRoot: sysfs, deviceDirectory: devices)
                descriptor.close()
                return 11
            } catch {
                guard case .kernel(let step, let errno) = error else { return 13 }
                return step == "open \(node)" && errno == .permissionDenied ? 0 : 12
            }
        }
        XCTAssertEqual(status, 0, "10: setuid failed, 11: opened, 12: other step or errno, 13: other error")
    }

    // MARK: Raw packet sockets

    func testRawPacketSocketHearsOnlyItsLinkAndSendsOnIt() throws {
        let namespace = try makeNamespace()
        let v0 = try namespace.index(of: "v0")
        let raw = try namespace.inside {
            try RawPacketSocket.open(linkIndex: v0, ethernetProtocol: experimentalEtherType, vnetHeader: false, promiscuous: true)
        }
        defer { if raw.isOpen { raw.close() } }
        XCTAssertNotEqual(netfd_descriptor_flags(raw.rawValue) & FD_CLOEXEC, 0)
        XCTAssertEqual(try namespace.requireLink("v0")["promiscuity"] as? Int, 1, "PACKET_MR_PROMISC")

        // A frame on vB (another veth pair) must not show up; the one from v1 must.
        let elsewhere = try PacketSocket(in: namespace, link: "vB")
        let peer = try PacketSocket(in: namespace, link: "v1")
        let stray = EthernetFrame.make(source: [0x02, 0, 0, 0, 0, 0x0b], payload: EthernetFrame.uniquePayload("vB->vA"))
        let wanted = EthernetFrame.make(source: Self.peerAddress, payload: EthernetFrame.uniquePayload("v1->v0"))
        try elsewhere.send(stray)
        try peer.send(wanted)
        var frames: [[UInt8]] = []
        let deadline = Date().addingTimeInterval(5)
        while !frames.contains(wanted), Date() < deadline {
            if try Poll.wait([raw], timeoutMilliseconds: 200) == [true] { frames.append(try raw.read(upTo: 65536)) }
        }
        XCTAssertTrue(frames.contains(wanted), "the frame from v1 never reached the raw socket on v0")
        XCTAssertFalse(frames.contains(stray), "a frame of another link reached the raw socket")

        let outbound = EthernetFrame.make(source: Self.lowerAddress, payload: EthernetFrame.uniquePayload("raw->v1"))
        try TapFrames.write(outbound, to: raw, vnetHeader: false)
        XCTAssertTrue(try peer.receive(outbound), "the frame sent on the raw socket never reached v1")
        raw.close()
        XCTAssertEqual(try namespace.requireLink("v0")["promiscuity"] as? Int, 0, "the membership ends with the socket")

        // ETH_P_ALL with virtio_net_hdr: every frame read or written has the 10-byte header first.
        let withHeader = try namespace.inside {
            try RawPacketSocket.open(linkIndex: v0, ethernetProtocol: RawPacketSocket.allProtocols, vnetHeader: true, promiscuous: false)
        }
        defer { withHeader.close() }
        XCTAssertEqual(try namespace.requireLink("v0")["promiscuity"] as? Int, 0)
        let inbound = EthernetFrame.make(source: Self.peerAddress, payload: EthernetFrame.uniquePayload("v1->v0 vnet"))
        try peer.send(inbound)
        XCTAssertTrue(try TapFrames.receive(inbound, from: withHeader, vnetHeader: true))
        let headed = EthernetFrame.make(source: Self.lowerAddress, payload: EthernetFrame.uniquePayload("raw vnet->v1"))
        try TapFrames.write(headed, to: withHeader, vnetHeader: true)
        XCTAssertTrue(try peer.receive(headed))

        XCTAssertThrowsError(try RawPacketSocket.open(linkIndex: 0, ethernetProtocol: 3, vnetHeader: false, promiscuous: false)) {
            XCTAssertEqual($0 as? Errno, .invalidArgument)
        }
        XCTAssertThrowsError(try namespace.inside {
            try RawPacketSocket.open(linkIndex: 9999, ethernetProtocol: 3, vnetHeader: false, promiscuous: false)
        }) { XCTAssertEqual($0 as? Errno, .noDevice) }
    }

    // MARK: Multiqueue taps

    func testMultiqueueTapTakesFourQueuesByExactNameAndOnlyItsOwner() throws {
        let namespace = try makeNamespace()
        let netlink = try namespace.inside { try RouteNetlink() }
        let flags: TunFlags = [.tap, .noPacketInfo, .multiQueue]
        let first = try namespace.inside { try TunDevice.openClone() }
        var queues = [first.descriptor]
        defer { for queue in queues where queue.isOpen { queue.close() } }
        let name = try first.attach(nameTemplate: "mq%d", flags: flags)
        for _ in 1..<4 {
            let device = try namespace.inside { try TunDevice.openClone() }
            queues.append(device.descriptor)
            XCTAssertEqual(try device.attach(nameTemplate: name, flags: flags), name)
        }
        XCTAssertEqual(try namespace.requireLink(name).infoData["numqueues"] as? Int, 4)
        // A queue without IFF_MULTI_QUEUE is refused by a multiqueue tap.
        let single = try namespace.inside { try TunDevice.openClone() }
        XCTAssertThrowsError(try single.attach(nameTemplate: name, flags: [.tap, .noPacketInfo])) {
            XCTAssertEqual($0 as? Errno, .invalidArgument)
        }
        single.descriptor.close()

        try first.restrict(toUser: 4242, group: 4243)
        let tap = try XCTUnwrap(try netlink.links().first { $0.name == name })
        XCTAssertEqual(tap.kind, "tun")
        XCTAssertEqual(tap.tunOwner, 4242)
        XCTAssertEqual(tap.tunGroup, 4243)
        XCTAssertEqual(tap.tunType, UInt8(NETFD_IFF_TAP))
        XCTAssertEqual(try netlink.link(index: tap.index)?.tunOwner, 4242)

        // Another user cannot attach a queue; the owner (in the group) can. The clone device is opened
        // while still root (it is root's 0600 here), the identity dropped before TUNSETIFF.
        func attachAs(uid: UInt32, gid: UInt32) throws -> Int32 {
            try runChild(in: namespace) {
                let clone = netfd_open(TunDevice.clonePath, O_RDWR | O_CLOEXEC, 0)
                guard clone >= 0, setgroups(0, nil) == 0, setgid(gid) == 0, setuid(uid) == 0 else { return 10 }
                do throws(Errno) {
                    _ = try TunDevice(FileDescriptor(rawValue: clone)).attach(nameTemplate: name, flags: flags)
                    return 0
                } catch {
                    return error == .notPermitted ? 1 : 12
                }
            }
        }
        XCTAssertEqual(try attachAs(uid: 4244, gid: 4243), 1, "another uid must get EPERM (0: attached, 10: setup, 12: other errno)")
        XCTAssertEqual(try attachAs(uid: 4242, gid: 4244), 1, "owner set, group set: both must match")
        XCTAssertEqual(try attachAs(uid: 4242, gid: 4243), 0, "the owner attaches (1: EPERM, 10: setup, 12: other errno)")

        for queue in queues { queue.close() }
        XCTAssertTrue(try namespace.waitUntilGone(name), "a tap that is not persistent goes with its last queue")
    }

    // MARK: Link dumps and notifications

    func testLinkDumpSpanningManyDatagramsListsEveryLink() throws {
        let namespace = try makeNamespace()
        let batch = (0..<120).map { "link add d\($0) type veth peer name e\($0)" }.joined(separator: "\n") + "\n"
        let script = "/tmp/netfd-itest-batch-\(getpid())"
        try batch.write(toFile: script, atomically: true, encoding: .utf8)
        defer { unlink(script) }
        try Command.check(["ip", "-n", namespace.name, "-batch", script])
        let netlink = try namespace.inside { try RouteNetlink() }
        let links = try netlink.links()
        XCTAssertEqual(links.compactMap(\.name).sorted(), try namespace.linkNames())
        XCTAssertEqual(links.count, 246)
        XCTAssertEqual(Set(links.map(\.index)).count, links.count)
        XCTAssertEqual(links.map(\.index), links.map(\.index).sorted(), "the kernel dumps by index")
        let e7 = try XCTUnwrap(links.first { $0.name == "e7" })
        XCTAssertEqual(e7.lowerIndex, try namespace.index(of: "d7"))
        XCTAssertNil(try netlink.link(index: 99999))
    }

    func testLinkEventsReportDeletionsButNotBridgePortChanges() throws {
        let namespace = try makeNamespace()
        let events = try namespace.inside { try LinkEvents() }
        XCTAssertEqual(try events.drain(), [])
        try namespace.ip("link", "add", "e0", "type", "veth", "peer", "name", "e1")
        let e0 = try namespace.index(of: "e0"), e1 = try namespace.index(of: "e1")
        try namespace.ip("link", "set", "vA", "nomaster")   // AF_BRIDGE RTM_DELLINK for vA: not a deletion
        try namespace.ip("link", "del", "e0")

        var seen: [LinkEvent] = []
        let deadline = Date().addingTimeInterval(5)
        while !seen.contains(where: { $0.deleted && $0.index == e1 }), Date() < deadline {
            _ = try Poll.wait([events.descriptor], timeoutMilliseconds: 200)
            seen += try events.drain()
        }
        XCTAssertTrue(seen.contains(LinkEvent(deleted: false, index: e0, name: "e0")), "\(seen)")
        XCTAssertTrue(seen.contains(LinkEvent(deleted: true, index: e0, name: "e0")), "\(seen)")
        XCTAssertTrue(seen.contains(LinkEvent(deleted: true, index: e1, name: "e1")), "\(seen)")
        XCTAssertTrue(seen.contains { $0.name == "vA" && !$0.deleted }, "vA left the bridge: a change, \(seen)")
        XCTAssertFalse(seen.contains { $0.name == "vA" && $0.deleted }, "vA still exists: \(seen)")

        // A full buffer: the kernel drops notifications and says so once, as ENOBUFS; then reading goes on.
        var small: Int32 = 1   // the kernel rounds up to its minimum
        XCTAssertEqual(setsockopt(events.descriptor.rawValue, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size)), 0)
        let batch = (0..<40).map { "link add f\($0) type veth peer name g\($0)" }.joined(separator: "\n") + "\n"
        let script = "/tmp/netfd-itest-events-\(getpid())"
        try batch.write(toFile: script, atomically: true, encoding: .utf8)
        defer { unlink(script) }
        try Command.check(["ip", "-n", namespace.name, "-batch", script])
        XCTAssertThrowsError(try events.drain()) { XCTAssertEqual($0 as? Errno, .noBufferSpace) }
        _ = try events.drain()
        var large: Int32 = 1 << 20
        XCTAssertEqual(setsockopt(events.descriptor.rawValue, SOL_SOCKET, SO_RCVBUF, &large, socklen_t(MemoryLayout<Int32>.size)), 0)
        try namespace.ip("link", "del", "f0")
        var later: [LinkEvent] = []
        while !later.contains(where: { $0.deleted && $0.name == "f0" }), try Poll.wait([events.descriptor], timeoutMilliseconds: 5000) == [true] {
            later += try events.drain()
        }
        XCTAssertTrue(later.contains { $0.deleted && $0.name == "f0" }, "\(later)")
    }

    // MARK: Descriptors over SCM_RIGHTS

    func testManyDescriptorsTravelWithTheirMessageInOneCall() throws {
        let (sender, receiver) = try UnixSocket.pair()
        defer { sender.close(); receiver.close() }
        var pipes: [(read: FileDescriptor, write: FileDescriptor)] = []
        defer { for pipe in pipes { pipe.read.close(); pipe.write.close() } }
        for _ in 0..<5 { pipes.append(try Pipe.make()) }
        let message = (0..<4096).map { UInt8(truncatingIfNeeded: $0 * 7) }

        try sender.send(pipes.map(\.write), message: message)
        let received = try receiver.receiveMessage(maxDescriptors: 5, maxBytes: 8192)
        defer { for descriptor in received.descriptors { descriptor.close() } }
        XCTAssertEqual(received.bytes, message)
        XCTAssertEqual(received.descriptors.count, 5)
        for (pipe, descriptor) in zip(pipes, received.descriptors) {
            XCTAssertEqual(try descriptor.status().inode, try pipe.write.status().inode, "in the order sent")
            XCTAssertNotEqual(netfd_descriptor_flags(descriptor.rawValue) & FD_CLOEXEC, 0, "MSG_CMSG_CLOEXEC")
        }
        try received.descriptors[3].writeAll([0x2a])
        XCTAssertEqual(try pipes[3].read.read(upTo: 1), [0x2a])

        // More descriptors than the receiver takes: all of them closed, EBADMSG.
        let before = try openDescriptorCount()
        try sender.send(pipes.map(\.write), message: [1])
        XCTAssertThrowsError(try receiver.receiveMessage(maxDescriptors: 4, maxBytes: 16)) { XCTAssertEqual($0 as? Errno, .badMessage) }
        XCTAssertEqual(try openDescriptorCount(), before, "the refused descriptors were closed")

        // A message alone; the most descriptors one call can carry; limits checked before sending.
        try sender.send([], message: Array("no descriptors".utf8))
        let alone = try receiver.receiveMessage(maxDescriptors: 253, maxBytes: 64)
        XCTAssertEqual(alone.bytes, Array("no descriptors".utf8))
        XCTAssertEqual(alone.descriptors, [])
        let many = [FileDescriptor](repeating: pipes[0].write, count: UnixSocket.maximumDescriptors)
        try sender.send(many, message: [2])
        let all = try receiver.receiveMessage(maxDescriptors: 253, maxBytes: 1)
        XCTAssertEqual(all.descriptors.count, 253)
        for descriptor in all.descriptors { descriptor.close() }
        for (descriptors, bytes) in [(many + [pipes[0].write], [UInt8(3)]), ([], []), ([], [UInt8](repeating: 0, count: 4097))] {
            XCTAssertThrowsError(try sender.send(descriptors, message: bytes)) { XCTAssertEqual($0 as? Errno, .invalidArgument) }
        }
        XCTAssertThrowsError(try receiver.receiveMessage(maxDescriptors: 254, maxBytes: 1)) { XCTAssertEqual($0 as? Errno, .invalidArgument) }

        // The QEMU path on the same socket: one byte, one descriptor.
        try sender.send(pipes[1].write, byte: 0)
        let one = try XCTUnwrap(try receiver.receive())
        XCTAssertEqual(one.byte, 0)
        XCTAssertEqual(try one.descriptor?.status().inode, try pipes[1].write.status().inode)
        one.descriptor?.close()

        let credentials = try receiver.peerCredentials()
        XCTAssertEqual(credentials.pid, getpid())
        XCTAssertEqual(credentials.uid, getuid())
        XCTAssertEqual(credentials.gid, getgid())

        sender.close()
        let end = try receiver.receiveMessage(maxDescriptors: 5, maxBytes: 16)
        XCTAssertEqual(end.bytes, [])
        XCTAssertEqual(end.descriptors, [])
    }

    // MARK: Capabilities

    func testSetCapabilitiesOnlyLowers() throws {
        let status = try runChild {
            do throws(Errno) {
                try Confinement.setCapabilities(effective: .netAdmin, permitted: [.netAdmin, .netRaw, .dacOverride])
                let now = try Confinement.currentCapabilities()
                guard now.effective == .netAdmin, now.permitted == [.netAdmin, .netRaw, .dacOverride] else { return 10 }
                guard Confinement.has(.netAdmin), !Confinement.has(.netRaw) else { return 11 }
                // Raising effective within permitted is allowed (that is what permitted is for).
                try Confinement.setCapabilities(effective: [.netAdmin, .dacOverride], permitted: [.netAdmin, .dacOverride])
            } catch {
                return 12
            }
            // NET_RAW left permitted: it cannot come back, and nothing changes when that is asked.
            do throws(Errno) {
                try Confinement.setCapabilities(effective: .netAdmin, permitted: [.netAdmin, .netRaw])
                return 13
            } catch {
                guard error == .notPermitted else { return 14 }
            }
            // Effective must stay within permitted.
            do throws(Errno) {
                try Confinement.setCapabilities(effective: [.netAdmin, .dacOverride], permitted: .netAdmin)
                return 15
            } catch {
                guard error == .notPermitted else { return 16 }
            }
            guard let now = try? Confinement.currentCapabilities(),
                  now.effective == [.netAdmin, .dacOverride], now.permitted == [.netAdmin, .dacOverride] else { return 17 }
            guard (try? Confinement.setCapabilities(effective: [], permitted: [])) != nil,
                  let none = try? Confinement.currentCapabilities(), none.effective.isEmpty, none.permitted.isEmpty else { return 18 }
            return 0
        }
        XCTAssertEqual(status, 0, "see the return codes in the child")
        XCTAssertEqual(Capability.dacOverride.name, "CAP_DAC_OVERRIDE")
        XCTAssertEqual(CapabilitySet.dacOverride.rawValue, 1 << 1)
    }

    // MARK: Processes, pipes, poll

    func testForkedChildIsReachedByPidDescriptorAndPolled() throws {
        let held = try Pipe.make()           // the child keeps held.write; the test reads held.read
        let release = try Pipe.make()        // the child waits for release.write to close
        defer { held.read.close(); held.write.close(); release.read.close(); if release.write.isOpen { release.write.close() } }
        let pid = try ProcessControl.fork()
        if pid == 0 {
            release.write.close()
            guard (try? ProcessControl.newSession()) == getpid(), getsid(0) == getpid() else { _exit(2) }
            var byte: UInt8 = 0
            while Glibc.read(release.read.rawValue, &byte, 1) < 0 && errno == EINTR {}
            _exit(0)
        }
        var reaped = false
        defer { if !reaped { kill(pid, SIGKILL); var status: Int32 = 0; waitpid(pid, &status, 0) } }
        let pidDescriptor = try ProcessControl.openPidDescriptor(pid)
        defer { pidDescriptor.close() }
        XCTAssertNotEqual(netfd_descriptor_flags(pidDescriptor.rawValue) & FD_CLOEXEC, 0)
        XCTAssertEqual(try Poll.wait([pidDescriptor, held.read], timeoutMilliseconds: 0), [false, false])

        // The child's copy of held.write, taken from it, is the same pipe.
        let copy = try ProcessControl.duplicateDescriptor(held.write.rawValue, fromPidDescriptor: pidDescriptor)
        XCTAssertNotEqual(netfd_descriptor_flags(copy.rawValue) & FD_CLOEXEC, 0)
        try copy.writeAll([0x17])
        copy.close()
        XCTAssertEqual(try Poll.wait([pidDescriptor, held.read], timeoutMilliseconds: 1000), [false, true])
        XCTAssertEqual(try held.read.read(upTo: 1), [0x17])
        XCTAssertThrowsError(try ProcessControl.duplicateDescriptor(9999, fromPidDescriptor: pidDescriptor)) {
            XCTAssertEqual($0 as? Errno, .badDescriptor)
        }

        // Its end makes the pidfd readable.
        release.write.close()
        XCTAssertEqual(try Poll.wait([held.read, pidDescriptor], timeoutMilliseconds: 5000), [false, true])
        var status: Int32 = 0
        XCTAssertEqual(waitpid(pid, &status, 0), pid)
        reaped = true
        XCTAssertEqual(status, 0, "2: newSession did not make the child a session leader")
        XCTAssertThrowsError(try ProcessControl.openPidDescriptor(pid)) { XCTAssertEqual($0 as? Errno, Errno(ESRCH)) }
        XCTAssertThrowsError(try ProcessControl.newSession()) { XCTAssertEqual($0 as? Errno, .notPermitted, "the test process leads its group") }
    }

    func testPollReportsEachDescriptorReadableOrHungUp() throws {
        let first = try Pipe.make(), second = try Pipe.make()
        defer { first.read.close(); second.read.close(); second.write.close() }
        XCTAssertNotEqual(netfd_descriptor_flags(first.read.rawValue) & FD_CLOEXEC, 0)
        XCTAssertNotEqual(netfd_descriptor_flags(first.write.rawValue) & FD_CLOEXEC, 0)
        XCTAssertEqual(try Poll.wait([first.read, second.read], timeoutMilliseconds: 0), [false, false])
        let start = Date()
        XCTAssertEqual(try Poll.wait([first.read], timeoutMilliseconds: 100), [false])
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.09)
        try second.write.writeAll([1])
        XCTAssertEqual(try Poll.wait([first.read, second.read], timeoutMilliseconds: -1), [false, true])
        first.write.close()
        XCTAssertEqual(try Poll.wait([first.read, second.read], timeoutMilliseconds: -1), [true, true], "hung up counts")
        XCTAssertEqual(try Poll.wait([], timeoutMilliseconds: 0), [])
        let notOpen = FileDescriptor(rawValue: 9999)
        XCTAssertThrowsError(try Poll.wait([first.read, notOpen], timeoutMilliseconds: 0)) { XCTAssertEqual($0 as? Errno, .badDescriptor) }
    }

    // MARK: vhost

    func testVhostDeviceOpensCharacterDevicesOnly() throws {
        // This kernel may have no vhost_net; /dev/null stands in for a character device.
        let device = try VhostDevice.open(path: "/dev/null")
        XCTAssertEqual(try device.status().kind, .characterDevice)
        XCTAssertNotEqual(netfd_descriptor_flags(device.rawValue) & FD_CLOEXEC, 0)
        device.close()
        let directory = try makeTemporaryDirectory("vhost")
        let before = try openDescriptorCount()
        XCTAssertTrue(FileManager.default.createFile(atPath: "\(directory)/file", contents: Data([1])))
        XCTAssertThrowsError(try VhostDevice.open(path: "\(directory)/file")) { XCTAssertEqual($0 as? Errno, .noDevice) }
        XCTAssertThrowsError(try VhostDevice.open(path: "\(directory)/missing")) { XCTAssertEqual($0 as? Errno, .notFound) }
        XCTAssertThrowsError(try VhostDevice.open(path: directory)) { XCTAssertEqual($0 as? Errno, Errno(EISDIR)) }
        XCTAssertEqual(try openDescriptorCount(), before)
    }

    // MARK: Parsing

    func testSysfsNumbersParseStrictly() {
        XCTAssertEqual(MacvtapDevice.parseDecimal(Array("7\n".utf8)), 7)
        XCTAssertEqual(MacvtapDevice.parseDecimal(Array("4294967295".utf8)), 4_294_967_295)
        for bad in ["", "\n", "-1", "+1", " 7", "7 ", "0x7", "12345678901", "7\n\n"] {
            XCTAssertNil(MacvtapDevice.parseDecimal(Array(bad.utf8)), bad)
        }
        XCTAssertEqual(MacvtapDevice.parseDeviceNumber(Array("246:1\n".utf8)), UInt64(netfd_make_device(246, 1)))
        XCTAssertEqual(MacvtapDevice.parseDeviceNumber(Array("4095:1048575\n".utf8)), UInt64(netfd_make_device(4095, 1_048_575)))
        for bad in ["246", "246:", ":1", "246:1:2", "a:b", "246 :1"] {
            XCTAssertNil(MacvtapDevice.parseDeviceNumber(Array(bad.utf8)), bad)
        }
    }
}
